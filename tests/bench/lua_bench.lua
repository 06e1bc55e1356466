-- lua_bench.lua — the Lua layer's benchmarks (run by `make bench` through the
-- asynclab program), printed as the same TSV rows as the C suite:
--   impl  name  median_total_ns  min_total_ns  ops  median_ns_per_op  min_ns_per_op
-- Rows: lua_spawn_trivial (spawn, run, complete, join a task that returns
-- its argument), lua_yield_many (Lua port of yield_many: 200 tasks x 200
-- yields), lua_ping_pong (Lua port of ping_pong: 1000 pingers, each spawning
-- a ponger and doing one round trip over two oneshot channels).
local filter = arg[1]
local reps = tonumber(os.getenv("BENCH_REPS") or "") or 11

local function now_ns() return rt.time.now() * 1e6 end

local function run(name, ops, body)
  if filter and not name:find(filter, 1, true) then return end
  body() -- warm-up: fills the workers' pools of task states
  local times = {}
  for i = 1, reps do
    local t0 = now_ns()
    body()
    times[i] = now_ns() - t0
  end
  table.sort(times)
  local med, min = times[(reps + 1) // 2], times[1]
  print(string.format("asynclab-lua\t%s\t%.0f\t%.0f\t%d\t%.1f\t%.1f", name, med, min, ops,
                      med / ops, min / ops))
end

local N_SPAWN = 10000
run("lua_spawn_trivial", N_SPAWN, function()
  rt.spawn(function()
    local hs = {}
    for i = 1, N_SPAWN do hs[i] = rt.spawn(function(x) return x end, i) end
    for i = 1, N_SPAWN do hs[i]:await() end
  end):await()
end)

local TASKS, YIELDS = 200, 200
run("lua_yield_many", TASKS * YIELDS, function()
  local hs = {}
  for i = 1, TASKS do
    hs[i] = rt.spawn(function(n) for _ = 1, n do rt.task.yield_now() end end, YIELDS)
  end
  for i = 1, TASKS do hs[i]:await() end
end)

local PINGS = 1000
run("lua_ping_pong", PINGS, function()
  rt.spawn(function()
    local hs = {}
    for i = 1, PINGS do
      hs[i] = rt.spawn(function()
        local ping_tx, ping_rx = rt.sync.oneshot.channel()
        local pong_tx, pong_rx = rt.sync.oneshot.channel()
        rt.spawn(function() pong_tx:send(ping_rx:recv()) end)
        ping_tx:send("ping")
        return pong_rx:recv()
      end)
    end
    for i = 1, PINGS do hs[i]:await() end
  end):await()
end)
