-- test_watch.lua — rt.sync.watch: one current value, receivers await changes.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end
local function waits_on(h, kind) -- the console sees the task waiting on a resource
  for _ = 1, 10000 do
    for _, t in ipairs(rt.tasks()) do
      if t.id == h:id() and t.state == "idle" and t.waiting_on == kind then return end
    end
    rt.time.sleep(1)
  end
  error("task " .. h:id() .. " never waited on a " .. kind)
end

-- top level: borrow is a copy of the current value; send replaces it
local tx, rx = rt.sync.watch.channel({state = "starting"})
check(rx:borrow().state == "starting")
check(not rx:has_changed(), "the initial value counts as seen")
local copy = rx:borrow()
copy.state = "scribbled"
check(rx:borrow().state == "starting", "borrow gives a copy")
check(tx:send({state = "ready"}) == true)
check(rx:has_changed())
check(rx:changed() == true, "a newer value is there: no wait")
check(not rx:has_changed())
check(rx:borrow().state == "ready")
local v0 = rx:version()
tx:send({state = "x"}); tx:send({state = "y"})
check(rx:version() == v0 + 2)
check(rx:changed() == true and rx:borrow().state == "y", "only the latest value is kept")
check(rx:borrow_and_update().state == "y")

-- a task waits in changed(); every send wakes it; closing ends its loop
local ctx, crx = rt.sync.watch.channel(0)
local ack_tx, ack_rx = rt.sync.mpsc.unbounded_channel()
local watcher = rt.spawn(function()
  local seen = {}
  while crx:changed() do seen[#seen + 1] = crx:borrow(); ack_tx:send(true) end
  return seen
end)
for i = 1, 3 do
  ctx:send(i)
  ack_rx:recv() -- each value is seen before the next is sent
end
ctx:close()
local seen = watcher:await()
check(#seen == 3 and seen[1] == 1 and seen[3] == 3, "seen " .. #seen)
fails("this sender was closed", ctx.send, ctx, 4)
check(crx:changed() == false, "closed: changed() returns false at once")

-- many watchers, each with a receiver of its own; they see the final value
local stx, srx = rt.sync.watch.channel("v0")
local ws = {}
for i = 1, 4 do
  local my = (i % 2 == 0) and srx:clone() or stx:subscribe()
  ws[i] = rt.spawn(function()
    local last
    while my:changed() do last = my:borrow() end
    return last
  end)
end
check(stx:receiver_count() == 5)
local producer = rt.spawn(function()
  for i = 1, 30 do stx:send("v" .. i); if i % 5 == 0 then rt.time.sleep(1) end end
  stx:close()
end)
producer:await()
for i = 1, 4 do check(ws[i]:await() == "v30", "watcher " .. i) end

-- one task at a time per receiver
local otx, orx = rt.sync.watch.channel(1)
local first = rt.spawn(function() return orx:changed() end)
waits_on(first, "watch")
local second = rt.spawn(function() return orx:changed() end)
local ok, err = pcall(second.await, second)
check(not ok and tostring(err):find("another task is already waiting on this receiver", 1, true), tostring(err))
otx:send(2)
check(first:await() == true)

-- no receivers: send refuses (value not stored), send_replace stores
local ntx, nrx = rt.sync.watch.channel("a")
local keep = nrx:clone()
nrx, keep = nil, nil
collectgarbage()
check(ntx:receiver_count() == 0)
local r, e = ntx:send("b")
check(r == nil and e == "no receivers", tostring(e))
ntx:send_replace("c")
check(ntx:subscribe():borrow() == "c")

-- values that cannot move, bad arguments
fails("cannot send: the value is a coroutine", tx.send, tx, coroutine.create(print))
fails("cannot send: the initial value is a coroutine", rt.sync.watch.channel, coroutine.create(print))
fails("bad argument #1 to 'channel' (value expected)", function() rt.sync.watch.channel() end)
fails("bad argument #1 to 'changed' (WatchReceiver expected, got WatchSender)", function() rx.changed(tx) end)
fails("bad argument #1 to 'rt.sync.watch.channel' (value expected)", rt.sync.watch.channel)
print("test_watch: ok")
