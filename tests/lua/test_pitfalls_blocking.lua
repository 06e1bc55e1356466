-- test_pitfalls_blocking.lua — catalogue group A, blocking the executor: each
-- pitfall in a few lines of Lua, its measurable symptom, and the fix not
-- showing it.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- The worst gap between beats of a 5 ms heartbeat sharing ONE worker
-- (current-thread runtime) with work(...) run as another task.
local function heartbeat_gap(work, ...)
  local r = rt.runtime.Builder.new_current_thread():enable_all():build()
  return r:block_on(function(work, ...)
    local beats = rt.spawn(function()
      local last, worst = rt.time.now(), 0
      for _ = 1, 30 do
        rt.time.sleep(5)
        local t = rt.time.now()
        if t - last > worst then worst = t - last end
        last = t
      end
      return worst
    end)
    rt.time.sleep(10)
    rt.spawn(work, ...):await()
    return beats:await()
  end, work, ...)
end

-- A1 / C4: a blocking sleep stalls a heartbeat sharing the thread; the async
-- sleep does not. One worker (current-thread), so they share it for sure.
local broken = heartbeat_gap(function() std.thread.sleep(150) end)
local fixed = heartbeat_gap(function() rt.time.sleep(150) end)
check(broken >= 140, "the heartbeat should stall behind std.thread.sleep: " .. broken .. " ms")
check(fixed < 100, "the heartbeat should keep beating with rt.time.sleep: " .. fixed .. " ms")

-- A2: CPU-heavy work inside a task holds the worker for the whole poll; the
-- fix moves it to the blocking pool.
broken = heartbeat_gap(function() std.hint.spin(300) end)
fixed = heartbeat_gap(function() rt.task.spawn_blocking(std.hint.spin, 300):await() end)
check(broken >= 290, "A2: the heartbeat should stall behind std.hint.spin: " .. broken .. " ms")
check(fixed < 150, "A2: with spawn_blocking the heartbeat keeps beating: " .. fixed .. " ms")
-- ... and the console model sees the long poll (the poll-time maximum)
local cruncher = rt.task.Builder.new():name("cruncher"):spawn(function() std.hint.spin(60) end)
cruncher:await()
local seen
for _, t in ipairs(rt.tasks()) do
  if t.name == "cruncher" then seen = t end
end
check(seen and seen.poll_p99_ms >= 50, "A2: the cruncher's poll time: " .. tostring(seen and seen.poll_p99_ms))

-- A3: synchronous I/O in a task. A FIFO whose writer takes 300 ms to answer
-- stands in for a slow disk or a synchronous database call.
local fifo = os.tmpname()
os.remove(fifo)
check(os.execute("mkfifo " .. fifo), "mkfifo")
local function slow_writer(path) -- runs on the blocking pool: it may block
  local f = io.open(path, "w")   -- waits for the reader to open
  std.thread.sleep(300)
  f:write("row 1\n")
  f:close()
end
local function read_sync(path)
  local w = rt.task.spawn_blocking(slow_writer, path)
  local text = std.io.read_file(path) -- blocks the worker thread
  w:await()
  assert(text == "row 1\n", tostring(text))
end
local function read_off_worker(path)
  local w = rt.task.spawn_blocking(slow_writer, path)
  local text = rt.task.spawn_blocking(std.io.read_file, path):await()
  w:await()
  assert(text == "row 1\n", tostring(text))
end
broken = heartbeat_gap(read_sync, fifo)
fixed = heartbeat_gap(read_off_worker, fifo)
os.remove(fifo)
check(broken >= 290, "A3: the heartbeat should stall behind std.io.read_file: " .. broken .. " ms")
check(fixed < 150, "A3: reading on the blocking pool keeps it beating: " .. fixed .. " ms")

-- A4: spawn_blocking used as a general CPU scheduler: the blocking pool grows
-- a thread per job waiting for one; a semaphore bounding the jobs keeps it
-- small. The jobs wait at a gate (a std mutex held until the pool has grown
-- as far as it will), so the count does not depend on how fast they run: it
-- is how many threads the jobs demand at once.
local function peak_blocking_threads(bounded)
  local r = rt.runtime.Builder.new_multi_thread():worker_threads(2):enable_all():build()
  local gate = std.sync.Mutex.new(0, "gate")
  local peak = r:block_on(function(bounded, gate)
    local closed = gate:lock()
    local limit = rt.sync.Semaphore.new(2)
    local jobs = {}
    for i = 1, 16 do
      jobs[i] = rt.spawn(function(bounded, limit, gate)
        local permit = bounded and limit:acquire()
        rt.task.spawn_blocking(function(gate)
          gate:lock():unlock()
          std.hint.spin(2)
        end, gate):await()
        if permit then permit:release() end
      end, bounded, limit, gate)
    end
    local expect, deadline = bounded and 2 or 16, rt.time.now() + 5000
    local m = rt.runtime.Handle.current()
    while m:metrics().num_blocking_threads < expect and rt.time.now() < deadline do
      rt.task.yield_now()
    end
    local demanded = m:metrics().num_blocking_threads
    closed:unlock()
    for _, j in ipairs(jobs) do j:await() end
    return demanded
  end, bounded, gate)
  r:shutdown_timeout(1000)
  return peak
end
broken, fixed = peak_blocking_threads(false), peak_blocking_threads(true)
check(broken == 16, "A4: 16 unbounded jobs should grow the pool to 16 threads: " .. broken)
check(fixed == 2, "A4: a 2-permit semaphore keeps the pool at 2 threads: " .. fixed)

-- A5: a loop that never awaits never yields: the never-yielded lint fires
-- while it runs. With rt.task.yield_now() in the loop, it does not.
local function busy(name, yield)
  return rt.task.Builder.new():name(name):spawn(function(yield)
    local stop = os.clock() + 0.3
    while os.clock() < stop do
      if yield then rt.task.yield_now() end
    end
  end, yield)
end
local function fired(name)
  for _, l in ipairs(rt.lints()) do
    if l.lint == "never-yielded" and l.message:find('"' .. name .. '"', 1, true) then return l end
  end
end
local spinner = busy("spinner", false)
local deadline = rt.time.now() + 3000
while not fired("spinner") and rt.time.now() < deadline do rt.time.sleep(10) end
check(fired("spinner"), "A5: never-yielded did not fire for the loop without awaits")
spinner:await()
busy("polite", true):await()
check(not fired("polite"), "A5: never-yielded fired for a loop that yields")
print("test_pitfalls_blocking: ok")
