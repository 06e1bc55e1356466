-- test_viz.lua — rt.viz: the live window and step mode from Lua.
-- Without a display rt.viz.open returns nil and a message; with
-- SDL_VIDEODRIVER=offscreen (run.sh runs it so too) a headless window shows
-- the default runtime while the script goes on. Step mode holds the workers
-- before each poll: rt.viz.step() runs exactly one.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function wait_until(cond, what)
  local t0 = os.time()
  while not cond() do
    if os.time() - t0 > 10 then error("timed out waiting for " .. what, 2) end
  end
end

-- no window: a clear error, nothing breaks
if not os.getenv("DISPLAY") and not os.getenv("WAYLAND_DISPLAY") then
  local ok, msg = rt.viz.open()
  check(ok == nil, "a window without a display?")
  check(msg:find("cannot open the visualizer", 1, true), msg)
  check(not rt.viz.is_open())
  check(rt.viz.close() == false)
end
check(not pcall(rt.viz.open, {width = "wide"}), "bad options are refused")
check(not pcall(rt.viz.open, {max_events = -1}))
check(not pcall(rt.viz.open, {keys = 5}))
check(not pcall(rt.viz.open, "x"))
check(not pcall(rt.viz.step_mode, "yes"), "step_mode wants a boolean")
check(not pcall(rt.viz.step_mode))
check(rt.viz.gate().on == false)
check(rt.spawn(function() return 7 end):await() == 7)

-- a headless window (offscreen driver) while the script goes on
if os.getenv("SDL_VIDEODRIVER") == "offscreen" then
  check(rt.viz.open{headless = true, width = 640, height = 400}, "headless window")
  check(rt.viz.is_open())
  check(rt.viz.open{headless = true}, "open again: the same window")
  local h = rt.spawn(function() std.thread.sleep(20); return "slept" end)
  check(h:await() == "slept")
  check(rt.viz.close() == true)
  check(not rt.viz.is_open())
  -- a key script: S (step mode), Enter twice (two polls), S (off), then closed
  check(rt.viz.open{keys = "S Return Return S"})
  rt.viz.wait()
  check(not rt.viz.is_open())
  check(rt.viz.gate().on == false, "closing leaves step mode off")
  rt.viz.close()
  -- a runtime given: step mode applies to it, not to the default runtime;
  -- dropping the runtime closes its window first
  local private = rt.runtime.Builder.new_multi_thread():worker_threads(1):enable_all():build()
  check(rt.viz.open(private, {headless = true}))
  check(private:block_on(function() return 5 end) == 5)
  rt.viz.step_mode(true)
  check(rt.viz.gate().on)
  check(rt.spawn(function() return 1 end):await() == 1, "the default runtime is not held")
  rt.viz.step_mode(false)
  private = nil
  collectgarbage(); collectgarbage()
  check(not rt.viz.is_open(), "dropping the runtime closed its window")
  check(rt.viz.gate().on == false)
end

-- step mode on the real runtime, stepped from Lua
check(not pcall(rt.viz.step), "a step needs step mode")
rt.viz.step_mode(true)
check(rt.viz.gate().on)
local hs = {}
for i = 1, 4 do hs[i] = rt.spawn(function() return i end) end
local function finished()
  local n = 0
  for i = 1, 4 do if hs[i]:is_finished() then n = n + 1 end end
  return n
end
wait_until(function() return rt.viz.gate().waiting >= 1 end, "a worker at the gate")
check(finished() == 0, "a task ran through the closed gate")
for step = 1, 2 do
  rt.viz.step()
  wait_until(function() return finished() == step end, "step " .. step)
  wait_until(function()
    local g = rt.viz.gate()
    return g.steps_left == 0 and g.waiting >= 1
  end, "back at the gate")
  check(finished() == step, "step " .. step .. " ran " .. finished() .. " tasks")
  check(rt.viz.gate().passed == step)
end
rt.viz.step_mode(false) -- releases everyone
for i = 1, 4 do check(hs[i]:await() == i) end
check(not pcall(rt.viz.step, 0))
print("test_viz: ok")
