-- test_bad_args.lua — every function and method of the API, called with
-- arguments of every wrong kind: each call either works or raises a Lua
-- error with a message; none crashes the process, hangs, or breaks the
-- runtime (a task still runs after each).
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

local bad_sets = {
  {}, {nil}, {"x"}, {""}, {-1}, {0}, {1.5}, {1e300}, {true}, {{}},
  {function() end}, {coroutine.create(print)}, {"x", "y", "z"}, {{}, -5},
}

-- Calls that would end this test rather than test the argument checks.
local skip = {
  ["rt.runtime.default"] = true, -- fine, but its handle's shutdown_timeout would stop us
  ["rt.trace.start"] = true, -- "x" is a valid path: it would record into ./x (tested below)
  -- true holds every worker at the gate; {} would open a window on a desktop
  -- and wait for it to close (their argument checks: test_viz.lua)
  ["rt.viz.step_mode"] = true,
  ["rt.viz.open"] = true,
  ["rt.viz.wait"] = true,
}

local calls, raised = 0, 0
local function try(name, f, args)
  calls = calls + 1
  -- a wait that the bad arguments make legal (recv on an empty channel, ...)
  -- ends at the timeout; an error must carry a message
  local ok, done, err = pcall(rt.time.timeout, 50, function()
    return f(table.unpack(args, 1, args.n or #args))
  end)
  if not ok then
    raised = raised + 1
    local msg = tostring(done)
    check(#msg > 0, name .. ": an error without a message")
  end
end

local function alive(after)
  local ok, v = pcall(function() return rt.spawn(function() return "alive" end):await() end)
  check(ok and v == "alive", "the runtime is broken after " .. after .. ": " .. tostring(v))
end

-- every function reachable from rt and std
local seen = {}
local function walk(t, path, depth)
  if seen[t] or depth > 4 then return end
  seen[t] = true
  local keys = {}
  for k in pairs(t) do if type(k) == "string" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v, name = t[k], path .. "." .. k
    if type(v) == "function" and not skip[name] then
      for _, args in ipairs(bad_sets) do try(name, v, args) end
      alive(name)
    elseif type(v) == "table" then
      walk(v, name, depth + 1)
    end
  end
end
walk(rt, "rt", 1)
walk(std, "std", 1)

-- rt.trace.start with paths that cannot be written, and with non-strings
for _, args in ipairs({{}, {nil}, {true}, {{}}, {"/nonexistent-dir/x.trace"}}) do
  try("rt.trace.start", rt.trace.start, args)
end
rt.trace.stop()
alive("rt.trace.start")

-- every method of every kind of handle, on a live instance
local private = rt.runtime.Builder.new_multi_thread():worker_threads(1):enable_all():build()
local tx, rx = rt.sync.mpsc.channel(1)
local otx, orx = rt.sync.oneshot.channel()
local m = rt.sync.Mutex.new(0)
local instances = {
  JoinHandle = rt.spawn(function() return 1 end),
  Mutex = m,
  MutexGuard = m:lock(),
  Semaphore = rt.sync.Semaphore.new(1),
  Notify = rt.sync.Notify.new(),
  Sender = tx, Receiver = rx, OneshotSender = otx, OneshotReceiver = orx,
  Runtime = private,
  Future = rt.future{ poll = function() return 1 end },
  RwLock = rt.sync.RwLock.new(0),
  Weak = rt.sync.Weak.new(m),
}
for kind, inst in pairs(instances) do
  local mt = getmetatable(inst)
  local methods = mt and (mt.methods or (type(mt.__index) == "table" and mt.__index))
  if methods then
    local names = {}
    for k in pairs(methods) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      if not (kind == "Runtime" and k == "shutdown_timeout") then
        for _, args in ipairs(bad_sets) do
          try(kind .. ":" .. k, methods[k], {inst, table.unpack(args)})
          try(kind .. ":" .. k .. " (bad self)", methods[k], args)
        end
        alive(kind .. ":" .. k)
      end
    end
  end
end
check(calls > 500, "only " .. calls .. " calls")
check(raised > calls // 3, raised .. " errors out of " .. calls .. " calls")
print(string.format("test_bad_args: ok (%d calls, %d raised clear errors)", calls, raised))
