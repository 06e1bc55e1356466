-- test_barrier.lua — rt.sync.Barrier: n tasks meet; one leader per round.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end

-- nobody passes before the n-th arrives; exactly one leader; reusable
local b = rt.sync.Barrier.new(5, "meet")
local arrived = rt.sync.Mutex.new(0)
local hs = {}
for i = 1, 4 do
  hs[i] = rt.spawn(function()
    local results = {}
    for round = 1, 3 do
      local g = arrived:lock(); g.value = g.value + 1; g:unlock()
      results[round] = b:wait()
    end
    return results
  end)
end
-- the top level is the fifth party
local leaders = {0, 0, 0}
for round = 1, 3 do
  local function count() local g = arrived:lock(); local v = g.value; g:unlock(); return v end
  while count() < 4 * round do rt.time.sleep(1) end
  rt.time.sleep(2)
  check(not hs[1]:is_finished(), "a task passed the barrier early")
  if b:wait() then leaders[round] = leaders[round] + 1 end
end
for i = 1, 4 do
  local r = hs[i]:await()
  for round = 1, 3 do if r[round] then leaders[round] = leaders[round] + 1 end end
end
for round = 1, 3 do check(leaders[round] == 1, "round " .. round .. " leaders " .. leaders[round]) end
check(b:generation() == 3, "generation " .. b:generation())
check(tostring(b):find("n=5, 3 generations completed", 1, true), tostring(b))

-- Barrier.new(1) and (0): every wait is a leader at once
check(rt.sync.Barrier.new(1):wait() == true)
check(rt.sync.Barrier.new(0):wait() == true)
check(rt.spawn(function() return rt.sync.Barrier.new(1):wait() end):await() == true)

-- many rounds, many tasks, on the workers only
local big = rt.sync.Barrier.new(16)
local ws = {}
for i = 1, 16 do
  ws[i] = rt.spawn(function()
    local n = 0
    for _ = 1, 20 do if big:wait() then n = n + 1 end end
    return n
  end)
end
local total = 0
for i = 1, 16 do total = total + ws[i]:await() end
check(total == 20, "one leader per round: " .. total)

-- bad arguments
fails("bad argument #1 to 'new' (number expected, got string)", function() rt.sync.Barrier.new("x") end)
fails("bad argument #1 to 'rt.sync.Barrier.new' (the number of tasks must be", rt.sync.Barrier.new, -1)
fails("bad argument #1 to 'wait' (Barrier expected, got Mutex)", function() b.wait(arrived) end)
print("test_barrier: ok")
