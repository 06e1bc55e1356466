-- test_rwlock.lua — rt.sync.RwLock: readers share, a writer is alone.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end

-- at the top level: read, write, values written back
local l = rt.sync.RwLock.new({n = 1}, "config")
local r = l:read()
check(r.value.n == 1)
check(l:readers() == 1 and not l:is_write_locked())
local r2 = l:read() -- readers share
check(l:readers() == 2)
check(l:try_write() == nil, "no writer while readers hold it")
fails("a read guard cannot change the value", function() r.value = 5 end)
r:unlock(); r2:unlock()
check(l:readers() == 0)
local w = l:write()
check(l:is_write_locked())
check(l:try_read() == nil, "no reader while a writer holds it")
w.value = {n = 2}
w:unlock()
check(l:read().value.n == 2, "the write was stored")
collectgarbage()
fails("already unlocked", function() return w.value end)
fails("already unlocked", w.unlock, w)
check(tostring(l):find('^RwLock #%d+ "config" unlocked'), tostring(l))

-- many tasks: readers overlap, writers exclude everyone
local stats = rt.sync.Mutex.new({readers = 0, max_readers = 0, writers = 0, bad = 0})
local function enter(kind)
  local g = stats:lock()
  local s = g.value
  if kind == "r" then
    s.readers = s.readers + 1
    if s.readers > s.max_readers then s.max_readers = s.readers end
    if s.writers > 0 then s.bad = s.bad + 1 end
  else
    s.writers = s.writers + 1
    if s.writers > 1 or s.readers > 0 then s.bad = s.bad + 1 end
  end
  g:unlock()
end
local function leave(kind)
  local g = stats:lock()
  if kind == "r" then g.value.readers = g.value.readers - 1 else g.value.writers = g.value.writers - 1 end
  g:unlock()
end
local counter = rt.sync.RwLock.new(0)
local hs = {}
local start = rt.sync.Barrier.new(8)
for i = 1, 8 do
  hs[i] = rt.spawn(function()
    start:wait()
    for k = 1, 10 do
      if (i + k) % 4 == 0 then
        local g = counter:write()
        enter("w"); rt.task.yield_now(); g.value = g.value + 1; leave("w")
        g:unlock()
      else
        local g = counter:read()
        enter("r"); rt.time.sleep(1); leave("r")
        g:unlock()
      end
    end
  end)
end
for i = 1, #hs do hs[i]:await() end
local s = stats:lock().value
check(s.bad == 0, "exclusion broken " .. s.bad)
check(s.max_readers >= 2, "readers never overlapped: " .. s.max_readers)
check(counter:read().value == 20, "writes " .. counter:read().value)
collectgarbage()

-- a writer waits for the readers; a queued writer holds back later readers
local tx2, rx2 = rt.sync.mpsc.unbounded_channel()
local held = l:read()
local function waits_on_lock(h) -- the console sees the task queued on the lock
  for _ = 1, 10000 do
    for _, t in ipairs(rt.tasks()) do
      if t.id == h:id() and t.waiting_on == "rwlock" then return end
    end
    rt.time.sleep(1)
  end
  error("task " .. h:id() .. " never waited on the lock")
end
local writer = rt.spawn(function() local g = l:write(); tx2:send("writer"); g:unlock() end)
waits_on_lock(writer)
local reader = rt.spawn(function() local g = l:read(); tx2:send("reader"); g:unlock() end)
waits_on_lock(reader)
check(rx2:len() == 0, "nobody got in while the first reader holds it")
held:unlock()
check(rx2:recv() == "writer" and rx2:recv() == "reader", "fair order")
writer:await(); reader:await()

-- guards are released when the task ends or is cancelled, and cannot be sent
rt.spawn(function() local g = l:write(); g.value = {n = 3} end):await()
check(l:read().value.n == 3, "written back when the task ended")
collectgarbage()
local holder = rt.spawn(function() local g = l:write(); rt.time.sleep(60000) end)
while not l:is_write_locked() do rt.task.yield_now() end
holder:abort()
pcall(holder.await, holder)
l:write():unlock() -- would hang if the cancelled task kept the lock
local g = l:read()
local ok, err = pcall(rt.spawn, function() return g end)
check(not ok and err:find("upvalue `g` is a RwLockReadGuard, which belongs to the task", 1, true), err)
g:unlock()

-- a value that cannot be stored: the lock is released, keeps its old value
local wg = l:write()
wg.value = {co = coroutine.create(print)}
fails("cannot store: guard.value.co is a coroutine", wg.unlock, wg)
check(l:read().value.n == 3)
collectgarbage()

-- bad arguments
fails("bad argument #1 to 'read' (RwLock expected, got number)", function() l.read(3) end)
check(rt.sync.RwLock.new():read().value == nil, "nil is a value too")
fails("bad argument #2 to 'new' (string expected, got table)", function() rt.sync.RwLock.new(1, {}) end)
fails("cannot store: the RwLock's value is a coroutine", rt.sync.RwLock.new, coroutine.create(print))
print("test_rwlock: ok")
