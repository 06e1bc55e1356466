-- test_pitfalls_locks.lua — catalogue group B, locks and shared state: each
-- pitfall in a few lines of Lua, its measurable symptom, and the fix not
-- showing it. (B3 is in test_pitfalls.lua, B5 in test_select.lua.)
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- B1, "The Silent Hang": a std mutex held across an await. The scenario runs
-- in its own asynclab process (tests/lua/scenarios/silent_hang.lua): broken,
-- its runtime hangs for good, which only a process exit ends.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local run = dofile(here .. "scenarios/run.lua")
local function silent_hang(mode) return run("silent_hang", mode) end
local out = silent_hang("broken")
check(out:find("health: timed out", 1, true), "B1 broken: the health check should time out\n" .. out)
local _, stuck = out:gsub("blocked +in std%.sync%.Mutex lock", "")
check(stuck == 2, "B1 broken: the dump should show both workers stuck in the lock\n" .. out)
check(out:find('"auth alice"%s+idle.-waiting on timer %d+ %(overdue by'),
      "B1 broken: the holder's timer is overdue, no worker left to run it\n" .. out)
out = silent_hang("fixed")
local ms = tonumber(out:match("health: ([%d.]+) ms"))
check(ms and ms < 500, "B1 fixed: the health check answers\n" .. out)

-- B2: an async mutex held across an await serializes every task behind it;
-- narrowing the critical section (update, unlock, then wait) does not.
local function run_requests(narrow)
  local m = rt.sync.Mutex.new(0, "counter")
  local t0 = rt.time.now()
  local hs = {}
  for i = 1, 20 do
    hs[i] = rt.spawn(function(m, narrow)
      local g = m:lock()
      g.value = g.value + 1
      if narrow then g:unlock() end
      rt.time.sleep(5) -- the slow part (a query), with or without the lock
      if not narrow then g:unlock() end
    end, m, narrow)
  end
  for _, h in ipairs(hs) do h:await() end
  local g = m:lock()
  assert(g.value == 20)
  g:unlock()
  return rt.time.now() - t0
end
local broken, fixed = run_requests(false), run_requests(true)
check(broken >= 95, "B2: 20 holders of 5 ms each take >= 100 ms in turn: " .. broken .. " ms")
check(fixed < broken / 2, "B2: narrowed, they overlap: " .. fixed .. " vs " .. broken .. " ms")

-- B4: blocking synchronization under contention: tasks holding a std mutex
-- through blocking work make the waiting WORKERS block (the console shows
-- the std mutex's contended waits, and the tasks' polls eat worker time);
-- the async mutex makes them wait as tasks, and the workers stay free.
local function workers(kind)
  local lock = kind == "std" and std.sync.Mutex.new(0, "std-cache")
                              or rt.sync.Mutex.new(0, "async-cache")
  local hs = {}
  for i = 1, 4 do
    hs[i] = rt.task.Builder.new():name(kind .. "-client-" .. i):spawn(function(m, kind)
      for _ = 1, 3 do
        local g = m:lock()
        if kind == "std" then std.thread.sleep(15) else rt.time.sleep(15) end
        g.value = g.value + 1
        g:unlock()
        rt.task.yield_now()
      end
    end, lock, kind)
  end
  for _, h in ipairs(hs) do h:await() end
  local busy = 0 -- worker time the four tasks took
  for _, t in ipairs(rt.tasks()) do
    if t.name:find("^" .. kind .. "%-client%-") then busy = busy + t.busy_ms end
  end
  return busy
end
local function ms(text) -- "33.6ms" -> 33.6
  local n, unit = text:match("^([%d.]+)(%a+)$")
  return tonumber(n) * ({ns = 1e-6, us = 1e-3, ms = 1, s = 1e3})[unit]
end
local busy_std, busy_async = workers("std"), workers("async")
-- its row in the console's resources (the lock is dropped by now: the row ends "(dropped)")
local row = rt.console():match("std mutex%s+std%-cache[^\n]*")
local wait_max = row and row:gsub("%s*%(dropped%)$", ""):match("(%S+)$")
check(wait_max and ms(wait_max) >= 5, "B4: contended waits on the std mutex: " .. tostring(wait_max))
-- 12 sleeps of 15 ms inside polls, plus the time workers sat in lock()
check(busy_std >= 180, "B4: the std version holds workers for its sleeps and waits: " .. busy_std)
check(busy_async < 60, "B4: the async version leaves the workers free: " .. busy_async .. " ms")
print("test_pitfalls_locks: ok")
