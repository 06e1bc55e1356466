#!/bin/bash
# run.sh — the Lua test suite and the `asynclab` program's behaviour:
# every tests/lua/test_*.lua run as a script (each asserts and prints
# "NAME: ok"), then scripts, -e and piped REPL sessions checked from outside.
#
# Usage: tests/lua/run.sh ASYNCLAB WORKDIR
set -u
ASYNCLAB=$1
DIR=$2
mkdir -p "$DIR"
failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

for t in tests/lua/test_*.lua; do
    checks=$((checks + 1))
    name=$(basename "$t" .lua)
    if ! out=$("$ASYNCLAB" "$t" 2>&1); then
        fail "$t:"$'\n'"$out"
    elif ! grep -q "^$name: ok" <<<"$out"; then
        fail "$t did not finish:"$'\n'"$out"
    fi
done

# expect STATUS STDOUT_PATTERN STDERR_PATTERN INPUT -- command...
expect() {
    local want=$1 outpat=$2 errpat=$3 input=$4
    shift 5
    checks=$((checks + 1))
    printf '%s' "$input" | "$@" >"$DIR/out" 2>"$DIR/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "'$*' exited $got, expected $want"$'\n'"stdout: $(head -5 "$DIR/out")"$'\n'"stderr: $(head -5 "$DIR/err")"
    elif [ -n "$outpat" ] && ! grep -qE -- "$outpat" "$DIR/out"; then
        fail "'$*' stdout lacks /$outpat/: $(head -5 "$DIR/out")"
    elif [ -n "$errpat" ] && ! grep -qE -- "$errpat" "$DIR/err"; then
        fail "'$*' stderr lacks /$errpat/: $(head -5 "$DIR/err")"
    fi
}

printf 'local x = 1\nerror("no good")\n' >"$DIR/fails.lua"
printf 'print(arg[0], arg[1], ...)\n' >"$DIR/args.lua"
printf 'local x = \n' >"$DIR/syntax.lua"
expect 0 "^2$" "" "" -- "$ASYNCLAB" -e 'print(1 + 1)'
expect 1 "" "fails.lua:2: no good" "" -- "$ASYNCLAB" "$DIR/fails.lua"
expect 1 "" "syntax.lua:2: unexpected symbol near <eof>|syntax.lua:1:" "" -- "$ASYNCLAB" "$DIR/syntax.lua"
expect 0 "args.lua	a	a	b" "" "" -- "$ASYNCLAB" "$DIR/args.lua" a b
expect 1 "" "cannot open .*nope.lua" "" -- "$ASYNCLAB" "$DIR/nope.lua"
expect 2 "" "unknown option '--frob'" "" -- "$ASYNCLAB" --frob
expect 0 "asynclab FILE.lua" "" "" -- "$ASYNCLAB" --help
# a trace recorded from Lua holds the lints that fired (LINT events)
rm -f "$DIR/lints.trace"
expect 0 "" "" "" -- "$ASYNCLAB" -e "rt.trace.start('$DIR/lints.trace')
rt.spawn(function() std.thread.sleep(30) end):await()
rt.time.sleep(20)
assert(rt.trace.stop().events > 0)"
expect 0 "LINT .*long-poll: task [0-9]+ held worker" "" "" -- "$ASYNCLAB" trace log --filter LINT "$DIR/lints.trace"
# lesson hooks from Lua are in the recording, and `trace log` prints them
rm -f "$DIR/hooks.trace"
expect 0 "" "" "" -- "$ASYNCLAB" -e "rt.trace.start('$DIR/hooks.trace')
rt.viz.caption('watch worker 0')
local h = rt.spawn(function() rt.viz.marker('inside'); return 1 end)
h:await()
rt.viz.highlight(h, 1, rt.sync.Mutex.new(0))
rt.viz.caption()
assert(rt.trace.stop().events > 0)"
"$ASYNCLAB" trace log --filter lesson "$DIR/hooks.trace" >"$DIR/hooks.log" 2>&1
checks=$((checks + 1))
grep -qE 'CAPTION .*"watch worker 0"' "$DIR/hooks.log" &&
    grep -qE 'MARKER +task [0-9]+ .*"inside"' "$DIR/hooks.log" &&
    grep -qE 'HIGHLIGHT .*clear all' "$DIR/hooks.log" &&
    grep -qE 'HIGHLIGHT .*task [0-9]+$' "$DIR/hooks.log" &&
    grep -qE 'HIGHLIGHT .*worker 1$' "$DIR/hooks.log" &&
    grep -qE 'HIGHLIGHT .*resource #[0-9]+$' "$DIR/hooks.log" &&
    grep -qE 'CAPTION .*\(cleared\)' "$DIR/hooks.log" ||
    fail "trace log --filter lesson lacks the hooks: $(cat "$DIR/hooks.log")"

# piped REPL: expressions print, statements span lines, errors do not end it
expect 0 "^2$" "" $'1 + 1\n' -- "$ASYNCLAB"
expect 0 "^1$" "" $'for i = 1, 1 do\nprint(i)\nend\n' -- "$ASYNCLAB"
expect 0 "^after$" "stdin:1: oops" $'error("oops")\nprint("after")\n' -- "$ASYNCLAB"
expect 0 "^5$" "" $'x = 5\n=x\n' -- "$ASYNCLAB"
# top-level await, line by line; background tasks run between lines
expect 0 "^7$" "" $'h = rt.spawn(function() return 7 end)\nh:await()\n' -- "$ASYNCLAB"
expect 0 "^JoinHandle #[0-9]+ \"bg\"" "" $'h = rt.task.Builder.new():name("bg"):spawn(function() rt.time.sleep(5) end)\nh\n' -- "$ASYNCLAB"
expect 0 "" "cannot spawn: upvalue .co. is a coroutine" $'local co = coroutine.create(print); rt.spawn(function() return co end)\n' -- "$ASYNCLAB"

