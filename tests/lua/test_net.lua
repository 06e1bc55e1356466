-- test_net.lua — rt.net over real loopback sockets: an echo server task and
-- its clients, a tiny HTTP health endpoint fetched with http_get, and errors.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "expected an error like " .. pattern)
  check(tostring(err):find(pattern, 1, true), "error was: " .. tostring(err))
end

-- ---- an echo server: one task accepts, one task per connection ----
local l = rt.net.TcpListener.bind("127.0.0.1:0")
local addr = l:local_addr()
check(addr:match("^127%.0%.0%.1:%d+$"), addr)
check(tostring(l):find("^TcpListener #%d+ 127%.0%.0%.1:%d+"), tostring(l))
local peers_tx, peers_rx = rt.sync.mpsc.unbounded_channel()

local server = rt.task.Builder.new():name("echo server"):spawn(function()
  local conns = 0
  while true do
    local ok, c, peer = pcall(l.accept, l)
    if not ok then return conns, c end -- the listener was closed
    conns = conns + 1
    peers_tx:send(peer)
    rt.spawn(function()
      while true do
        local data = c:read(1000)
        if data == nil then break end -- end of stream
        c:write(data)
      end
      c:shutdown()
    end)
  end
end)

-- many clients at once, each on its own task: lines come back in order
local clients = {}
for i = 1, 8 do
  clients[i] = rt.spawn(function()
    local c = rt.net.TcpStream.connect(addr)
    local me = c:local_addr()
    for j = 1, 20 do
      c:write(("client %d line %d\n"):format(i, j))
      local line = c:read_line()
      assert(line == ("client %d line %d"):format(i, j), line)
    end
    c:shutdown()
    assert(c:read_line() == nil, "EOF after the server shut down its side")
    return me
  end)
end
local mine = {}
for i = 1, 8 do mine[clients[i]:await()] = true end
local seen = 0
for _ = 1, 8 do
  local p = peers_rx:recv()
  check(mine[p], "accept's peer is the client's local address: " .. tostring(p))
  seen = seen + 1
end
check(seen == 8)

