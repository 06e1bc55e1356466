-- test_runtime.lua — building runtimes, block_on, the nested-runtime error,
-- handles.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- a current-thread runtime: block_on drives its tasks on this thread
local ct = rt.runtime.Builder.new_current_thread():enable_all():build()
local a, b = ct:block_on(function(x)
  local h = rt.spawn(function() rt.time.sleep(1); return 10 end) -- spawns on ct
  return x + h:await(), rt.runtime.Handle.current():metrics().num_workers
end, 5)
check(a == 15 and b == 1, "current-thread block_on " .. tostring(a) .. " " .. tostring(b))
check(tostring(ct):find("current%-thread"), tostring(ct))

-- a multi-thread runtime with 3 workers
local mt = rt.runtime.Builder.new_multi_thread():worker_threads(3):enable_time():thread_name("lab"):build()
check(mt:metrics().num_workers == 3)
local h = mt:spawn(function() return "on mt" end)
check(mt:block_on(function() return h:await() end) == "on mt")

-- block_on inside a task: Tokio's nested-runtime error, word for word
local nested = rt.spawn(function(r) return r:block_on(function() return 1 end) end, mt:handle())
local ok, err = pcall(nested.await, nested)
check(not ok and tostring(err):find("Cannot start a runtime from within a runtime", 1, true), tostring(err))

-- timers disabled: a clear error
local notime = rt.runtime.Builder.new_multi_thread():worker_threads(1):build()
local ok2, err2 = pcall(notime.block_on, notime, function() rt.time.sleep(1) end)
check(not ok2 and tostring(err2):find("timers are disabled", 1, true), tostring(err2))

-- Handle.current: inside a task its runtime; at the top level the default one
check(rt.runtime.Handle.current():metrics().num_workers == rt.runtime.default():metrics().num_workers)
local report = mt:shutdown_timeout(1000)
check(report.tasks_cancelled >= 0)
local ok3, err3 = pcall(rt.runtime.Builder.new_multi_thread().worker_threads, rt.runtime.Builder.new_multi_thread(), 0)
check(not ok3 and err3:find("must be between 1 and 1024", 1, true), err3)
print("test_runtime: ok")

-- spawn_blocking: a Lua function on the blocking pool; errors are panics
local bh = rt.task.spawn_blocking(function(ms) std.thread.sleep(ms); return "slept", ms end, 5)
local what, ms = bh:await()
assert(what == "slept" and ms == 5)
local bad = rt.task.spawn_blocking(function() error("blocking boom") end)
local okb, eb = pcall(bad.await, bad)
assert(not okb and eb:is_panic() and tostring(eb):find("blocking boom", 1, true), tostring(eb))
-- block_in_place inside a task
local bip = rt.spawn(function() return rt.task.block_in_place(function(x) std.thread.sleep(2); return x * 2 end, 21) end)
assert(bip:await() == 42)
print("test_runtime: blocking ok")
