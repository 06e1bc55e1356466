-- test_broadcast.lua — rt.sync.broadcast: every receiver sees every value.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function waits_on(h, kind) -- the console sees the task waiting on a resource
  for _ = 1, 10000 do
    for _, t in ipairs(rt.tasks()) do
      if t.id == h:id() and t.state == "idle" and t.waiting_on == kind then return end
    end
    rt.time.sleep(1)
  end
  error("task " .. h:id() .. " never waited on a " .. kind)
end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end

-- top level: two receivers each see every value, in order; tables are copies
local tx, rx = rt.sync.broadcast.channel(8)
local rx2 = tx:subscribe()
check(tx:receiver_count() == 2)
check(tx:send({n = 1}) == 2, "two receivers will see it")
check(tx:send("two") == 2)
local a = rx:recv()
check(a.n == 1 and rx:recv() == "two")
local b = rx2:recv()
check(b.n == 1 and b ~= a, "each receiver gets its own copy")
check(rx2:recv() == "two")
check(rx:len() == 0)
check(select(2, rx:try_recv()) == "empty")

-- a subscriber sees only what is sent after it subscribed
tx:send("before")
local late = tx:subscribe()
tx:send("after")
check(late:recv() == "after")
check(rx:recv() == "before" and rx:recv() == "after")

-- tasks: one sender, three receiving tasks, then closing ends them
local btx, brx = rt.sync.broadcast.channel(100)
local hs = {}
for i = 1, 3 do
  local my = btx:subscribe()
  hs[i] = rt.spawn(function()
    local sum, n = 0, 0
    while true do
      local v = my:recv()
      if v == nil then return sum, n end -- closed: every sender is gone
      sum, n = sum + v, n + 1
    end
  end)
end
brx = nil
collectgarbage()
local producer = rt.spawn(function()
  for i = 1, 50 do btx:send(i); if i % 10 == 0 then rt.task.yield_now() end end
  btx:close()
end)
producer:await()
for i = 1, 3 do
  local sum, n = hs[i]:await()
  check(sum == 1275 and n == 50, "receiver " .. i .. ": " .. tostring(sum) .. " " .. tostring(n))
end
fails("this sender was closed", btx.send, btx, 1)

-- lag: a slow receiver loses the oldest values, is told how many, goes on
local ltx, lrx = rt.sync.broadcast.channel(2)
for i = 1, 5 do ltx:send(i) end
check(lrx:len() == 5)
local ok, err = pcall(lrx.recv, lrx)
check(not ok and err:find("^lagged: this receiver missed 3 values %(the channel keeps the last 2%)"), err)
check(lrx:recv() == 4 and lrx:recv() == 5, "continues with the oldest value kept")
for i = 6, 9 do ltx:send(i) end
local v, what, n = lrx:try_recv()
check(v == nil and what == "lagged" and n == 2, tostring(what) .. " " .. tostring(n))
check(lrx:try_recv() == 8)
-- the same seen from a task
local lagger = rt.spawn(function()
  local ok2, err2 = pcall(lrx.recv, lrx)
  return ok2, err2
end)
local ok2, v2 = lagger:await()
check(ok2 and v2 == 9, tostring(v2))

-- a receiver waiting in a task is woken by a send from the top level
local wtx, wrx = rt.sync.broadcast.channel(4)
local waiter = rt.spawn(function() return wrx:recv() end)
waits_on(waiter, "broadcast")
wtx:send("wake")
check(waiter:await() == "wake")

-- no receiver: the value is dropped, send says so
local ntx, nrx = rt.sync.broadcast.channel(1)
nrx = nil
collectgarbage()
local r, e = ntx:send("nobody")
check(r == nil and e == "no receivers", tostring(e))

-- clones: the channel closes when every sender is closed
local ctx, crx = rt.sync.broadcast.channel(4)
local ctx2 = ctx:clone()
ctx:close()
ctx2:send("still open")
check(crx:recv() == "still open")
ctx2:close()
check(crx:recv() == nil, "closed")
check(select(2, crx:try_recv()) == "closed")
check(tostring(ctx2) == "BroadcastSender (closed)", tostring(ctx2))

-- one task at a time per receiver
local stx, srx = rt.sync.broadcast.channel(4)
local first = rt.spawn(function() return srx:recv() end)
waits_on(first, "broadcast")
local second = rt.spawn(function() return srx:recv() end)
local ok3, err3 = pcall(second.await, second)
check(not ok3 and tostring(err3):find("another task is already receiving on this receiver", 1, true), tostring(err3))
stx:send(1)
check(first:await() == 1)

-- values that cannot move, bad arguments
fails("cannot send: the message is a coroutine", tx.send, tx, coroutine.create(print))
fails("bad argument #1 to 'channel' (number expected, got no value)", function() rt.sync.broadcast.channel() end)
fails("bad argument #1 to 'rt.sync.broadcast.channel' (capacity must be between 1", rt.sync.broadcast.channel, 0)
fails("bad argument #1 to 'send' (value expected)", function() tx:send() end)
fails("bad argument #1 to 'recv' (BroadcastReceiver expected, got BroadcastSender)", function() rx.recv(tx) end)
print("test_broadcast: ok")