-- a big write awaits until all is sent, while a reader task drains the echo
local c = rt.net.TcpStream.connect(addr)
check(c:peer_addr() == addr)
local big = string.rep("0123456789abcdef", 65536) -- 1 MiB
local reader = rt.spawn(function() return c:read_to_end() end) -- shared: another task reads
c:write(big)
c:shutdown()
local back = reader:await()
check(#back == #big and back == big, "1 MiB echoed, got " .. #back)
check(c:read(10) == nil, "read at end of stream returns nil")
c:close()

-- read(n) returns at most n bytes; read_line strips \n and \r\n and returns
-- the last line without newline, then nil
c = rt.net.TcpStream.connect(addr)
c:write("abcdef")
local got = ""
while #got < 6 do
  local part = c:read(4)
  check(#part >= 1 and #part <= 4, "read(4) gave " .. #part)
  got = got .. part
end
check(got == "abcdef")
c:write("one\r\ntwo\nlast")
c:shutdown()
check(c:read_line() == "one")
check(c:read_line() == "two")
check(c:read_line() == "last")
check(c:read_line() == nil)
check(c:read_to_end() == "", "read_to_end at EOF is the empty string")
c:close()

-- one reader at a time; close wakes a task waiting to read
c = rt.net.TcpStream.connect(addr)
local waiting = rt.spawn(function() return pcall(c.read_line, c) end)
local function idle(h) -- the task is waiting (it polled, and went idle)
  for _, t in ipairs(rt.tasks()) do
    if t.id == h:id() then return t.polls >= 1 and t.state == "idle", t.waiting_on end
  end
end
repeat rt.time.sleep(1) until idle(waiting)
fails("another task is already reading from this TcpStream", c.read, c)
c:write("x") -- a writer beside the reader is fine
c:close()
local ok, err = waiting:await()
check(not ok and err:find("the TcpStream was closed", 1, true), tostring(err))
check(tostring(c):find("(closed)", 1, true), tostring(c))
fails("this TcpStream was closed", c.read, c)
fails("this TcpStream was closed", c.write, c, "x")
fails("this TcpStream was closed", c.shutdown, c)
fails("this TcpStream was closed", c.peer_addr, c)
c:close() -- twice is fine

-- a cancelled accept frees the listener for the next one
local l2 = rt.net.TcpListener.bind("localhost:0")
local h = rt.spawn(function() return l2:accept() end)
repeat rt.time.sleep(1) until idle(h)
h:abort()
check(not pcall(h.await, h))
local acc = rt.spawn(function() local s, peer = l2:accept(); s:write("hi"); return peer end)
local c2 = rt.net.TcpStream.connect(l2:local_addr())
check(c2:read(2) == "hi")
check(acc:await() == c2:local_addr())
c2:close()
l2:close()
fails("this TcpListener was closed", l2.accept, l2)
fails("this TcpListener was closed", l2.local_addr, l2)

-- stop the echo server by closing its listener
l:close()
local n, why = server:await()
check(n == 8 + 3, "connections: " .. tostring(n))
-- (waiting in accept: "the TcpListener was closed"; between two accepts:
-- "this TcpListener was closed (l:close())")
check(why:find("TcpListener was closed", 1, true), why)

-- ---- a health endpoint served by a task, fetched with http_get ----
local hl = rt.net.TcpListener.bind("127.0.0.1:0")
local base = "http://" .. hl:local_addr()
local http = rt.task.Builder.new():name("http"):spawn(function()
  while true do
    local conn = hl:accept()
    rt.spawn(function()
      local request = conn:read_line()
      repeat local header = conn:read_line() until header == nil or header == ""
      local path = request:match("^GET (%S+) HTTP/1%.%d$")
      if path == "/health" then
        conn:write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
        rt.time.sleep(3000) -- Content-Length ends the response, not the close
      elseif path == "/stream" then
        conn:write("HTTP/1.0 200 OK\r\n\r\n")
        for i = 1, 3 do conn:write("part" .. i .. ";"); rt.task.yield_now() end
      elseif path == "/slow" then
        rt.time.sleep(2000)
      elseif path == "/junk" then
        conn:write("hello there\n\n")
      else
        conn:write("HTTP/1.0 404 Not Found\r\n\r\nno " .. tostring(path))
      end
      conn:close()
    end)
  end
end)

local t0 = rt.time.now()
local status, body, headers = rt.net.http_get(base .. "/health")
check(status == 200 and body == "ok", tostring(status) .. " " .. tostring(body))
check(headers["content-type"] == "text/plain" and headers["content-length"] == "2")
check(rt.time.now() - t0 < 2000, "ended at Content-Length")
status, body = rt.net.http_get(base .. "/stream")
check(status == 200 and body == "part1;part2;part3;", body)
status, body = rt.net.http_get(base .. "/nothing?x=1")
check(status == 404 and body == "no /nothing?x=1", body)
-- from tasks too, many at once
local checks = {}
for i = 1, 5 do checks[i] = rt.spawn(function() return rt.net.http_get(base .. "/health", {timeout = 2000}) end) end
for i = 1, 5 do check(checks[i]:await() == 200) end

t0 = rt.time.now()
fails("timed out after 100 ms", rt.net.http_get, base .. "/slow", {timeout = 100})
check(rt.time.now() - t0 < 1000, "the timeout fired")
fails("not an HTTP response", rt.net.http_get, base .. "/junk")
local port = hl:local_addr():match(":(%d+)$")
hl:close() -- the server task's accept fails: it ends (a panic: it did not pcall)
check(not pcall(http.await, http))
fails("connection refused", rt.net.http_get, "http://127.0.0.1:" .. port .. "/health")
fails("https is not supported", rt.net.http_get, "https://127.0.0.1/")
fails("an http:// URL expected", rt.net.http_get, "127.0.0.1:80/")
fails("timeout: a duration", rt.net.http_get, base, {timeout = -1})

-- ---- errors ----
fails("cannot connect to 127.0.0.1:" .. port .. ": connection refused", rt.net.TcpStream.connect,
  "127.0.0.1:" .. port)
fails("invalid address", rt.net.TcpStream.connect, "example.com:80")
fails("invalid address", rt.net.TcpStream.connect, "127.0.0.1")
fails("cannot bind 'nope:1': invalid address", rt.net.TcpListener.bind, "nope:1")
fails("cannot bind '127.0.0.1:99999'", rt.net.TcpListener.bind, "127.0.0.1:99999")
local busy = rt.net.TcpListener.bind("127.0.0.1:0")
fails("Address already in use", rt.net.TcpListener.bind, busy:local_addr())
busy:close()
local bl = rt.net.TcpListener.bind("127.0.0.1:0")
local bc = rt.net.TcpStream.connect(bl:local_addr())
fails("(a byte count from 1", bc.read, bc, 0)
fails("string expected", bc.write, bc, {})
bc:close()
bl:close()
-- a runtime without I/O says so, in Tokio's words
local noio = rt.runtime.Builder.new_current_thread():enable_time():build()
local ok2, err2 = noio:block_on(function() return pcall(rt.net.TcpListener.bind, "127.0.0.1:0") end)
check(not ok2 and err2:find("IO is disabled", 1, true), tostring(err2))
noio:shutdown_timeout(100)

print("test_net: ok")
