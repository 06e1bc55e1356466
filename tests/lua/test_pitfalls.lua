-- test_pitfalls.lua — pitfalls from the catalogue, each in a few lines of Lua,
-- showing its symptom (and the fixed version not showing it). A1 / C4 is in
-- test_pitfalls_blocking.lua, with the other blocking pitfalls.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- B3: two tasks taking two locks in opposite orders: the deadlock lint names the cycle
local a, b = rt.sync.Mutex.new(0, "accounts"), rt.sync.Mutex.new(0, "ledger")
local s1, s2 = rt.sync.Semaphore.new(0), rt.sync.Semaphore.new(0)
local t1 = rt.task.Builder.new():name("transfer"):spawn(function()
  local ga = a:lock(); s1:add_permits(1); s2:acquire():release(); local gb = b:lock()
end)
local t2 = rt.task.Builder.new():name("audit"):spawn(function()
  local gb = b:lock(); s2:add_permits(1); s1:acquire():release(); local ga = a:lock()
end)
local cycle
for _ = 1, 200 do
  for _, l in ipairs(rt.lints()) do
    if l.lint == "deadlock" then cycle = l.message end
  end
  if cycle then break end
  rt.time.sleep(5)
end
check(cycle and cycle:find('"transfer"') and cycle:find('"audit"') and cycle:find('"accounts"')
      and cycle:find('"ledger"'), tostring(cycle))
t1:abort(); t2:abort()

-- D2: a task that re-polls itself instead of waiting: the self-wakes lint
local spinner = rt.task.Builder.new():name("poller"):spawn(function()
  for _ = 1, 50 do rt.task.yield_now() end
end)
spinner:await()
local self_wakes
for _, l in ipairs(rt.lints()) do
  if l.lint == "self-wakes" and l.message:find('"poller"') then self_wakes = l end
end
check(self_wakes, "self-wakes did not fire")

-- C5: shutting a runtime down cancels what is still pending, and says how much
local r = rt.runtime.Builder.new_multi_thread():worker_threads(1):enable_time():build()
local started = rt.sync.Semaphore.new(0)
-- They wait on a Notify, not a timer: a task still finishing the poll that
-- added its permit when the shutdown starts would make its timer during the
-- shutdown, which fails ("... it is being shutdown", as Tokio's) instead of
-- waiting to be cancelled.
for _ = 1, 3 do
  r:spawn(function(s) local n = rt.sync.Notify.new(); s:add_permits(1); n:notified() end, started)
end
started:acquire(3):release() -- all three are waiting (or about to) now
local report = r:shutdown_timeout(1000)
check(report.tasks_cancelled == 3, "cancelled " .. report.tasks_cancelled)
print("test_pitfalls: ok")
