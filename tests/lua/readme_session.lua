-- readme_session.lua README TRANSCRIPT — does the README's "A first session
-- at the prompt" match a real session? run.sh types the README's input lines
-- into `asynclab` in a terminal (pty_drive) and saves what the terminal
-- showed; this compares the two, line by line, apart from what differs from
-- run to run:
--   * numbers and durations ("153.1ms", "timer 15", "busy 99.7%");
--   * which worker picks up which task, and how an idle worker waits
--     ("parked (driver)", "parked", "searching"): the dump's workers are
--     compared as a set;
--   * a timer "due in" or "overdue by"; the state a JoinHandle prints
--     (whether the task ran its first poll before `h` was typed);
--   * a README line "..." stands for any lines, a line ending in " ..." for
--     any rest of that line.
-- Exit status 1 with both versions of the first line that differs.
local readme_path, transcript_path = arg[1], arg[2]

local function read(path) local f = assert(io.open(path)); local s = f:read("a"); f:close(); return s end

local function lines(text)
  local t = {}
  for l in (text:gsub("\r", "") .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  while t[#t] == "" do t[#t] = nil end
  return t
end

-- The README block: from the banner (the line after "$ make run") to the end.
local readme = read(readme_path)
local block = assert(readme:match("## A first session at the prompt.-```\n(.-)```"), "no session in README")
local want = lines(block)
assert(want[1]:find("^%$ make run"), "the session starts with $ make run")
table.remove(want, 1)
local got = lines(read(transcript_path))
while got[#got] == ">" or got[#got] == "> " do got[#got] = nil end -- the prompt Ctrl-D left

local function norm(l)
  l = l:gsub('^(JoinHandle #%d+ "[^"]*") %a+$', "%1 STATE")
  l = l:gsub("overdue by", "due in")
  l = l:gsub("parked %(driver%)", "IDLE"):gsub("parked", "IDLE"):gsub("searching", "IDLE")
  l = l:gsub("[%d.]+ ?[nuµm]?s%f[%W]", "T"):gsub("%d+%.?%d*", "#")
  l = l:gsub("%s+", " "):gsub(" $", "")
  return l
end

-- The dump's "workers:" section of lines[i..]: its lines, normalized and sorted.
local function workers_section(t, i)
  local j, set = i + 1, {}
  while t[j] and t[j]:find("^  ") do set[#set + 1] = norm(t[j]); j = j + 1 end
  table.sort(set)
  return set, j
end

local function fail(i, w, g)
  io.stderr:write(string.format("README session differs at its line %d:\n  README: %s\n  actual: %s\n",
                                i, tostring(w), tostring(g)))
  os.exit(1)
end

local i, j = 1, 1
while i <= #want do
  local w = want[i]
  if w == "..." then -- any lines, up to the next README line that matches
    local nxt = want[i + 1]
    if not nxt then j = #got + 1; i = i + 1; goto continue end
    while got[j] and norm(got[j]) ~= norm(nxt) do j = j + 1 end
    if not got[j] then fail(i + 1, nxt, "(not found after the ...)") end
    i = i + 1
  elseif w == "workers:" then
    if got[j] ~= "workers:" then fail(i, w, got[j]) end
    local ws, wi = workers_section(want, i)
    local gs, gj = workers_section(got, j)
    for k = 1, math.max(#ws, #gs) do
      if ws[k] ~= gs[k] then fail(i + k, ws[k], gs[k]) end
    end
    i, j = wi, gj
  else
    local g = got[j]
    local prefix = w:match("^(.-) %.%.%.$")
    local ok = g and (prefix and norm(g):sub(1, #norm(prefix)) == norm(prefix) or norm(g) == norm(w))
    if not ok then fail(i, w, g) end
    i, j = i + 1, j + 1
  end
  ::continue::
end
if got[j] then fail(#want + 1, "(end of the session)", got[j]) end
print("readme_session: the README's first session matches a real one")
