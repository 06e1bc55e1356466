-- test_inspect.lua — rt.dump / rt.console / rt.tasks / rt.lints / rt.metrics /
-- rt.trace from Lua, on the program's default runtime.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

local hb = rt.task.Builder.new():name("heartbeat"):spawn(function()
  for _ = 1, 20 do rt.time.sleep(2) end
end)
local entered = rt.sync.Notify.new()
local blocker = rt.task.Builder.new():name("blocker"):spawn(function()
  entered:notify_one()
  std.thread.sleep(400) -- the classic mistake: a blocking sleep inside a task
end)
entered:notified()
local dump
for _ = 1, 400 do -- until the model has seen the worker block
  dump = rt.dump()
  if dump:find("in std%.thread%.sleep 400 ms") then break end
  rt.task.yield_now()
end
check(dump:find('task %d+ "blocker" +blocked +on worker %d in std%.thread%.sleep'), dump)
check(dump:find("worker %d  blocked +in std%.thread%.sleep 400 ms"), dump)
check(dump:find('"heartbeat"'), dump)

local found
for _, t in ipairs(rt.tasks()) do
  if t.name == "blocker" then found = t end
end
check(found and found.state == "blocked" and found.polls == 1, "tasks(): blocker")

-- never-yielded fires live, while the task is still stuck (threshold 100 ms)
local deadline = rt.time.now() + 2000
local fired
repeat
  for _, l in ipairs(rt.lints()) do
    if l.lint == "never-yielded" and l.message:find('"blocker"') then fired = l end
  end
  if not fired then rt.time.sleep(10) end
until fired or rt.time.now() > deadline
check(fired, "never-yielded did not fire")
blocker:await()
hb:await()

local long
for _, l in ipairs(rt.lints()) do
  if l.lint == "long-poll" and l.message:find('"blocker"') then long = l end
end
check(long and long.message:find("std.thread.sleep 400 ms", 1, true), "long-poll")

local console = rt.console()
check(console:find("WORKERS") and console:find("TASKS") and console:find("heartbeat"), console)

local m = rt.metrics()
check(m.num_workers >= 1 and #m.poll_count == m.num_workers and m.spawned_tasks_count >= 2)

local path = os.tmpname()
rt.trace.start(path)
rt.spawn(function() rt.time.sleep(1) end):await()
local r = rt.trace.stop()
check(r and r.events > 0 and r.path == path, "trace")
local f = io.open(path, "rb")
check(f:read(8) == "ALTRACE\0", "trace file magic")
f:close()
os.remove(path)
check(rt.trace.stop() == nil, "stop when not recording")
-- Each Lua task's traceback is in the console model: rt.tasks() and rt.dump()
-- show where a waiting task is suspended (its function, its line).
local go = rt.sync.Notify.new()
local parked_here = debug.getinfo(1, "l").currentline + 2
local function wait_for_go()
  go:notified()
end
local waiter = rt.task.Builder.new():name("waiter"):spawn(function() wait_for_go() end)
local entry
local until_ms = rt.time.now() + 5000
repeat -- until the model has seen the waiter suspended (a deadline, not a guess)
  entry = nil
  for _, t in ipairs(rt.tasks()) do
    if t.name == "waiter" and t.state == "idle" then entry = t end
  end
  if not (entry and entry.traceback) then rt.time.sleep(2) end
until (entry and entry.traceback) or rt.time.now() > until_ms
check(entry and entry.traceback, "tasks(): no traceback for the waiter")
check(entry.traceback:find("^waiting in "), entry.traceback)
check(entry.traceback:find("wait_for_go"), entry.traceback)
check(entry.traceback:find(":" .. parked_here .. ":", 1, true), entry.traceback)
dump = rt.dump()
local at = dump:find('"waiter"', 1, true)
check(at and dump:find("wait_for_go", at, true), dump)
go:notify_one()
waiter:await()
for _, t in ipairs(rt.tasks()) do
  check(not (t.name == "waiter" and t.state ~= "done" and t.traceback), "traceback of a done task")
end
print("test_inspect: ok")
