-- test_select.lua — rt.select and rt.time.timeout, in tasks and at the top level.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- the first branch to finish wins; its key and results come back
local key, a, b = rt.select{
  slow = function() rt.time.sleep(200); return "slow" end,
  fast = function() rt.time.sleep(1); return "fast", 2 end,
}
check(key == "fast" and a == "fast" and b == 2, tostring(key))

-- inside a task, with a channel branch; the loser is cancelled at its await
local tx, rx = rt.sync.mpsc.channel(1)
local m = rt.sync.Mutex.new(0)
local h = rt.spawn(function()
  return rt.select{
    msg = function() return rx:recv() end,
    hold = function() local g = m:lock(); rt.time.sleep(60000); g:unlock() end,
  }
end)
while not m:is_locked() do rt.task.yield_now() end -- the hold branch has the lock
tx:send("hi")
local k2, v2 = h:await()
check(k2 == "msg" and v2 == "hi")
check(not m:is_locked(), "the cancelled branch released its guard")

-- timeout: in time, and elapsed
local ok, x = rt.time.timeout(100, function(n) rt.time.sleep(1); return n * 2 end, 21)
check(ok == true and x == 42)
local ok2, why = rt.time.timeout(5, function() rt.time.sleep(10000) end)
check(ok2 == false and why == "elapsed")

-- B5: detecting a would-be deadlock with try_lock and a timeout
local lock = rt.sync.Mutex.new(1)
local g = lock:lock()
local got = rt.spawn(function()
  return rt.time.timeout(20, function() return lock:lock() end)
end):await()
check(got == false, "the second lock timed out instead of hanging")
g:unlock()

-- errors in a branch surface from select
local ok3, err3 = pcall(rt.select, { bad = function() error("branch failed") end })
check(not ok3 and tostring(err3):find("branch failed", 1, true), tostring(err3))
local ok4, err4 = pcall(rt.select, { notfn = 3 })
check(not ok4 and err4:find("branch 'notfn' is a number", 1, true), err4)
-- a losing branch's to-be-closed variables run, and cannot await (no leak)
local cm = rt.sync.Mutex.new(0)
local close_err
check(rt.select{
  slow = function()
    local x <close> = setmetatable({}, {__close = function() close_err = select(2, pcall(cm.lock, cm)) end})
    rt.time.sleep(60000)
  end,
  fast = function() rt.time.sleep(2); return true end,
} == "fast")
check(close_err and close_err:find("cannot await Mutex:lock while a cancelled task's to-be-closed", 1, true), tostring(close_err))
print("test_select: ok")
