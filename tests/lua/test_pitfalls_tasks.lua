-- test_pitfalls_tasks.lua — catalogue group E, tasks: leaks, reference
-- cycles, cancellation, backlogs, exhaustion; each in a few lines of Lua,
-- its measurable symptom, and the fix not showing it. (E3 is in test_tasks.lua, E5 in
-- test_values.lua, E6 in test_chan.lua.)
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function alive() return rt.metrics().num_alive_tasks end
-- A task counts as alive until its runtime has released it, which may come
-- just after its JoinHandle returned: wait for the count, with a deadline.
local function alive_settles_at(n)
  local deadline = rt.time.now() + 2000
  while alive() ~= n and rt.time.now() < deadline do rt.task.yield_now() end
  return alive() == n
end

-- E1: a task leak: workers with no exit condition pile up with every batch.
local base = alive()
local leaked = {}
for batch = 1, 3 do
  for i = 1, 20 do
    leaked[#leaked + 1] = rt.spawn(function() while true do rt.time.sleep(5) end end)
  end
  rt.time.sleep(10)
  check(alive() - base >= 20 * batch, "E1: batch " .. batch .. ": " .. alive() - base .. " alive")
end
for _, h in ipairs(leaked) do h:abort() end
for _, h in ipairs(leaked) do pcall(h.await, h) end
check(alive_settles_at(base), "E1: aborting the leaked tasks ends them")
-- The fix: a shutdown signal (broadcast) every worker selects on.
local stop_tx = rt.sync.broadcast.channel(1)
local workers = {}
for i = 1, 20 do
  workers[i] = rt.spawn(function(stop)
    local ticks = 0
    while true do
      local which = rt.select{ tick = function() rt.time.sleep(5) end,
                               stop = function() return stop:recv() end }
      if which == "stop" then return ticks end
      ticks = ticks + 1
    end
  end, stop_tx:subscribe())
end
rt.time.sleep(10)
check(alive() - base >= 20, "E1 fixed: the workers run")
stop_tx:send("stop")
for _, h in ipairs(workers) do h:await() end
check(alive_settles_at(base), "E1 fixed: every worker exited: " .. alive() - base .. " left")

-- E4: cancellation. An aborted task stops at its next await: code after
-- the await never runs. A to-be-closed variable does run, and rt.select
-- gives a cancellable wait a cleanup path.
local log_tx, log_rx = rt.sync.mpsc.unbounded_channel()
local function drain()
  local lines = {}
  for _ = 1, log_rx:len() do lines[#lines + 1] = log_rx:recv() end
  return table.concat(lines, ",")
end
local started = rt.sync.Notify.new() -- "the task has begun": notify_one stores a permit
local naive = rt.spawn(function(log, started)
  log:send("start"); started:notify_one()
  rt.time.sleep(10000)
  log:send("cleanup") -- never reached when aborted
end, log_tx, started)
started:notified()
naive:abort()
local ok, err = pcall(naive.await, naive)
check(not ok and err:is_cancelled(), "E4: aborted")
check(drain() == "start", "E4: the naive task's cleanup did not run")
local careful = rt.spawn(function(log, started)
  local _ <close> = setmetatable({}, {__close = function() log:send("cleanup") end})
  log:send("start"); started:notify_one()
  rt.time.sleep(10000)
end, log_tx, started)
started:notified()
careful:abort()
pcall(careful.await, careful)
local got = drain()
check(got == "start,cleanup", "E4: the to-be-closed cleanup ran on abort: " .. got)
local stop = rt.sync.Notify.new()
local graceful = rt.spawn(function(log, started, stop)
  log:send("start"); started:notify_one()
  local which = rt.select{ work = function() rt.time.sleep(10000) end,
                           shutdown = function() stop:notified() end }
  log:send("cleanup after " .. which)
end, log_tx, started, stop)
started:notified()
stop:notify_one()
graceful:await()
check(drain() == "start,cleanup after shutdown", "E4: the select's shutdown branch cleans up")

-- E7: a fast producer over an unbounded channel builds a backlog the slow
-- consumer never catches up with; a bounded channel makes it wait instead.
local function peak_backlog(tx, rx)
  local consumer = rt.spawn(function(rx)
    local peak, n = 0, 0
    while true do
      local len = rx:len()
      if len > peak then peak = len end
      local v = rx:recv()
      if v == nil then return peak, n end
      n = n + 1
      if n % 4 == 0 then rt.time.sleep(1) end -- the slow part
    end
  end, rx)
  local producer = rt.spawn(function(tx)
    for i = 1, 400 do tx:send(i) end
  end, tx)
  tx = nil
  producer:await()
  return consumer
end
local tx, rx = rt.sync.mpsc.unbounded_channel()
local consumer = peak_backlog(tx, rx)
tx, rx = nil, nil
collectgarbage()
local peak, n = consumer:await()
check(n == 400 and peak >= 100, "E7: the unbounded backlog peaked at " .. peak)
tx, rx = rt.sync.mpsc.channel(16)
consumer = peak_backlog(tx, rx)
tx, rx = nil, nil
collectgarbage()
peak, n = consumer:await()
check(n == 400 and peak <= 16, "E7: the bounded channel holds at most 16: " .. peak)

-- E8: resource exhaustion. 100 tasks share a pool of 25 connections; each
-- takes one, then needs a second while holding the first. Once 25 hold one,
-- every task waits for a connection nobody will give back: a deadlock that
-- only appears under load. Taking both at once cannot deadlock.
local function serve(both_at_once)
  local pool = rt.sync.Semaphore.new(25)
  local hs = {}
  for i = 1, 100 do
    hs[i] = rt.spawn(function(pool, both)
      if both then
        local p = pool:acquire(2)
        rt.time.sleep(1)
        p:release()
      else
        local first = pool:acquire()
        rt.time.sleep(1)
        local second = pool:acquire() -- waits behind everyone for the last permits
        second:release(); first:release()
      end
    end, pool, both_at_once)
  end
  local finished = rt.time.timeout(1000, function()
    for _, h in ipairs(hs) do h:await() end
  end)
  local waiting = 25 - pool:available_permits()
  for _, h in ipairs(hs) do h:abort() end -- cancelling releases what they held
  for _, h in ipairs(hs) do pcall(h.await, h) end
  return finished, waiting, pool:available_permits()
end
local finished, held, after = serve(false)
check(not finished and held == 25, "E8: 100 tasks on 25 connections deadlock (" .. held .. " held)")
check(after == 25, "E8: cancelling them gave every connection back: " .. after)
finished = serve(true)
check(finished, "E8 fixed: taking both connections at once completes")

-- E2: a reference cycle through shared handles: two list nodes (Mutexes)
-- whose values hold each other are never freed. In-process, a Weak handle
-- to a node shows it: it still upgrades after every Lua reference is gone.
local function linked_pair(weak_back)
  local a = rt.sync.Mutex.new({}, "e2 a")
  local b = rt.sync.Mutex.new({}, "e2 b")
  local g = a:lock(); g.value.next = b; g:unlock()
  g = b:lock(); g.value.prev = weak_back and rt.sync.Weak.new(a) or a; g:unlock()
  return rt.sync.Weak.new(a), rt.sync.Weak.new(b)
end
local wa, wb = linked_pair(false)
collectgarbage(); collectgarbage()
check(wa:strong_count() == 1 and wb:strong_count() == 1,
      "E2: each held once, by the other: " .. wa:strong_count() .. ", " .. wb:strong_count())
check(wa:upgrade() ~= nil and wb:upgrade() ~= nil, "E2: the cycle keeps both nodes alive")
do -- cutting one link by hand frees both (or the exit report would list them)
  local g = wa:upgrade():lock(); g.value.next = nil; g:unlock()
end
collectgarbage(); collectgarbage()
check(wa:upgrade() == nil and wb:upgrade() == nil, "E2: cut, the pair is freed")
wa, wb = linked_pair(true)
collectgarbage(); collectgarbage()
check(wa:upgrade() == nil and wb:upgrade() == nil, "E2 fixed: a weak back reference frees both")
check(tostring(wa):find("(dropped)", 1, true), tostring(wa))
-- A channel whose stored value holds its own sender: a watch channel keeps
-- its value while a sender lives, so that is a cycle too (a Weak sender
-- breaks it); an mpsc receiver drops what is buffered when it goes, so a
-- message holding its own sender is freed with it. weak: the value holds a
-- Weak of the sender (true) or the sender (false; nil where senders have no
-- Weak). Returns whether the marker next to it survived, and a Weak sender.
local function sender_in_value(make, weak)
  local tx, rx = make()
  local marker = rt.sync.Mutex.new(0, "e2 marker")
  local wm = rt.sync.Weak.new(marker)
  local wtx = weak ~= nil and rt.sync.Weak.new(tx) or nil
  tx:send({tx = weak and wtx or tx, marker = marker})
  tx, rx, marker = nil, nil, nil
  collectgarbage(); collectgarbage()
  return wm:upgrade() ~= nil, wtx
end
local kept, wtx = sender_in_value(function() return rt.sync.watch.channel(0) end, false)
check(kept, "E2: a watch value holding its sender keeps the channel (and the value) alive")
wtx:upgrade():send_replace(0) -- replacing the value cuts the cycle (else the exit report lists it)
collectgarbage(); collectgarbage()
check(wtx:upgrade() == nil, "E2: cut, the watch channel is freed")
check(not sender_in_value(function() return rt.sync.watch.channel(0) end, true),
      "E2 fixed: with a Weak sender in the value, all is freed")
check(not sender_in_value(rt.sync.mpsc.unbounded_channel, nil),
      "E2: an mpsc message holding its sender is freed with the receiver")
-- As a program (tests/lua/scenarios/node_cycle.lua): the leak report at exit
-- names the nodes of the cycle; with the fix there is none.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local run = dofile(here .. "scenarios/run.lua")
local out = run("node_cycle", "broken")
check(out:find("node a is still alive", 1, true), "E2 broken: a survives\n" .. out)
check(out:find("2 shared objects are still alive", 1, true) and out:find("a reference cycle", 1, true)
      and out:find('Mutex #%d+ "node a" unlocked: 1 strong reference')
      and out:find('Mutex #%d+ "node b" unlocked: 1 strong reference'),
      "E2 broken: the exit report lists both nodes\n" .. out)
out = run("node_cycle", "fixed")
check(out:find("b.prev is node a", 1, true) and out:find("node a is freed", 1, true),
      "E2 fixed: the list walks back and is freed\n" .. out)
check(not out:find("still alive after", 1, true), "E2 fixed: no leak report\n" .. out)
print("test_pitfalls_tasks: ok")
