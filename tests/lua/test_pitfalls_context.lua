-- test_pitfalls_context.lua — catalogue group C, runtime context, the part
-- not in test_runtime.lua (C1, C2), test_pitfalls.lua (C4, C5): C6, an I/O
-- resource made on one runtime and awaited from another.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- C6: a listener registered with a current-thread runtime's I/O driver. Its
-- readiness is only ever noticed by that driver, which runs only inside
-- that runtime's block_on. Accepting from a task of the default runtime
-- waits silently forever, although a client has connected.
local function accept_within(ms, listener)
  local addr = listener:local_addr()
  local acceptor = rt.task.Builder.new():name("acceptor"):spawn(function(l)
    local c = l:accept()
    c:close()
    return "accepted"
  end, listener)
  local client = rt.net.TcpStream.connect(addr)
  local done, result = rt.time.timeout(ms, function() return acceptor:await() end)
  acceptor:abort()
  pcall(acceptor.await, acceptor)
  client:close()
  return done and result
end
local other = rt.runtime.Builder.new_current_thread():enable_all():build()
local foreign = other:block_on(function() return rt.net.TcpListener.bind("127.0.0.1:0") end)
check(not accept_within(300, foreign), "C6: the foreign listener's accept should never complete")
-- fixed: the listener belongs to the runtime whose task awaits it
check(accept_within(5000, rt.net.TcpListener.bind("127.0.0.1:0")) == "accepted",
      "C6 fixed: this runtime's listener accepts")
other:shutdown_timeout(1000)
print("test_pitfalls_context: ok")
