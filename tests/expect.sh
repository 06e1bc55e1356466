# expect.sh — what the shell test harnesses (tests/cli, tests/viz) share;
# source it, then:
#   expect STATUS PATTERN -- command...   the exit status, and an extended
#                                         regular expression found in
#                                         stdout + stderr
#   fail MESSAGE                          count a failure, say why
# $checks and $failures count; the harness ends with its own summary.
failures=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

expect() {
    local want=$1 pattern=$2
    shift 3
    checks=$((checks + 1))
    local out
    out=$("$@" 2>&1)
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "'$*' exited $got, expected $want; output:"$'\n'"$(echo "$out" | head -20)"
    elif ! grep -qE -- "$pattern" <<<"$out"; then
        fail "'$*' output lacks /$pattern/:"$'\n'"$(echo "$out" | head -30)"
    fi
}
