-- test_task_state.lua — a task state opens its libraries, rt and std on
-- first use (lua_lazy_libs.h): task code sees what a full state has, in a
-- fresh state as in a recycled one.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- Run fn(args...) in K tasks alive at once (more than the workers' pools of
-- recycled states hold, so most run in fresh states); every result must be
-- true. The tasks wait on `hold` until all started, so none finishes early
-- and gives its state back for the next one.
local K = 200
local function in_fresh_states(name, fn, ...)
  local started = rt.sync.Semaphore.new(0)
  local hold = rt.sync.Semaphore.new(0)
  local hs = {}
  for i = 1, K do
    hs[i] = rt.spawn(function(f, s, h, ...)
      local ok, err = pcall(f, ...)
      s:add_permits(1)
      h:acquire():release()
      return ok, err
    end, fn, started, hold, ...)
  end
  started:acquire(K):release()
  hold:add_permits(K)
  for i = 1, K do
    local ok, err = hs[i]:await()
    check(ok, name .. ": " .. tostring(err))
  end
end

in_fresh_states("base functions", function()
  assert(type(print) == "function" and type(pairs) == "function")
  assert(tostring(12) == "12" and tonumber("0x10") == 16 and select("#", 1, 2) == 2)
  assert(_VERSION == "Lua 5.4")
  assert(_G.print == print and _G._G == _G)
  assert(not_a_global_anywhere == nil)
  local ok, err = pcall(error, "boom", 0)
  assert(not ok and err == "boom")
end)

in_fresh_states("string methods and coercion", function()
  assert(("abc"):upper() == "ABC")
  assert(("a,b"):find(",", 1, true) == 2)
  assert("10" + 1 == 11 and 1 + "10" == 11 and "3" * "4" == 12 and -"2" == -2)
  assert("7" // 2 == 3 and "2" ^ 3 == 8.0 and "7" % 4 == 3 and "1" / 2 == 0.5 and "5" - 1 == 4)
  local ok, err = pcall(function() return {} + "x" end)
  assert(not ok and err:find("attempt to add a .table. with a .string."), err)
end)

in_fresh_states("libraries", function()
  assert(math.floor(2.5) == 2 and math.type(1) == "integer")
  assert(table.concat({1, 2}, "-") == "1-2")
  assert(type(os.time()) == "number" and utf8.char(72) == "H")
  assert(coroutine.wrap(function() coroutine.yield(5) end)() == 5)
  assert(type(io.write) == "function" and type(debug.traceback) == "function")
end)

in_fresh_states("require", function()
  assert(require("table") == table)
  assert(require("string") == string)
  assert(require("asynclab") == rt)
  assert(require("coroutine") == coroutine)
  assert(package.loaded.math == math)
end)

in_fresh_states("rt and std", function()
  assert(type(rt.task.id()) == "number")
  assert(type(std.thread.sleep) == "function")
  assert(rt.pretty({1}) == "{1}")
end)

-- Values that name libraries (upvalues) and handles with metamethods
-- arrive in states that did not open them yet.
local s, r, tbl = string, rt, table
in_fresh_states("libraries as upvalues", function()
  assert(s.upper("x") == "X" and r.task.id() and tbl.unpack({3}) == 3)
end)

local t0 = rt.time.Instant.now()
in_fresh_states("Instant metamethods", function(i)
  local later = i + 5
  assert(later > i and later - i == 5 and i == i)
end, t0)

-- A task that errors, and then tasks that reuse its state.
for _ = 1, 50 do
  local ok = pcall(function() rt.spawn(function() error("x") end):await() end)
  check(not ok)
  check(rt.spawn(function(x) return ("%d"):format(x) end, 7):await() == "7")
end

-- A task runs on its state's main thread (no coroutine of its own): a task
-- cancelled while waiting (its to-be-closed variable runs), one stopped by
-- coroutine.yield() at its top level, one that fails, and then tasks that
-- reuse those states; many resumes of one task (its thread's C-call count
-- must not add up); a task without globals (no environment) next to one
-- with them.
for _ = 1, 20 do
  local closed, started = rt.sync.Semaphore.new(0), rt.sync.Semaphore.new(0)
  local h = rt.spawn(function(c, s)
    local _ <close> = setmetatable({}, {__close = function() c:add_permits(1) end})
    s:add_permits(1)
    rt.time.sleep(10000)
  end, closed, started)
  started:acquire():release()
  h:abort()
  check(not pcall(h.await, h))
  closed:acquire():release()
  check(not pcall(function() return rt.spawn(function() coroutine.yield() end):await() end))
  check(not pcall(function() return rt.spawn(function() local t = nil; return t.x end):await() end))
  check(rt.spawn(function(x) rt.task.yield_now() return x + 1 end, 1):await() == 2)
end
check(rt.spawn(function()
  for _ = 1, 1000 do rt.task.yield_now() end
  return select(2, coroutine.running())
end):await() == true, "a task runs on its state's main thread")
check(rt.spawn(function(a, b) return a + b end, 2, 3):await() == 5)
check(rt.spawn(function() x_global = 4 return x_global end):await() == 4)
check(x_global == nil, "a task's globals stay in its environment")

-- A task that replaces its state's globals' metatable (strict mode, say)
-- does not break the tasks that run in that state after it.
for _ = 1, 200 do
  rt.spawn(function()
    setmetatable(_G, {__index = function(_, k) error("undefined global " .. k, 2) end})
  end):await()
  check(rt.spawn(function() return type(print) .. type(string.rep) end):await() == "functionfunction")
end

print("test_task_state: ok")
