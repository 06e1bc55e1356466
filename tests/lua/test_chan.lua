-- test_chan.lua — rt.sync.mpsc and rt.sync.oneshot between tasks.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- bounded: producers wait for room; every message arrives, in order per producer
local tx, rx = rt.sync.mpsc.channel(4)
local producers = {}
for p = 1, 3 do
  local mytx = tx:clone()
  producers[p] = rt.spawn(function()
    for i = 1, 50 do mytx:send({from = p, i = i}) end
  end)
end
tx = nil
collectgarbage() -- drop our sender so the channel closes when the producers finish
local last, count = {0, 0, 0}, 0
while true do
  local m = rx:recv()
  if m == nil then break end
  check(m.i == last[m.from] + 1, "order")
  last[m.from] = m.i
  count = count + 1
end
check(count == 150, "received " .. count)
for p = 1, 3 do producers[p]:await() end

-- unbounded, functions and handles in messages
local utx, urx = rt.sync.mpsc.unbounded_channel()
local m = rt.sync.Mutex.new(0)
utx:send(function(x) return x * 3 end)
utx:send(m)
local f = urx:recv()
check(f(5) == 15)
local m2 = urx:recv()
rt.spawn(function() local g = m2:lock(); g.value = 9; g:unlock() end):await()
check(m:lock().value == 9, "the mutex is shared, not copied")

-- refused messages name the field
local ok, err = pcall(utx.send, utx, {co = coroutine.create(print)})
check(not ok and err:find("cannot send: the message.co is a coroutine", 1, true), err)

-- closed receiver: send fails clearly
local ctx, crx = rt.sync.mpsc.channel(1)
crx:close()
local ok2, err2 = pcall(ctx.send, ctx, 1)
check(not ok2 and err2:find("send failed", 1, true), err2)
check(ctx:is_closed())

-- oneshot
local otx, orx = rt.sync.oneshot.channel()
local waiter = rt.spawn(function() return orx:recv() end)
rt.time.sleep(2)
otx:send("hello")
check(waiter:await() == "hello")
local ok3, err3 = pcall(otx.send, otx, "again")
check(not ok3 and err3:find("already used", 1, true), err3)
print("test_chan: ok")
