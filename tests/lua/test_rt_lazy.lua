-- test_rt_lazy.lua — in a task state, rt and std make each submodule and
-- function on first read (lua_rt.h, al_lua_open_rt_lazy): a task that names
-- rt.time.sleep makes rt.time only, and still sees every other name of the
-- full API when it asks (by name, pairs, require, rt.help).
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- Run fn in a task whose state is fresh: the task first checks that rt
-- has nothing made yet, and at its end removes its globals' metatable, so
-- that its state is not recycled (lua_lazy_libs.h) and the next task's is
-- fresh too. Returns what fn returns; raises fn's error.
local function in_fresh_task(fn, ...)
  local res = table.pack(rt.spawn(function(f, ...)
    local fresh = next(rt) == nil and next(std) == nil
    local out = table.pack(pcall(f, ...))
    local smt = setmetatable
    smt(_G, nil)
    if not fresh then return false, "the task's state was not fresh" end
    return table.unpack(out, 1, out.n)
  end, fn, ...):await())
  check(res[1], tostring(res[2]))
  return table.unpack(res, 2, res.n)
end

-- The top level opens everything at once: completion and listings see it.
check(rawget(rt, "sync") ~= nil and rawget(rt, "pretty") ~= nil and rawget(std, "io") ~= nil)
check(rawget(rt.sync, "oneshot") ~= nil and rawget(rt.time, "timeout") ~= nil)

-- Every dotted name of the top level's rt and std (tables down to depth 4).
local names, kinds = {}, {}
local function walk(t, path, depth, seen)
  seen[t] = true
  for k, v in pairs(t) do
    if type(k) == "string" then
      local name = path .. "." .. k
      names[#names + 1] = name
      kinds[name] = type(v)
      if type(v) == "table" and depth < 4 and not seen[v] then walk(v, name, depth + 1, seen) end
    end
  end
end
walk(rt, "rt", 1, {})
walk(std, "std", 1, {})
table.sort(names)
check(#names > 80, "only " .. #names .. " names")

-- Each name, read first thing in a fresh task state, has its top-level type.
for _, name in ipairs(names) do
  local got = in_fresh_task(function(n)
    local v = _G
    for part in n:gmatch("[^.]+") do v = v[part] end
    return type(v)
  end, name)
  check(got == kinds[name], name .. " in a fresh task is a " .. got .. ", not a " .. kinds[name])
end

-- Naming rt.time.sleep makes rt.time only (rt.time.timeout, which is Lua code
-- over rt.select, and rt.sync stay unmade) — until asked for.
in_fresh_task(function()
  rt.time.sleep(1)
  assert(rawget(rt, "time") ~= nil and rawget(rt, "sync") == nil and rawget(rt, "select") == nil)
  assert(rawget(rt.time, "timeout") == nil and rawget(rt.time, "Instant") == nil)
  assert(rawget(rt, "help") == nil and rawget(rt, "pretty") == nil)
  assert(type(rt.time.timeout) == "function" and type(rt.select) == "function")
  local ok, v = rt.time.timeout(50, function() return 7 end)
  assert(ok == true and v == 7, tostring(v))
end)

-- A task awaiting a oneshot makes rt.sync and rt.sync.oneshot (with mpsc, one
-- part), not the other sync types.
in_fresh_task(function()
  local tx, rx = rt.sync.oneshot.channel()
  assert(rawget(rt.sync, "Mutex") == nil and rawget(rt.sync, "watch") == nil)
  assert(rawget(rt.sync, "mpsc") ~= nil)
  tx:send(3)
  assert(rx:recv() == 3)
end)

-- In a task state, handles of plain classes share one metatable, made with
-- the first handle (opening rt.sync.Mutex makes nothing); methods are found
-- without a table; a class with fields (a guard) gets its own metatable.
in_fresh_task(function()
  local Mutex = rt.sync.Mutex
  local reg = debug.getregistry()
  assert(reg.Mutex == nil and reg.MutexGuard == nil, "a class made before its first handle")
  local m = Mutex.new(1)
  local mt = getmetatable(m)
  -- one metatable for the handles of plain classes: none per class
  assert(reg.Mutex == nil and type(mt.__index) == "function" and mt.methods == nil)
  assert(getmetatable(rt.sync.Semaphore.new(1)) == mt and getmetatable(rt.sync.Notify.new()) == mt)
  assert(m.no_such_method == nil and tostring(m):find("^Mutex"))
  assert(tostring(rt.sync.Semaphore.new(2)):find("^Semaphore"))
  local ok, err = pcall(rt.sync.Semaphore.new(1).acquire, m)
  assert(not ok and err:find("Semaphore expected, got Mutex", 1, true), err)
  local g = m:lock()
  -- a guard has fields and its own __gc: a metatable of its own
  assert(reg.MutexGuard == getmetatable(g) and getmetatable(g) ~= mt)
  g.value = g.value + 1
  g:unlock()
  assert(m:lock().value == 2)
  local ok, err = pcall(m.lock, 5)
  assert(not ok and err:find("Mutex expected", 1, true), err)
end)
-- The top level keeps method tables (completion lists them).
check(type(getmetatable(rt.sync.Mutex.new(0)).methods) == "table")

-- pairs over rt / std / a submodule lists every name the top level has.
local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return table.concat(out, " ")
end
local want_rt, want_std, want_sync, want_time = keys(rt), keys(std), keys(rt.sync), keys(rt.time)
local got_rt, got_std = in_fresh_task(function(k) return k(rt), k(std) end, keys)
check(got_rt == want_rt, "pairs(rt) in a task: " .. got_rt .. "\nat the top: " .. want_rt)
check(got_std == want_std, "pairs(std) in a task: " .. got_std)
local got_sync, got_time = in_fresh_task(function(k) return k(rt.sync), k(rt.time) end, keys)
check(got_sync == want_sync, "pairs(rt.sync) in a task: " .. got_sync)
check(got_time == want_time, "pairs(rt.time) in a task: " .. got_time)

-- rt.help in a task: by name, by function (which searches all of rt), the list.
local by_fn, by_name, all = in_fresh_task(function()
  return rt.help(rt.sync.watch.channel), rt.help("rt.time.sleep"), rt.help()
end)
check(by_fn:find("rt.sync.watch.channel", 1, true), by_fn)
check(by_name:find("rt.time.sleep(ms)", 1, true), by_name)
check(all == rt.help(), "rt.help() differs in a task")

-- require and package.loaded of submodules; errors still name the function.
in_fresh_task(function()
  assert(require("rt.sync.mpsc") == rt.sync.mpsc)
  assert(package.loaded["std.sync.Mutex"] == std.sync.Mutex)
  assert(require("asynclab") == rt)
  local ok, err = pcall(rt.time.sleep, "x")
  assert(not ok and err:find("rt.time.sleep", 1, true), err)
end)

-- Submodules travel by name into states that have not made them yet.
local watch, instant = rt.sync.watch, rt.time.Instant
check(rt.spawn(function() return watch == rt.sync.watch and instant.now ~= nil end):await())
check(rt.spawn(function(m) return m == rt.runtime.LocalSet end, rt.runtime.LocalSet):await())

print("test_rt_lazy: ok")
