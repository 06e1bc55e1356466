-- silent_hang.lua broken|fixed — pitfall B1, "The Silent Hang": an auth
-- service caches permissions behind a mutex and awaits a database query while
-- holding it; its health check (real HTTP on loopback) stops answering.
--
-- broken: std.sync.Mutex. Two more requests block both worker THREADS in
--         lock(); the holder's query finishes, but no worker is left to resume
--         it, so nobody ever unlocks: the runtime hangs for good, silently.
-- fixed:  rt.sync.Mutex. Waiting requests are tasks, not threads; the health
--         check answers at once.
-- Prints "health: N ms" or "health: timed out" and a task dump, then exits.
local mode = assert(arg[1], "usage: silent_hang.lua broken|fixed")
local Mutex = mode == "broken" and std.sync.Mutex or rt.sync.Mutex
local cache = Mutex.new({}, "permissions")

local listener = rt.net.TcpListener.bind("127.0.0.1:0")
rt.task.Builder.new():name("health server"):spawn(function()
  while true do
    local c = listener:accept()
    c:read_line()
    c:write("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK")
    c:close()
  end
end)

local function auth_request(user)
  local g = cache:lock()
  rt.time.sleep(100)            -- the "database query", awaited with the guard held
  g.value[user] = true
  g:unlock()
end
local holding = rt.sync.Notify.new()
rt.task.Builder.new():name("auth alice"):spawn(function()
  local g = cache:lock()
  holding:notify_one()
  rt.time.sleep(100)
  g.value.alice = true
  g:unlock()
end)
holding:notified()
for _, user in ipairs{"bob", "carol"} do
  rt.task.Builder.new():name("auth " .. user):spawn(auth_request, user)
end

-- The health check runs on its own runtime (the main thread's), so that it
-- can time out even when every worker of the default runtime is stuck (a
-- top-level await would wait for the default runtime, stuck too).
local client = rt.runtime.Builder.new_current_thread():enable_all():build()
local ok, ms = client:block_on(function(url)
  rt.time.sleep(20) -- let bob and carol reach lock()
  local t0 = rt.time.now()
  local ok = pcall(rt.net.http_get, url, {timeout = 1000})
  return ok, rt.time.now() - t0
end, "http://" .. listener:local_addr() .. "/health")
print(ok and string.format("health: %.1f ms", ms) or "health: timed out")
print(rt.dump()) -- the thread dump the post-mortem asked for: works with every worker stuck
io.stdout:flush()
if mode == "broken" then
  -- Nothing can end this runtime: its workers wait for a lock whose holder
  -- needs a worker. Shutting it down at exit would wait forever too, so the
  -- process ends the way a stuck service does: killed (here, by itself).
  os.execute("kill -KILL $PPID")
end
os.exit(0, false)
