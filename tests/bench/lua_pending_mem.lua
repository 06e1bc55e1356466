-- lua_pending_mem.lua — memory of pending Lua tasks: N tasks (arg[1], default
-- 10000) each awaiting a oneshot; prints the RSS growth per task once all
-- have started, then completes them. With arg[2] = "rt" each task also
-- names rt (rt.task.id()) first, so its state opens the asynclab API. Run:
-- ASYNCLAB_NO_CONSOLE=1 build/release/asynclab tests/bench/lua_pending_mem.lua 100000
local function rss_kb()
  for l in io.lines("/proc/self/status") do
    local v = l:match("^VmRSS:%s+(%d+)") if v then return tonumber(v) end
  end
end
local N = tonumber(arg[1] or "10000")
local with_rt = arg[2] == "rt"
local started = rt.sync.Semaphore.new(0)
local before = rss_kb()
local txs, hs = {}, {}
local t0 = rt.time.now()
for i = 1, N do
  local tx, rx = rt.sync.oneshot.channel()
  txs[i] = tx
  if with_rt then
    hs[i] = rt.spawn(function(r, s) rt.task.id(); s:add_permits(1); return r:recv() end, rx, started)
  else
    hs[i] = rt.spawn(function(r, s) s:add_permits(1); return r:recv() end, rx, started)
  end
end
started:acquire(N):release()
local during = rss_kb()
print(string.format("%d pending Lua tasks%s: %.1f KiB each (all started in %.0f ms)", N,
                    with_rt and " naming rt" or "",
                    (during - before) / N, rt.time.now() - t0))
for i = 1, N do txs[i]:send(i) end
local s = 0
for i = 1, N do s = s + hs[i]:await() end
print("all finished", s == N * (N + 1) // 2)
