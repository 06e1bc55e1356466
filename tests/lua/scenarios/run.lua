-- run.lua — run a scenario of tests/lua/scenarios in its own process, with
-- the interpreter running the calling test, and return what it printed
-- (stdout and stderr). `arg[-1]` is the asynclab program; for
-- `lua5.4 -l asynclab FILE` the command line began "lua5.4 -l asynclab".
--   local run = dofile(here .. "scenarios/run.lua")
--   local out = run("silent_hang", "broken")
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local interpreter = {}
local first = -1
while arg[first - 1] do first = first - 1 end
for i = first, -1 do interpreter[#interpreter + 1] = string.format("%q", arg[i]) end
return function(name, ...)
  local words = {table.concat(interpreter, " "), string.format("%q", here .. name .. ".lua")}
  for _, a in ipairs({...}) do words[#words + 1] = string.format("%q", a) end
  local p = assert(io.popen(table.concat(words, " ") .. " 2>&1"))
  local out = p:read("a")
  p:close()
  return out
end
