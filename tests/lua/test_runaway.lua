-- test_runaway.lua — runaway tasks: one that never awaits can still be
-- aborted; one that eats memory hits its limit, not the process's.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- a busy loop that never awaits, stopped by abort() from another task
local spinning = rt.sync.Semaphore.new(0)
local loop = rt.task.Builder.new():name("runaway"):spawn(function(s)
  s:add_permits(1)
  local n = 0
  while true do n = n + 1 end
end, spinning)
spinning:acquire():release()
loop:abort()
local ok, err = pcall(loop.await, loop)
check(not ok and err:is_cancelled(), tostring(err))
-- the worker it held is free again: other tasks run
check(rt.spawn(function() return "still here" end):await() == "still here")

-- a loop inside a coroutine the task made is stopped too
local inner = rt.spawn(function()
  local co = coroutine.wrap(function() while true do end end)
  co()
end)
rt.time.sleep(20)
inner:abort()
check(not pcall(inner.await, inner))

-- a memory limit: the task fails with Lua's memory error, the process goes on
local hog = rt.task.Builder.new():name("hog"):memory_limit(4):spawn(function()
  local t = {}
  for i = 1, 1e8 do t[i] = ("x"):rep(100) .. i end
end)
local ok2, err2 = pcall(hog.await, hog)
check(not ok2 and err2:is_panic() and tostring(err2):find("not enough memory", 1, true), tostring(err2))
check(rt.spawn(function() return 1 + 1 end):await() == 2)
local ok3, err3 = pcall(function() rt.task.Builder.new():memory_limit(-1) end)
check(not ok3 and err3:find("size in MiB", 1, true), err3)

-- a runtime shutting down stops its runaway tasks instead of hanging
local r = rt.runtime.Builder.new_multi_thread():worker_threads(1):build()
local started = rt.sync.Semaphore.new(0)
r:spawn(function(s) s:add_permits(1); while true do end end, started)
started:acquire():release()
local report = r:shutdown_timeout(5000)
check(report.tasks_cancelled == 1, "cancelled " .. report.tasks_cancelled)
print("test_runaway: ok")
