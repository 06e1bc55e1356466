-- test_values.lua — values copied between task states, and refused ones.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- tables: cycles and shared references survive the trip
local t = {1, "two", {3}, flag = true, n = 1.5}
t.self = t
t.alias = t[3]
local back = rt.spawn(function(x)
  assert(x.self == x and x.alias == x[3])
  x[3][1] = 30 -- a copy: the caller's table is untouched
  return x
end, t):await()
check(back.self == back and back.alias == back[3] and back[3][1] == 30)
check(t[3][1] == 3, "the caller's table changed")
check(back[2] == "two" and back.flag == true and back.n == 1.5)
check(math.type(back[1]) == "integer")

-- functions travel with their upvalues, recursively
local base = 10
local function add(x) return x + base end
local function twice(x) return add(add(x)) end
check(rt.spawn(function(v) return twice(v) end, 1):await() == 21)

-- recursive local functions
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
check(rt.spawn(function() return fib(15) end):await() == 610)

-- a large function (bytecode far beyond one buffer) that names globals: its
-- global names are read from the dump (once, a use-after-free)
answer_global = 42
local lines = {"return function() local t = {}"}
for i = 1, 400 do lines[#lines + 1] = ("t[%d] = 'constant number %d'"):format(i, i) end
lines[#lines + 1] = "return #t + answer_global end"
local big = assert(load(table.concat(lines, "\n")))()
check(#string.dump(big) > 8192, "the function is large")
check(rt.spawn(big):await() == 442, "a large function runs with its global")

-- light C functions from the standard library
check(rt.spawn(function(f) return f("%d", 7) end, string.format):await() == "7")

-- refused: coroutines, named in the error
local co = coroutine.create(function() end)
local ok, err = pcall(rt.spawn, function() return co end)
check(not ok and err:find("cannot spawn: upvalue `co` is a coroutine, which cannot move to another thread", 1, true), err)
local ok2, err2 = pcall(rt.spawn, function(x) end, {deep = {inner = co}})
check(not ok2 and err2:find("argument #1.deep.inner is a coroutine", 1, true), err2)
local ok3, err3 = pcall(rt.spawn, function() end, setmetatable({}, {}))
check(not ok3 and err3:find("metatable", 1, true), err3)
-- a value returned by a task that cannot move: the task panics, clearly
local r = rt.spawn(function() return coroutine.create(print) end)
local ok4, err4 = pcall(r.await, r)
check(not ok4 and tostring(err4):find("cannot return: .* is a coroutine"), tostring(err4))
-- deep nesting is refused, not a crash
local deep = {}
local cur = deep
for _ = 1, 1000 do cur.next = {}; cur = cur.next end
local ok5, err5 = pcall(rt.spawn, function() end, deep)
check(not ok5 and err5:find("nested more than", 1, true), err5)

-- library tables travel by name: the task gets its own state's (`local rt =
-- require "asynclab"` is the usual first line of a script for the stock lua5.4)
local myrt, mysync, str = rt, rt.sync, string
local lib = {rt = rt, std = std, math = math, n = 3}
local a, b, c, d = rt.spawn(function()
  return myrt.task.id() ~= nil, mysync.Mutex.new(str.rep("x", lib.n)):lock().value,
    lib.math.max(1, 2), lib.rt == myrt and lib.std == std
end):await()
check(a == true and b == "xxx" and c == 2 and d == true, "libraries by name")
check(rt.spawn(function(t) return t == rt end, rt):await(), "rt as an argument is the task's rt")
local tx, rx = rt.sync.mpsc.unbounded_channel()
tx:send({lib = rt.time})
check(rx:recv().lib == rt.time, "a library in a message")
check(require("asynclab") == rt, "require \"asynclab\" in the program is rt")
print("test_values: ok")
