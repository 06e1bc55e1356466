-- test_console_view.lua — rt.console{sort=, limit=, done=}.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "no error for " .. pattern)
  check(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end
-- the ids of the task lines, in the order printed
local function ids(text)
  local out, in_tasks = {}, false
  for line in text:gmatch("[^\n]*") do
    if line:find("^TASKS") then in_tasks = true
    elseif in_tasks and line:find("^ +%d") then out[#out + 1] = tonumber(line:match("%d+"))
    elseif in_tasks and line:find("^ +id ") then -- the column header
    elseif in_tasks and line ~= "" and not line:find("^  %(") then in_tasks = false end
  end
  return out
end

-- tasks polled 1, 3, 5, 7 times; the gate keeps them alive meanwhile
local gate = rt.sync.Notify.new()
local hs = {}
for i = 1, 4 do
  hs[i] = rt.task.Builder.new():name("w" .. (5 - i)):spawn(function()
    for _ = 1, 2 * (i - 1) do rt.task.yield_now() end
    gate:notified()
  end)
end
rt.spawn(function() return 1 end):await() -- a finished task
local function ready()
  for _, t in ipairs(rt.tasks()) do
    for i = 1, 4 do if t.id == hs[i]:id() and (t.state ~= "idle" or t.polls < 2 * i - 1) then return false end end
  end
  return true
end
for _ = 1, 5000 do if ready() then break end rt.time.sleep(1) end

local by_polls = ids(rt.console{sort = "polls", done = false})
check(#by_polls == 4, "alive only: " .. #by_polls)
for i = 1, 4 do check(by_polls[i] == hs[5 - i]:id(), "most polled first") end
local by_name = ids(rt.console{sort = "name", done = false})
for i = 1, 4 do check(by_name[i] == hs[5 - i]:id(), "by name") end -- w1 is hs[4]
local limited = rt.console{sort = "polls", limit = 2, done = false}
check(#ids(limited) == 2 and ids(limited)[1] == hs[4]:id())
check(limited:find("TASKS (by polls, alive only, first 2)", 1, true), limited)
check(limited:find("(2 more not shown: limit=2)", 1, true), limited)
local all = ids(rt.console{})
check(#all >= 5, "finished tasks listed too")
for i = 2, #all do check(all[i - 1] < all[i], "by id") end
check(rt.console():find("\nTASKS\n", 1, true), "unchanged without options")
check(rt.console{sort = "busy"}:find("WORKERS", 1, true), "the other tables stay")
-- works from a task too
local from_task = rt.spawn(function() return rt.console{done = false, sort = "wakes"} end):await()
check(#ids(from_task) >= 4, from_task)
gate:notify_waiters()
for i = 1, 4 do hs[i]:await() end

-- bad arguments
fails("console' (cannot sort by 'nope'", rt.console, {sort = "nope"})
fails("console' (unknown option 'colour'", rt.console, {colour = true})
fails("console' (limit must be a whole number", rt.console, {limit = 1.5})
fails("bad argument #1 to 'console' (table expected, got number)", function() rt.console(5) end)
fails("console' (sort must be a column name", rt.console, {sort = 3})
print("test_console_view: ok")
