-- test_help.lua — every function of rt and std has a help entry.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local missing = {}
local function walk(t, path, depth)
  for k, v in pairs(t) do
    local name = path .. "." .. k
    if type(v) == "function" then
      if rt.help(name):find("^no help") then missing[#missing + 1] = name end
    elseif type(v) == "table" and depth < 4 then
      walk(v, name, depth + 1)
    end
  end
end
walk(rt, "rt", 1)
walk(std, "std", 1)
table.sort(missing)
check(#missing == 0, "no help for: " .. table.concat(missing, ", "))
check(rt.help():find("rt.sync.Mutex", 1, true))
check(rt.help(rt.time.sleep):find("rt.time.sleep(ms)", 1, true))
check(not pcall(rt.help, 3))
print("test_help: ok")
