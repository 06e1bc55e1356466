-- test_local_set.lua — rt.runtime.LocalSet and rt.task.spawn_local: local
-- tasks run in the Lua state of the code that drives the set.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end

-- top level: local tasks share upvalues (no copy) and may hold coroutines
local ls = rt.runtime.LocalSet.new()
local hits, log = 0, {}
local co = coroutine.wrap(function() coroutine.yield("first"); return "second" end)
local a, b, c = ls:run_until(function(x)
  local hs = {}
  for i = 1, 5 do
    hs[i] = rt.task.spawn_local(function()
      rt.time.sleep(6 - i)
      hits = hits + 1
      log[#log + 1] = i
      return i * 10
    end)
  end
  local sum = 0
  for i = 1, 5 do sum = sum + hs[i]:await() end
  local h = rt.task.spawn_local(function() return co() .. "+" .. co() end)
  return x, sum, h:await()
end, "arg")
check(a == "arg" and b == 150 and c == "first+second", tostring(c))
check(hits == 5 and #log == 5, "shared upvalues: " .. hits)
check(ls:len() == 0 and tostring(ls) == "LocalSet (0 local tasks)", tostring(ls))

-- ls:spawn_local queues; ls:await() runs until the set is empty
local h = ls:spawn_local(function() rt.time.sleep(2); hits = hits + 100; return "queued" end)
check(ls:len() == 1 and not h:is_finished())
ls:await()
check(hits == 105 and ls:len() == 0 and h:await() == "queued")
ls:await() -- empty: returns at once

-- a local task's handle can be awaited from an ordinary task (results are copied)
local lh
ls:run_until(function() lh = rt.task.spawn_local(function() rt.time.sleep(1); return {v = 7} end) end)
local waiter = rt.spawn(function(hh) return hh:await().v end, lh)
ls:await()
check(waiter:await() == 7)

-- panics, errors, cancellation
local ok, e = pcall(ls.run_until, ls, function() return rt.task.spawn_local(function() error("boom") end):await() end)
check(not ok and e:is_panic() and tostring(e):find("boom"), tostring(e))
fails("body fails", ls.run_until, ls, function() error("body fails") end)
local m = rt.sync.Mutex.new(0)
local ok2, msg2, locked = ls:run_until(function()
  local hh = rt.task.spawn_local(function() local g = m:lock(); rt.time.sleep(60000) end)
  while not m:is_locked() do rt.task.yield_now() end
  hh:abort()
  local okk, err = pcall(hh.await, hh)
  return okk, tostring(err), m:is_locked()
end)
check(not ok2 and msg2:find("was cancelled") and not locked, "the aborted task released its guard")
-- rt.time.timeout cancels a run_until (its function is dropped, the set stays)
check(select(2, rt.time.timeout(5, function() return ls:run_until(function() rt.time.sleep(60000) end) end)) == "elapsed")
check(ls:run_until(function() return "still usable" end) == "still usable")

-- dropping the set cancels its tasks (to-be-closed variables run; they
-- cannot await)
local closed, close_err = false, nil
local cm = rt.sync.Mutex.new(0)
do
  local l2 = rt.runtime.LocalSet.new()
  l2:run_until(function()
    rt.task.spawn_local(function()
      local x <close> = setmetatable({}, {__close = function()
        closed = true
        close_err = select(2, pcall(cm.lock, cm))
      end})
      rt.time.sleep(60000)
    end)
    rt.task.yield_now()
  end)
  check(l2:len() == 1)
end
collectgarbage(); collectgarbage()
check(closed, "cancelled when the set was dropped")
check(close_err and close_err:find("cleanup cannot wait", 1, true), tostring(close_err))

-- inside a task of the (multi-thread) default runtime
local n = rt.spawn(function()
  local l3 = rt.runtime.LocalSet.new()
  local count = 0
  l3:run_until(function()
    for _ = 1, 20 do rt.task.spawn_local(function() rt.task.yield_now(); count = count + 1 end) end
  end)
  l3:await()
  return count
end):await()
check(n == 20, "count " .. n)

-- a task that ends with local tasks alive: they go with its state (reused after)
for _ = 1, 10 do
  rt.spawn(function()
    local l6 = rt.runtime.LocalSet.new()
    l6:run_until(function()
      for _ = 1, 3 do rt.task.spawn_local(function() local g = cm:lock(); rt.time.sleep(60000) end) end
      rt.task.yield_now()
    end)
  end):await()
end
check(not cm:is_locked(), "the cancelled local tasks released the lock")

-- on a current-thread runtime: block_on from the top level, and inside a task
local r = rt.runtime.Builder.new_current_thread():enable_time():build()
local shared = {}
check(ls:block_on(r, function()
  local hh = rt.task.spawn_local(function() shared.x = "set by a local task"; return rt.task.id() end)
  local id = hh:await()
  return id == hh:id()
end))
check(shared.x == "set by a local task")
check(r:block_on(function()
  local l4 = rt.runtime.LocalSet.new()
  return l4:run_until(function() return rt.task.spawn_local(function() return 42 end):await() end)
end) == 42)

-- where spawn_local and the set cannot go
fails("`spawn_local` called from outside of a `task::LocalSet`", rt.task.spawn_local, print)
check(select(2, rt.spawn(function() return pcall(rt.task.spawn_local, print) end):await())
  :find("called from outside of a `task::LocalSet`", 1, true))
fails("upvalue `ls` is a LocalSet, which belongs to the task", rt.spawn, function() return ls end)
fails("already running its tasks here", ls.run_until, ls, function() return ls:run_until(print) end)
local ok3, e3 = pcall(ls.run_until, ls, function() return rt.task.spawn_local(function() ls:await() end):await() end)
check(not ok3 and tostring(e3):find("already running its tasks here", 1, true), tostring(e3))
check(select(2, rt.spawn(function(rr) return pcall(function()
  local l5 = rt.runtime.LocalSet.new(); return l5:block_on(rr, print) end) end, r):await())
  :find("Cannot start a runtime from within a runtime", 1, true))

-- bad arguments
fails("bad argument #1 to 'run_until' (function expected, got number)", function() ls:run_until(3) end)
fails("bad argument #1 to 'spawn_local' (function expected, got nil)", function() rt.task.spawn_local(nil) end)
fails("bad argument #1 to 'spawn_local' (function expected, got string)", function() ls:spawn_local("x") end)
fails("bad argument #1 to 'block_on' (Runtime expected, got function)", function() ls:block_on(print) end)
fails("bad argument #1 to 'await' (LocalSet expected, got number)", function() ls.await(1) end)
print("test_local_set: ok")