# the visualizer on the program's runtime (headless: SDL's offscreen driver)
expect 0 "^test_viz: ok" "" "" -- env SDL_VIDEODRIVER=offscreen "$ASYNCLAB" tests/lua/test_viz.lua
# the piped prompt keeps working while the window is open, in step mode too
viz_session=$'rt.viz.open{headless = true}\nh = rt.spawn(function() return 40 + 2 end)\nprint("answer", h:await())\nrt.viz.step_mode(true)\nh2 = rt.spawn(function() return "one" end)\nrt.viz.step()\nprint("stepped", h2:await())\nprint("open", rt.viz.is_open())\n'
expect 0 "^answer	42$" "" "$viz_session" -- env SDL_VIDEODRIVER=offscreen "$ASYNCLAB"
expect 0 "^stepped	one$" "" "$viz_session" -- env SDL_VIDEODRIVER=offscreen "$ASYNCLAB"
expect 0 "^open	true$" "" "$viz_session" -- env SDL_VIDEODRIVER=offscreen "$ASYNCLAB"
expect 2 "" "--viz needs a script" "" -- "$ASYNCLAB" --viz
expect 1 "" "--viz: cannot open the visualizer: SDL's video driver is 'offscreen'" "" -- env SDL_VIDEODRIVER=offscreen "$ASYNCLAB" --viz "$DIR/args.lua"
expect 0 "args.lua	a	a	b" "close the visualizer window" "" -- env SDL_VIDEODRIVER=offscreen ASYNCLAB_VIZ_KEYS="C S Return S" "$ASYNCLAB" --viz "$DIR/args.lua" a b

# In a terminal: completion, Ctrl-C (typing, running Lua, awaiting), history, Ctrl-D.
if [ -n "${PTY_DRIVE:-}" ]; then
    home="$DIR/home"
    rm -rf "$home" && mkdir -p "$home"
    checks=$((checks + 1))
    # Each step waits for the prompt ("> ") before typing, as a person would:
    # keys typed while a line still runs reach the terminal in another mode.
    HOME="$home" SDL_VIDEODRIVER=offscreen "$PTY_DRIVE" "$ASYNCLAB" -- \
        expect "> " \
        send 'rt.sync.Mu\t' expect 'rt.sync.Mutex.' \
        send 'new(5)\n' expect 'Mutex #' expect "> " \
        send 'm = rt.sync.Mutex.new(1)\n' expect "> " \
        send 'm:tr\t' expect 'm:try_lock(' \
        send ')\n' expect 'MutexGuard' expect "> " \
        send 'half typed\x03' expect '^C' expect "> " \
        send '1 + 1\n' expect '2' expect "> " \
        send 'print("spin" .. "ning") while true do end\n' expect 'spinning' \
        send '\x03' expect 'interrupted!' expect "> " \
        send 'print("wait" .. "ing") rt.time.sleep(100000)\n' expect 'waiting' \
        send '\x03' expect 'interrupted!' expect "> " \
        send 'h = rt.spawn(function() return 40 + 2 end)\n' expect "> " \
        send 'h:await()\n' expect '42' expect "> " \
        send 'rt.viz.open{headless = true}\n' expect 'true' expect "> " \
        send 'rt.spawn(function() return 6 * 9 end):await()\n' expect '54' expect "> " \
        send 'print("wait" .. "ing for the window") rt.viz.wait()\n' expect 'waiting for the window' \
        send '\x03' expect 'interrupted!' expect "> " \
        send '\x04' exit 0 >"$DIR/pty.out" 2>&1 || fail "terminal session:"$'\n'"$(tail -30 "$DIR/pty.out")"
    checks=$((checks + 1))
    grep -q "^1 + 1$" "$home/.asynclab_history" 2>/dev/null || fail "history file lacks '1 + 1'"

    # The README's first session, typed line by line into a terminal, must
    # print what the README shows (tests/lua/readme_session.lua says what may
    # differ). Its task dump is a snapshot of live threads: a task caught
    # in the middle of a poll is a real, rare difference, hence 3 attempts.
    checks=$((checks + 1))
    steps=(expect "> ")
    while IFS= read -r line; do
        steps+=(send "$line\n" expect "> ")
    done < <(awk '/^## A first session at the prompt/ { on = 1 } on && /^```$/ { n++; next }
                  on && n == 1 && /^>>? / { sub(/^>>? /, ""); print }' README.md)
    session_ok=0
    for attempt in 1 2 3; do
        rm -rf "$home" && mkdir -p "$home"
        if HOME="$home" "$PTY_DRIVE" "$ASYNCLAB" -- "${steps[@]}" send '\x04' exit 0 \
            transcript "$DIR/readme.out" >"$DIR/readme.drive" 2>&1 &&
            "$ASYNCLAB" tests/lua/readme_session.lua README.md "$DIR/readme.out" >"$DIR/readme.cmp" 2>&1; then
            session_ok=1
            break
        fi
        echo "README session, attempt $attempt: $(cat "$DIR/readme.drive" "$DIR/readme.cmp" | tail -5)" >&2
    done
    [ "$session_ok" = 1 ] || fail "the README's first session:"$'\n'"$(cat "$DIR/readme.cmp")"
fi

if [ "$failures" -ne 0 ]; then
    echo "tests/lua: $failures of $checks checks failed" >&2
    exit 1
fi
echo "tests/lua: all $checks checks passed"
