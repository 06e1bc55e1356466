-- test_viz_hooks.lua — rt.viz.caption / highlight / marker: accepted
-- arguments, clear errors for the others (nothing recorded then). What they
-- record is checked from outside in run.sh (asynclab trace log --filter lesson).
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "expected an error matching " .. pattern)
  check(tostring(err):find(pattern, 1, true), "error: " .. tostring(err))
end

check(type(rt.viz) == "table")
rt.viz.caption("hello")
rt.viz.caption(nil)
rt.viz.caption("")
rt.viz.marker("start")
local m = rt.sync.Mutex.new(0)
local tx, rx = rt.sync.mpsc.channel(4)
local h = rt.spawn(function()
  rt.viz.caption("inside a task")
  rt.viz.highlight({task = rt.task.id()})
  rt.viz.marker("in the task")
  return 1
end)
rt.viz.highlight(h, 0, m, rt.sync.Semaphore.new(1), rt.sync.Notify.new(), tx, rx,
                 rt.sync.RwLock.new(1), rt.sync.Barrier.new(2),
                 {worker = 0}, {resource = 7}, {task = 1})
rt.viz.highlight()
rt.viz.highlight(nil)
check(h:await() == 1)

local workers = rt.metrics().num_workers
fails("no worker " .. workers, rt.viz.highlight, workers)
fails("no worker -1", rt.viz.highlight, -1)
fails("a JoinHandle, a worker index", rt.viz.highlight, "task 1")
fails("got Instant", rt.viz.highlight, rt.time.Instant.now())
fails("a table with task, worker or resource", rt.viz.highlight, {})
fails("task must be a non-negative integer", rt.viz.highlight, {task = "x"})
fails("at most 16", rt.viz.highlight, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
fails("a marker needs a name", rt.viz.marker, "")
fails("bad argument #1 to 'rt.viz.marker'", rt.viz.marker)
fails("bad argument #1 to 'rt.viz.caption'", rt.viz.caption, {})
check(rt.help("rt.viz.highlight"):find("JoinHandle", 1, true))
print("test_viz_hooks: ok")
