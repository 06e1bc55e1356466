-- test_time.lua — rt.time.interval, Instant, sleep_until, and paused time.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end

-- Instant: elapsed, arithmetic, comparisons; it moves between tasks
local t0 = rt.time.Instant.now()
rt.time.sleep(5)
local t1 = rt.time.Instant.now()
check(t0:elapsed() >= 5, "elapsed " .. t0:elapsed())
check(t1 - t0 >= 5 and t1:duration_since(t0) == t1 - t0)
check(t0:duration_since(t1) == 0, "saturates at 0")
check(t0 < t1 and t0 <= t1 and not (t1 < t0) and t0 == t0 and t0 ~= t1)
check((t0 + 10) - t0 == 10 and (10 + t0) == t0:add(10) and (t0 + 10) - 10 == t0)
check(math.abs(t0:ms() - rt.time.now()) < 60000, "the rt.time.now() clock")
check(tostring(t0):find("^Instant %("), tostring(t0))
local in_task = rt.spawn(function(start) return start:elapsed(), rt.time.Instant.now() end, t0)
local e, t2 = in_task:await()
check(e >= 5 and t2 > t1)

-- sleep_until
local deadline = rt.time.Instant.now() + 10
rt.time.sleep_until(deadline)
check(rt.time.Instant.now() >= deadline)
rt.time.sleep_until(t0) -- in the past: at once
check(rt.spawn(function(d) rt.time.sleep_until(d); return rt.time.Instant.now() >= d end,
  rt.time.Instant.now() + 3):await())

-- interval at the top level: first tick at once, then one per period
local it = rt.time.interval(10)
check(tostring(it) == "Interval (every 10.000 ms)", tostring(it))
local first = it:tick()
local second = it:tick()
local third = it:tick()
check(second - first == 10 and third - second == 10, "ticks " .. first .. " " .. second .. " " .. third)
check(rt.time.now() >= third)
-- missed ticks burst: after blocking, the late ones come at once, on schedule
std.thread.sleep(35)
local late = {it:tick(), it:tick(), it:tick()} -- due already: no wait
check(late[1] == third + 10 and late[3] == third + 30, "the schedule does not shift")
it:reset()
local after_reset = it:tick()
check(after_reset - late[3] >= 10)
check(it:period() == 10)

-- interval in a task
local ticks = rt.spawn(function()
  local start = rt.time.Instant.now()
  local iv = rt.time.interval(2)
  local n = 0
  for _ = 1, 5 do iv:tick(); n = n + 1 end
  return n, start:elapsed()
end)
local n, took = ticks:await()
check(n == 5 and took >= 8, "5 ticks take 4 periods: " .. took)
-- one tick() at a time on an interval
local busy = rt.time.interval(60000)
busy:tick()
local ok, err = pcall(rt.select, { a = function() busy:tick() end, b = function() busy:tick() end })
check(not ok and tostring(err):find("already being awaited", 1, true), tostring(err))

-- paused time on a current-thread runtime
local r = rt.runtime.Builder.new_current_thread():enable_time():build()
local results = {r:block_on(function()
  rt.time.pause()
  local t = rt.time.Instant.now()
  local wall = os.time()
  rt.time.sleep(60000)        -- nothing else to run: the clock jumps to the timer
  local slept = t:elapsed()
  local h = rt.spawn(function() rt.time.sleep(100); return "woke" end)
  rt.task.yield_now()           -- let it register its timer
  rt.time.advance(50)
  local at50 = h:is_finished()
  rt.time.advance(50)           -- fires it, and yields so that it runs
  local at100 = h:is_finished()
  local iv = rt.time.interval(1000)
  local a = iv:tick(); local b = iv:tick(); local c = iv:tick()
  local ok2, err2 = pcall(rt.time.pause)
  rt.time.resume()
  local ok3, err3 = pcall(rt.time.resume)
  return slept, at50, at100, h:await(), b - a, c - b, os.time() - wall, err2, err3, ok2, ok3
end)}
check(results[1] >= 60000 and results[1] < 60010, "paused sleep " .. results[1])
check(results[2] == false and results[3] == true and results[4] == "woke", "advance")
check(results[5] == 1000 and results[6] == 1000, "ticks on the paused clock")
check(results[7] < 30, "no real minute went by")
check(not results[10] and results[8]:find("time is already paused", 1, true), results[8])
check(not results[11] and results[9]:find("time is not paused", 1, true), results[9])
-- a runtime that starts paused
local rp = rt.runtime.Builder.new_current_thread():enable_time():start_paused():build()
check(rp:block_on(function()
  local t = rt.time.Instant.now(); rt.time.sleep(3600 * 1000); return t:elapsed()
end) >= 3600 * 1000)

-- pause needs a current-thread runtime: clear errors elsewhere
fails("rt.time.pause() needs a current-thread runtime, and the top level runs on the default", rt.time.pause)
local ok4, err4 = rt.spawn(function() return pcall(rt.time.pause) end):await()
check(not ok4 and err4:find("works only on a current-thread runtime", 1, true), err4)
fails("rt.time.advance() needs a current-thread runtime", rt.time.advance, 10)
local rnt = rt.runtime.Builder.new_current_thread():build()
local ok5, err5 = rnt:block_on(function() return pcall(rt.time.pause) end)
check(not ok5 and err5:find("timers are disabled", 1, true), err5)

-- bad arguments
fails("bad argument #1 to 'interval' (number expected, got string)", function() rt.time.interval("x") end)
fails("bad argument #1 to 'rt.time.interval' (the period must be more than 0 ms)", rt.time.interval, 0)
fails("bad argument #1 to 'rt.time.interval' (a duration in ms", rt.time.interval, -5)
fails("bad argument #1 to 'sleep_until' (Instant expected, got number)", function() rt.time.sleep_until(5) end)
fails("bad argument #1 to 'rt.time.advance' (a duration in ms", rt.time.advance, -1)
fails("bad argument #1 to 'elapsed' (Instant expected, got Interval)", function() t0.elapsed(it) end)
fails("bad argument #1 to 'tick' (Interval expected, got Instant)", function() it.tick(t0) end)
fails("bad argument #1 to 'duration_since' (Instant expected, got number)", function() t0:duration_since(1) end)
print("test_time: ok")
