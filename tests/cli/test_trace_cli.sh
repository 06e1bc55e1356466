#!/bin/bash
# test_trace_cli.sh — drives the real `asynclab trace` commands on a real
# recording: the demo run with ASYNCLAB_TRACE (it blocks a worker in a
# std-style sleep and makes workers steal), then damaged copies of it.
#
# Usage: tests/cli/test_trace_cli.sh ASYNCLAB DEMO WORKDIR
set -u
ASYNCLAB=$1
DEMO=$2
DIR=$3
mkdir -p "$DIR"
rm -f "$DIR"/demo.trace*
. "$(dirname "$0")/../expect.sh"

ASYNCLAB_TRACE="$DIR/demo.trace" "$DEMO" >"$DIR/demo.out" 2>&1 || fail "the demo failed"
T="$DIR/demo.trace"
[ -s "$T" ] || { echo "FAIL: no trace recorded" >&2; exit 1; }

expect 0 "status +complete" -- "$ASYNCLAB" trace info "$T"
expect 0 "multi-thread, 2 workers" -- "$ASYNCLAB" trace info "$T"
expect 0 "STEAL +[0-9]+" -- "$ASYNCLAB" trace info "$T"
expect 0 "bytes per event" -- "$ASYNCLAB" trace info "$T"
expect 0 "STEAL" -- "$ASYNCLAB" trace log --filter steal "$T"
checks=$((checks + 1))
if "$ASYNCLAB" trace log --filter steal "$T" | grep -q POLL_BEGIN; then
    fail "log --filter steal printed POLL_BEGIN lines"
fi
expect 0 "^WORKERS" -- "$ASYNCLAB" trace stats "$T"
expect 0 "worker 1 " -- "$ASYNCLAB" trace stats "$T"
expect 0 "console at 0\.050000 s" -- "$ASYNCLAB" trace stats --at 0.05 "$T"
expect 0 "blocked +in std\.thread\.sleep" -- "$ASYNCLAB" trace dump --at 0.2 "$T"
expect 0 "long-poll: .*blocked in std\.thread\.sleep 200 ms" -- "$ASYNCLAB" trace lints "$T"
expect 0 "no lint fired" -- "$ASYNCLAB" trace lints --set long-poll=off,never-yielded=off "$T"
checks=$((checks + 1))
"$ASYNCLAB" trace export --csv "$T" "$DIR/tasks.csv" || fail "export --csv exited $?"
head -1 "$DIR/tasks.csv" | grep -q "^id,name,parent,kind,state" || fail "tasks.csv has no header"
rows=$(($(wc -l <"$DIR/tasks.csv") - 1))
[ "$rows" -ge 100 ] || fail "tasks.csv has $rows rows"

checks=$((checks + 1))
"$ASYNCLAB" trace export --perfetto "$T" "$DIR/demo.json" 2>"$DIR/export.err" || fail "export --perfetto exited $?"
grep -q "trace events" "$DIR/export.err" || fail "export --perfetto did not report its counts"
head -c 15 "$DIR/demo.json" | grep -q '{"traceEvents"' || fail "demo.json is not a trace event file"
grep -q '"thread_name"' "$DIR/demo.json" || fail "demo.json has no named tracks"

# Damaged input: a clear message with the byte offset; events before it kept.
# A cut that lands between two records is a file still being written (no
# end record, exit 0); one inside a record is damage (exit 1).
size=$(stat -c %s "$T")
damaged=0
for cut in $((size / 2)) $((size / 2 + 1)) $((size / 2 + 2)) $((size / 2 + 3)); do
    head -c $cut "$T" >"$DIR/demo.trace.cut"
    "$ASYNCLAB" trace info "$DIR/demo.trace.cut" >"$DIR/cut.out" 2>&1
    rc=$?
    checks=$((checks + 1))
    if [ $rc -eq 1 ]; then
        damaged=$((damaged + 1))
        grep -qE "damaged: byte [0-9]+" "$DIR/cut.out" || fail "cut at $cut: no byte offset"
        grep -qE "events +[1-9][0-9]+" "$DIR/cut.out" || fail "cut at $cut: events before lost"
    elif [ $rc -eq 0 ]; then
        grep -q "no end record" "$DIR/cut.out" || fail "cut at $cut: not reported as unfinished"
    else
        fail "cut at $cut: exit $rc"
    fi
done
[ $damaged -ge 1 ] || fail "no cut inside a record was reported as damage"
printf 'not a trace file at all' >"$DIR/demo.trace.junk"
expect 1 "damaged: byte 0" -- "$ASYNCLAB" trace stats "$DIR/demo.trace.junk"
expect 2 "cannot open .*no-such-file" -- "$ASYNCLAB" trace info "$DIR/no-such-file"
expect 2 "unknown option '--bogus'" -- "$ASYNCLAB" trace stats --bogus 1 "$T"
expect 2 "--at wants seconds" -- "$ASYNCLAB" trace stats --at soon "$T"
expect 2 "unknown lint 'lost-wakers'" -- "$ASYNCLAB" trace lints --set lost-wakers=on "$T"
expect 2 "unknown format '--xml'" -- "$ASYNCLAB" trace export --xml "$T" "$DIR/x"
expect 2 "unknown command 'frobnicate'" -- "$ASYNCLAB" trace frobnicate "$T"
expect 0 "asynclab trace commands" -- "$ASYNCLAB" --help
expect 0 "^asynclab [0-9]" -- "$ASYNCLAB" --version

if [ "$failures" -ne 0 ]; then
    echo "tests/cli: $failures of $checks checks failed" >&2
    exit 1
fi
echo "tests/cli: all $checks checks passed"
