#!/bin/bash
# module.sh — `require "asynclab"` from a stock Lua interpreter: the module
# asynclab.so loaded by the real lua5.4, the whole Lua test suite run in it,
# and a clean exit however the script ends (end of script with tasks still
# running, an error, os.exit with and without closing the state).
#
# Usage: tests/lua/module.sh LUA MODULE_DIR WORKDIR
#   e.g. tests/lua/module.sh /usr/bin/lua5.4 build/release build/lua-module
set -u
LUA=$1
MODDIR=$2
DIR=$3
mkdir -p "$DIR"
export LUA_CPATH="$MODDIR/?.so"
failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect STATUS STDOUT_PATTERN STDERR_PATTERN -- command...: within 30 s.
expect() {
    local want=$1 outpat=$2 errpat=$3
    shift 4
    checks=$((checks + 1))
    timeout 30 "$@" >"$DIR/out" 2>"$DIR/err" </dev/null
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "'$*' exited $got, expected $want"$'\n'"stdout: $(head -5 "$DIR/out")"$'\n'"stderr: $(head -5 "$DIR/err")"
    elif [ -n "$outpat" ] && ! grep -qE -- "$outpat" "$DIR/out"; then
        fail "'$*' stdout lacks /$outpat/: $(head -5 "$DIR/out")"
    elif [ -n "$errpat" ] && ! grep -qE -- "$errpat" "$DIR/err"; then
        fail "'$*' stderr lacks /$errpat/: $(head -5 "$DIR/err")"
    fi
}

# The module brings no Lua of its own: the interpreter's is used.
checks=$((checks + 1))
if ldd "$MODDIR/asynclab.so" | grep -q liblua; then
    fail "asynclab.so links a Lua library (it must use the interpreter's)"
fi

# The example of docs/lua.md.
expect 0 "^1$" "" -- "$LUA" -e 'local rt = require "asynclab"; print(rt.spawn(function() return 1 end):await())'
# require returns rt and defines the globals, as the program does; a second require is the same.
expect 0 "^ok$" "" -- "$LUA" -e '
local m = require "asynclab"
assert(m == rt and type(std) == "table" and require "asynclab" == m and require "rt" == rt)
assert(rt.spawn(function() return rt ~= nil and std ~= nil end):await())
print("ok")'
# Top-level await, channels, timers, in a script file.
cat >"$DIR/script.lua" <<'EOF'
local rt = require "asynclab"
local tx, rx = rt.sync.mpsc.channel(2)
for i = 1, 3 do rt.spawn(function() rt.time.sleep(5 * i); tx:send(i) end) end
local sum = 0
for _ = 1, 3 do sum = sum + rx:recv() end
local l = rt.net.TcpListener.bind("127.0.0.1:0")
rt.spawn(function() local c = l:accept(); c:write(c:read_line() .. "!\n"); c:close() end)
local c = rt.net.TcpStream.connect(l:local_addr())
c:write("hi\n")
print(sum, c:read_line())
EOF
expect 0 "^6	hi!$" "" -- "$LUA" "$DIR/script.lua"

# The whole Lua suite, in the stock interpreter.
for t in tests/lua/test_*.lua; do
    name=$(basename "$t" .lua)
    expect 0 "^$name: ok" "" -- "$LUA" -l asynclab "$t"
done

# Clean exits: the default runtime shuts down (its tasks cancelled) when the
# state closes, or at exit; no hang, no crash.
ends='local rt = require "asynclab"
local l = rt.net.TcpListener.bind("127.0.0.1:0")
for i = 1, 4 do rt.spawn(function() rt.time.sleep(60000) end) end
rt.spawn(function() l:accept() end)
rt.task.spawn_blocking(function() std.thread.sleep(50) end)
local h = rt.spawn(function() while true do rt.task.yield_now() end end)
rt.time.sleep(20)
print("end")'
start=$(date +%s)
expect 0 "^end$" "" -- "$LUA" -e "$ends"
expect 3 "^end$" "" -- "$LUA" -e "$ends; os.exit(3)"
expect 0 "^end$" "" -- "$LUA" -e "$ends; os.exit(true, true)"
expect 1 "^end$" "boom" -- "$LUA" -e "$ends; error('boom')"
checks=$((checks + 1))
if [ $(($(date +%s) - start)) -gt 20 ]; then
    fail "exits with running tasks took $(($(date +%s) - start)) s"
fi

if [ "$failures" -ne 0 ]; then
    echo "module.sh: $failures of $checks checks failed" >&2
    exit 1
fi
echo "module.sh: $checks checks passed"
