-- test_tasks.lua — Lua functions run as tasks on the runtime's workers.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- results come back; arguments arrive
local h = rt.spawn(function(a, b) return a + b, a .. b end, 2, 3)
local sum, cat = h:await()
check(sum == 5 and cat == "23", "results")
check(h:is_finished())
check(type(h:id()) == "number")

-- a task panics: isolated, and the awaiter gets a JoinError
local bad = rt.task.Builder.new():name("boom"):spawn(function() error("kaput") end)
local ok, err = pcall(bad.await, bad)
check(not ok and type(err) == "table", "JoinError raised")
check(err:is_panic() and not err:is_cancelled())
check(tostring(err):find('task %d+ "boom" panicked: .*kaput'), tostring(err))

-- awaited twice: a clear error
local once = rt.spawn(function() return 1 end)
once:await()
local ok2, e2 = pcall(once.await, once)
check(not ok2 and tostring(e2):find("already awaited"), tostring(e2))

-- abort: the awaiter sees a cancellation
local forever = rt.spawn(function() rt.time.sleep(60000) end)
forever:abort()
local ok3, e3 = pcall(forever.await, forever)
check(not ok3 and e3:is_cancelled(), tostring(e3))

-- many tasks in parallel, sleeping and yielding, spread over the workers
local hs = {}
for i = 1, 500 do
  hs[i] = rt.spawn(function(n)
    for _ = 1, 3 do rt.time.sleep(1); rt.task.yield_now() end
    return n * n
  end, i)
end
local total = 0
for i = 1, #hs do total = total + hs[i]:await() end
check(total == 500 * 501 * 1001 // 6, "sum of squares " .. total)

-- a task's globals are its own: they do not leak into other tasks
rt.spawn(function() leaked_global = 42 end):await()
local seen = rt.spawn(function() return leaked_global end):await()
check(seen == nil, "globals leak between tasks")

-- globals the task's code names are copied in (a snapshot at spawn), helper
-- functions and shared handles included; standard ones are the task's own
shared_counter = rt.sync.Mutex.new(0)
step = 5
function bump(g) g.value = g.value + step end
rt.spawn(function()
  local g = shared_counter:lock(); bump(g); g:unlock()
  step = 100 -- the task's own copy: the caller's step stays 5
end):await()
check(shared_counter:lock().value == 5 and step == 5, "globals in tasks")
co_global = coroutine.create(print) -- cannot move: left out, the task sees nil
check(rt.spawn(function() return co_global end):await() == nil)

-- tasks spawn tasks, and await them
local nested = rt.spawn(function()
  local inner = rt.spawn(function() return rt.task.id() end)
  return inner:await(), rt.task.id()
end)
local inner_id, outer_id = nested:await()
check(inner_id ~= outer_id and inner_id > 0)

-- a coroutine at a task's top level is refused clearly
local y = rt.spawn(function() coroutine.yield() end)
local ok4, e4 = pcall(y.await, y)
check(not ok4 and tostring(e4):find("yield_now"), tostring(e4))
print("test_tasks: ok")
