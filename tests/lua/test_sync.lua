-- test_sync.lua — rt.sync.Mutex / Semaphore / Notify and std.sync.Mutex.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- a counter shared by many tasks on both workers: no update is lost
local m = rt.sync.Mutex.new(0, "counter")
local hs = {}
for i = 1, 50 do
  hs[i] = rt.spawn(function()
    for _ = 1, 20 do
      local g = m:lock()
      local v = g.value
      rt.task.yield_now() -- hold the lock across an await: fine for rt.sync.Mutex
      g.value = v + 1
      g:unlock()
    end
  end)
end
for i = 1, #hs do hs[i]:await() end
local g = m:lock()
check(g.value == 1000, "counter " .. tostring(g.value))
check(m:is_locked())
check(m:try_lock() == nil, "try_lock while held")
g:unlock()
check(not m:is_locked())
check(not pcall(function() return g.value end), "a released guard refuses access")

-- tables as the guarded value
local cfg = rt.sync.Mutex.new({hits = 0, names = {}})
rt.spawn(function() local gg = cfg:lock(); gg.value.hits = 1; gg.value.names[1] = "a"; gg:unlock() end):await()
local gg = cfg:lock()
check(gg.value.hits == 1 and gg.value.names[1] == "a")
gg:unlock()

-- a guard is released when its task ends without unlocking, or is cancelled
rt.spawn(function() local lost = m:lock(); lost.value = 7 end):await()
local g2 = m:lock()
check(g2.value == 7, "value written back when the task ended")
g2:unlock()
local holder = rt.spawn(function() local held = m:lock(); rt.time.sleep(60000) end)
while not m:is_locked() do rt.task.yield_now() end
holder:abort()
pcall(holder.await, holder)
local g3 = m:lock() -- would hang if the cancelled task kept the lock
g3:unlock()

-- guards cannot be sent to another task
local g4 = m:lock()
local ok, err = pcall(rt.spawn, function() return g4 end)
check(not ok and err:find("upvalue `g4` is a MutexGuard, which belongs to the task", 1, true), err)
g4:unlock()

-- semaphore: at most 3 at a time
local sem = rt.sync.Semaphore.new(3)
local inside = rt.sync.Mutex.new({now = 0, max = 0})
local ws = {}
for i = 1, 12 do
  ws[i] = rt.spawn(function()
    local p = sem:acquire()
    local c = inside:lock(); c.value.now = c.value.now + 1
    if c.value.now > c.value.max then c.value.max = c.value.now end
    c:unlock()
    rt.time.sleep(2)
    c = inside:lock(); c.value.now = c.value.now - 1; c:unlock()
    p:release()
  end)
end
for i = 1, #ws do ws[i]:await() end
local c = inside:lock()
check(c.value.max <= 3 and c.value.max >= 1, "max inside " .. c.value.max)
c:unlock()
check(sem:available_permits() == 3)

-- notify: a waiter wakes when notified
local n = rt.sync.Notify.new()
local waiter = rt.spawn(function() n:notified(); return "woken" end)
rt.time.sleep(5)
n:notify_one()
check(waiter:await() == "woken")

-- std.sync.Mutex works (and blocks the thread, on purpose)
local sm = std.sync.Mutex.new(1)
local sg = sm:lock()
sg.value = sg.value + 1
sg:unlock()
check(sm:lock().value == 2)

-- rt.sync.Weak: does not keep its Mutex / RwLock alive; moves between tasks
do
  local m = rt.sync.Mutex.new(41, "weakly held")
  local w = rt.sync.Weak.new(m)
  check(w:strong_count() == 1, "only m holds it: " .. w:strong_count())
  check(tostring(w):find('^Weak %-> Mutex #%d+ "weakly held" unlocked'), tostring(w))
  -- a task upgrades its copy of the Weak and changes the value
  check(rt.spawn(function(w)
    local g = w:upgrade():lock(); g.value = g.value + 1; g:unlock(); return true
  end, w):await())
  check(m:lock().value == 42, "the task reached the same mutex")
  m = nil
  collectgarbage(); collectgarbage()
  check(w:upgrade() == nil and w:strong_count() == 0, "gone with its last strong handle")
  check(tostring(w) == "Weak -> Mutex (dropped)", tostring(w))
  local l = rt.sync.RwLock.new({x = 1})
  check(rt.sync.Weak.new(l):upgrade():read().value.x == 1, "an RwLock too")
  local ok, err = pcall(rt.sync.Weak.new, rt.sync.Semaphore.new(1))
  check(not ok and err:find("Mutex, RwLock, WatchSender or BroadcastSender expected, got Semaphore",
                           1, true), err)
  ok, err = pcall(rt.sync.Weak.new, 3)
  check(not ok and err:find("bad argument #1", 1, true), err)
end
print("test_sync: ok")
