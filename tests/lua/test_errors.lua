-- test_errors.lua — wrong arguments give Lua's usual "bad argument" errors,
-- naming the function as called ('sleep'), or its full path when called
-- without a name (through pcall: 'rt.time.sleep').
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end
fails("bad argument #1 to 'sleep' (number expected, got string)", function() rt.time.sleep("x") end)
fails("bad argument #1 to 'rt.time.sleep' (number expected, got string)", rt.time.sleep, "x")
fails("bad argument #1 to 'sleep' (a duration in ms", function() rt.time.sleep(-1) end)
fails("bad argument #1 to 'spawn' (function expected, got number)", function() rt.spawn(3) end)
fails("bad argument #1 to 'std.thread.sleep' (number expected, got no value)", std.thread.sleep)
fails("bad argument #1 to 'spin' (number expected, got boolean)", function() std.hint.spin(true) end)
fails("JoinHandle expected, got table", rt.spawn(function() end).await, {})
fails("bad argument #1 to 'name' (string expected, got no value)", function() rt.task.Builder.new():name() end)
-- the runtime is unharmed after all that
check(rt.spawn(function() return "alive" end):await() == "alive")
print("test_errors: ok")
