-- test_api_names.lua — every name of the Lua API contract
-- (../shared/brief/lua-api.md) exists, functions and methods alike. The
-- behaviour of each is tested in the other test_*.lua files; this file makes
-- a name dropped or misspelt fail by name.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

local function resolve(path)
  local v = _ENV
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local functions = {
  "rt.spawn", "rt.select", "rt.future", "rt.console", "rt.tasks", "rt.dump", "rt.lints",
  "rt.metrics", "rt.help", "rt.trace.start", "rt.trace.stop", "rt.viz.open", "rt.viz.close",
  "rt.runtime.Builder.new_multi_thread", "rt.runtime.Builder.new_current_thread",
  "rt.runtime.Handle.current", "rt.runtime.Handle.try_current", "rt.runtime.default",
  "rt.runtime.LocalSet.new",
  "rt.task.spawn", "rt.task.Builder.new", "rt.task.yield_now", "rt.task.spawn_blocking",
  "rt.task.block_in_place", "rt.task.spawn_local", "rt.task.JoinSet.new", "rt.task.id",
  "rt.time.sleep", "rt.time.now", "rt.time.interval", "rt.time.timeout", "rt.time.pause",
  "rt.time.advance", "rt.time.resume",
  "rt.sync.Mutex.new", "rt.sync.RwLock.new", "rt.sync.Semaphore.new", "rt.sync.Notify.new",
  "rt.sync.mpsc.channel", "rt.sync.mpsc.unbounded_channel", "rt.sync.oneshot.channel",
  "rt.sync.broadcast.channel", "rt.sync.watch.channel", "rt.sync.Barrier.new",
  "rt.net.TcpListener.bind", "rt.net.TcpStream.connect", "rt.net.http_get",
  "std.thread.sleep", "std.sync.Mutex.new", "std.hint.spin", "std.io.read_file",
}
for _, name in ipairs(functions) do
  check(type(resolve(name)) == "function", name .. " is missing (" .. type(resolve(name)) .. ")")
end
check(resolve("rt.PENDING") ~= nil, "rt.PENDING is missing")
check(resolve("rt.time.Instant") ~= nil, "rt.time.Instant is missing")

-- methods, on real objects
local function has(obj, what, methods)
  for _, m in ipairs(methods) do
    check(type(obj[m]) == "function", what .. ":" .. m .. " is missing")
  end
end
local b = rt.runtime.Builder.new_multi_thread()
has(b, "Builder", {"worker_threads", "enable_time", "enable_io", "enable_all",
                   "max_blocking_threads", "thread_name", "event_interval",
                   "global_queue_interval", "build"})
local runtime = b:worker_threads(1):enable_all():build()
has(runtime, "Runtime", {"block_on", "spawn", "handle", "shutdown_timeout"})
has(runtime:handle(), "Handle", {"spawn", "block_on", "metrics"})
local h = rt.spawn(function() return 1 end)
has(h, "JoinHandle", {"await", "abort", "is_finished", "id"})
h:await()
has(rt.task.Builder.new(), "task Builder", {"name", "spawn"})
local set = rt.task.JoinSet.new()
has(set, "JoinSet", {"spawn", "join_next", "len", "abort_all"})
local m = rt.sync.Mutex.new(0)
has(m, "Mutex", {"lock", "try_lock"})
local g = m:lock()
has(g, "MutexGuard", {"unlock"})
check(g.value == 0, "guard.value")
g:unlock()
local rw = rt.sync.RwLock.new(0)
has(rw, "RwLock", {"read", "write"})
local s = rt.sync.Semaphore.new(1)
has(s, "Semaphore", {"acquire", "available_permits"})
has(s:acquire(), "permit", {"release"})
has(rt.sync.Notify.new(), "Notify", {"notified", "notify_one", "notify_waiters"})
local tx, rx = rt.sync.mpsc.channel(1)
has(tx, "mpsc Sender", {"send", "clone"})
has(rx, "mpsc Receiver", {"recv", "close"})
local btx = rt.sync.broadcast.channel(1)
has(btx, "broadcast Sender", {"send", "subscribe"})
local _, wrx = rt.sync.watch.channel(0)
has(wrx, "watch Receiver", {"changed", "borrow"})
has(rt.sync.Barrier.new(1), "Barrier", {"wait"})
has(rt.time.interval(1000), "Interval", {"tick"})
local l = rt.net.TcpListener.bind("127.0.0.1:0")
has(l, "TcpListener", {"local_addr", "accept"})
local c = rt.net.TcpStream.connect(l:local_addr())
has(c, "TcpStream", {"read", "read_line", "write", "shutdown"})
c:close()
rt.spawn(function()
  return rt.future{ poll = function(cx)
    has(cx.waker, "Waker", {"wake", "wake_by_ref", "clone"})
    return true
  end }:await()
end):await()
runtime:shutdown_timeout(1000)
print("test_api_names: ok")
