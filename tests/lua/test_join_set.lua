-- test_join_set.lua — rt.task.JoinSet: tasks joined in the order they finish.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end

-- top level: results come in the order the tasks finish, not spawn order
local set = rt.task.JoinSet.new()
local txs, rxs = {}, {}
for i = 1, 3 do txs[i], rxs[i] = rt.sync.oneshot.channel() end
for i = 1, 3 do
  local rx = rxs[i]
  set:spawn(function(n) rx:recv(); return n, n * 10 end, i)
end
check(set:len() == 3 and not set:is_empty())
txs[3]:send(true)
local a, b = set:join_next()
check(a == 3 and b == 30, "first to finish: " .. tostring(a))
txs[1]:send(true)
check(set:join_next() == 1)
txs[2]:send(true)
local id, n = set:join_next_with_id()
check(math.type(id) == "integer" and n == 2)
check(set:len() == 0 and set:is_empty())
check(set:join_next() == nil, "empty: nil")
check(set:join_next_with_id() == nil)
check(tostring(set) == "JoinSet (0 tasks)", tostring(set))

-- a task that returns nothing: join_next_with_id tells it from an empty set
set:spawn(function() end)
local id2 = set:join_next_with_id()
check(id2 ~= nil and select("#", set:join_next_with_id()) == 1)

-- a panic surfaces as the JoinError, as h:await() does
set:spawn(function() error("boom") end)
local ok, e = pcall(set.join_next, set)
check(not ok and e:is_panic() and tostring(e):find("panicked: .*boom"), tostring(e))

-- abort_all: every task is cancelled; join_next reports each
for _ = 1, 4 do set:spawn(function() rt.time.sleep(60000) end) end
set:abort_all()
local cancelled = 0
while set:len() > 0 do
  local ok2, e2 = pcall(set.join_next, set)
  check(not ok2 and e2:is_cancelled(), tostring(e2))
  cancelled = cancelled + 1
end
check(cancelled == 4)

-- inside a task: fan out, gather
local total = rt.spawn(function()
  local s = rt.task.JoinSet.new()
  for i = 1, 20 do s:spawn(function() rt.time.sleep(i % 3); return i end) end
  local sum = 0
  while true do
    local v = s:join_next()
    if v == nil then break end
    sum = sum + v
  end
  return sum
end):await()
check(total == 210, "sum " .. total)

-- dropping the set aborts its tasks: when the owning task ends ...
local started = rt.sync.Semaphore.new(0)
local done = rt.sync.Mutex.new(0)
local owner = rt.spawn(function()
  local s = rt.task.JoinSet.new()
  for _ = 1, 3 do
    s:spawn(function()
      started:add_permits(1)
      rt.time.sleep(60000)
      local g = done:lock(); g.value = g.value + 1; g:unlock()
    end)
  end
  started:acquire(3):release()
end)
owner:await()
local function wait_alive(n)
  for _ = 1, 5000 do
    if rt.metrics().num_alive_tasks <= n then return true end
    rt.time.sleep(1)
  end
end
check(wait_alive(0), "the set's tasks were aborted with their owner")
-- ... when a <close> variable leaves scope ...
do
  local s <close> = rt.task.JoinSet.new()
  s:spawn(function() rt.time.sleep(60000) end)
  check(rt.metrics().num_alive_tasks >= 1)
end
check(wait_alive(0), "aborted when the <close> set left scope")
local escaped
do local s <close> = rt.task.JoinSet.new(); escaped = s end
fails("JoinSet already released", function() return escaped:len() end)
-- ... and shutdown() aborts and waits
local s2 = rt.task.JoinSet.new()
for _ = 1, 3 do s2:spawn(function() rt.time.sleep(60000) end) end
s2:shutdown()
check(s2:len() == 0 and wait_alive(0), "shutdown aborted them all")
check(done:lock().value == 0, "no aborted task ran on")
collectgarbage()

-- a set cannot be sent to another task; one join_next at a time
local ok3, err3 = pcall(rt.spawn, function() return set:len() end)
check(not ok3 and err3:find("upvalue `set` is a JoinSet, which belongs to the task", 1, true), err3)
set:spawn(function() rt.time.sleep(60000) end)
local ok4, err4 = pcall(rt.select, {
  a = function() return set:join_next() end,
  b = function() return set:join_next() end,
})
check(not ok4 and err4:find("already being awaited", 1, true), tostring(err4))
set:shutdown()

-- bad arguments
fails("bad argument #1 to 'spawn' (function expected, got number)", function() set:spawn(3) end)
fails("bad argument #1 to 'join_next' (JoinSet expected, got number)", function() set.join_next(1) end)
fails("cannot spawn: argument #1 is a coroutine", set.spawn, set, print, coroutine.create(print))
print("test_join_set: ok")
