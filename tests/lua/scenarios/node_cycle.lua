-- node_cycle.lua — pitfall E2, a reference cycle, as a program: a list of two
-- nodes, each a Mutex guarding {name, next, prev} (the seed's
-- Arc<Mutex<Node>>). `broken`: b.prev holds a strong handle to a, and a.next
-- one to b, so neither is ever freed: the program's last line says a is
-- still alive, and asynclab lists both at exit. `fixed`: b.prev is a
-- rt.sync.Weak, and dropping the list frees both.
local mode = arg[1] or "broken"
local function node(name) return rt.sync.Mutex.new({name = name}, "node " .. name) end
local a, b = node("a"), node("b")
local g = a:lock(); g.value.next = b; g:unlock()
g = b:lock()
g.value.prev = mode == "fixed" and rt.sync.Weak.new(a) or a
g:unlock()

-- Walking back from b works either way.
g = b:lock()
local prev = g.value.prev
if mode == "fixed" then prev = prev:upgrade() end
local pg = prev:lock()
print("b.prev is node " .. pg.value.name)
pg:unlock(); g:unlock()

local watch = rt.sync.Weak.new(a)
a, b, g, prev, pg = nil, nil, nil, nil, nil
collectgarbage(); collectgarbage()
print("after dropping the list, node a is " .. (watch:upgrade() and "still alive" or "freed"))
