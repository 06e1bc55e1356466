#!/bin/bash
# test_replay_cli.sh — drives the real `asynclab replay` on real recordings:
# the silent-hang scenario (tests/viz/viz_test_scenario.h, recorded by
# viz_scenario) and the demo (ASYNCLAB_TRACE), then damaged, empty, missing
# and foreign files. Screenshots are checked for a PNG signature and the size
# in their header (the pixels are checked by tests/viz/test_render.c).
#
# Usage: tests/viz/test_replay_cli.sh ASYNCLAB VIZ_SCENARIO DEMO WORKDIR
set -u
ASYNCLAB=$1
SCENARIO=$2
DEMO=$3
DIR=$4
mkdir -p "$DIR"
rm -f "$DIR"/*.trace "$DIR"/*.png
. "$(dirname "$0")/../expect.sh"

# png_size FILE: "WxH" from the PNG header, or "not a png".
png_size() {
    local sig
    sig=$(od -An -tx1 -N8 "$1" 2>/dev/null | tr -d ' \n')
    if [ "$sig" != "89504e470d0a1a0a" ]; then
        echo "not a png"
        return
    fi
    local b
    read -ra b <<<"$(od -An -tu1 -j16 -N8 "$1")"
    echo "$(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]))x$(((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]))"
}

expect_png() {
    local file=$1 size=$2
    checks=$((checks + 1))
    local got
    got=$(png_size "$file")
    [ "$got" = "$size" ] || fail "$file: expected a ${size} PNG, got: $got"
}

# ---- usage ----
expect 0 "asynclab replay: watch a recorded trace" -- "$ASYNCLAB" replay --help
expect 0 "replay FILE.trace" -- "$ASYNCLAB" --help
expect 2 "which trace" -- "$ASYNCLAB" replay
expect 2 "unknown option '--bogus'" -- "$ASYNCLAB" replay --bogus x.trace
expect 2 "--size wants WIDTHxHEIGHT" -- "$ASYNCLAB" replay --size 12 x.trace
expect 2 "--size wants WIDTHxHEIGHT" -- "$ASYNCLAB" replay --size 0x100 x.trace
expect 2 "--at wants seconds" -- "$ASYNCLAB" replay --at soon x.trace
expect 2 "--screenshot needs a value" -- "$ASYNCLAB" replay x.trace --screenshot
expect 2 "one trace file at a time" -- "$ASYNCLAB" replay a.trace b.trace
expect 2 "cannot open $DIR/missing.trace: No such file" -- "$ASYNCLAB" replay "$DIR/missing.trace" --headless

# ---- the silent hang, recorded from a real runtime ----
T="$DIR/hang.trace"
"$SCENARIO" "$T" 400 || fail "the scenario failed"
[ -s "$T" ] || { echo "FAIL: no trace recorded" >&2; exit 1; }
# 20 ms after the second worker blocked.
AT=$("$ASYNCLAB" trace log --filter block "$T" |
    awk '/worker .*BLOCK_BEGIN .*sleeper/ { t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t); n++ }
         n == 2 { print t + 0.02; exit }')
[ -n "$AT" ] || { echo "FAIL: no two sleeper BLOCK_BEGIN in $T" >&2; exit 1; }

expect 0 "WARNING: every worker is blocked" -- "$ASYNCLAB" replay "$T" --headless --at "$AT"
expect 0 "worker [01]  blocked: std.thread.sleep 400 ms for .* polling sleeper-a for .* lifo: reply-a" \
    -- "$ASYNCLAB" replay "$T" --headless --at "$AT"
expect 0 "worker [01]  blocked: std.thread.sleep 400 ms for .* polling sleeper-b for .* lifo: reply-b" \
    -- "$ASYNCLAB" replay "$T" --headless --at "$AT"
expect 0 "waiting on timers \(2\): heartbeat, db-writer" -- "$ASYNCLAB" replay "$T" --headless --at "$AT"
expect 0 "mutex [0-9]+ \"db\": held by db-writer, 2 waiting: db-reader-1, db-reader-2" \
    -- "$ASYNCLAB" replay "$T" --headless --at "$AT"
expect 0 "blocking pool: 1 threads, 1 busy, 0 queued; #[0-9]+ backup" \
    -- "$ASYNCLAB" replay "$T" --headless --at "$AT"
expect 0 "next OVERDUE by" -- "$ASYNCLAB" replay "$T" --headless --at "$AT"
checks=$((checks + 1))
if "$ASYNCLAB" replay "$T" --headless | grep -q "WARNING"; then
    fail "at the end of the recording no worker should be blocked"
fi

expect 0 "wrote $DIR/hang.png \(1280x800\)" -- "$ASYNCLAB" replay "$T" --screenshot "$DIR/hang.png" --at "$AT"
expect_png "$DIR/hang.png" 1280x800
expect 0 "wrote" -- "$ASYNCLAB" replay "$T" --headless --screenshot "$DIR/small.png" --at "$AT" --size 200x100
expect_png "$DIR/small.png" 200x100
expect 0 "wrote" -- "$ASYNCLAB" replay "$T" --screenshot "$DIR/tiny.png" --size 1x1
expect_png "$DIR/tiny.png" 1x1
# a frame sequence: one PNG per 1/fps s of playback, and the ffmpeg command
rm -rf "$DIR/frames"
expect 0 "ffmpeg -framerate 10 -i .*/frame-%05d.png" -- \
    "$ASYNCLAB" replay "$T" --frames "$DIR/frames" --fps 10 --speed 0.05 --size 320x200
checks=$((checks + 1))
nframes=$(ls "$DIR/frames" | grep -c '^frame-[0-9]*\.png$')
[ "$nframes" -ge 5 ] || fail "only $nframes frames"
expect_png "$DIR/frames/frame-00001.png" 320x200
expect_png "$DIR/frames/frame-$(printf %05d "$nframes").png" 320x200
expect 2 "one of --screenshot, --frames and --video at a time" -- "$ASYNCLAB" replay "$T" --frames "$DIR/f2" --screenshot x.png
expect 2 "one of --screenshot, --frames and --video at a time" -- "$ASYNCLAB" replay "$T" --frames "$DIR/f2" --video x.mp4

# --video: without ffmpeg on PATH, say how to get it; with one, the frames
# go to it and the temporary directory is gone afterwards. The ffmpeg here
# is a stand-in (ffmpeg is optional, not in install-deps.sh): it records its
# arguments, checks that every input frame is a PNG, and writes the output;
# the real one runs too when installed.
rm -rf "$DIR/bin" "$DIR/tmp" && mkdir -p "$DIR/bin" "$DIR/tmp"
expect 1 "--video needs ffmpeg, which is not on PATH \\(Debian: sudo apt install ffmpeg\\)" -- \
    env PATH="$DIR/bin" "$ASYNCLAB" replay "$T" --video "$DIR/out.mp4" --fps 10 --speed 0.05 --size 320x200
cat >"$DIR/bin/ffmpeg" <<'FAKE'
#!/bin/bash
printf '%s\n' "$@" >"$FFMPEG_ARGS"
for a in "$@"; do case $a in *frame-%05d.png) pattern=$a ;; esac; done
n=0
for f in "${pattern%frame-%05d.png}"frame-*.png; do
    [ "$(od -An -tx1 -N4 "$f" | tr -d ' ')" = 89504e47 ] || { echo "not a PNG: $f" >&2; exit 1; }
    n=$((n + 1))
done
echo "$n frames" >"${@: -1}"
FAKE
chmod +x "$DIR/bin/ffmpeg"
rm -f "$DIR/out.gif" "$DIR/out.mp4"
expect 0 "wrote $DIR/out.gif" -- env PATH="$DIR/bin:$PATH" TMPDIR="$DIR/tmp" FFMPEG_ARGS="$DIR/ffmpeg.args" \
    "$ASYNCLAB" replay "$T" --video "$DIR/out.gif" --fps 10 --speed 0.05 --size 320x200
checks=$((checks + 1))
grep -qx "$nframes frames" "$DIR/out.gif" 2>/dev/null || fail "--video: ffmpeg did not get the $nframes frames: $(cat "$DIR/out.gif" 2>&1)"
checks=$((checks + 1))
{ grep -qx -- "-framerate" "$DIR/ffmpeg.args" && grep -qx "10" "$DIR/ffmpeg.args" &&
  grep -q "paletteuse" "$DIR/ffmpeg.args"; } || fail "--video GIF: ffmpeg arguments: $(tr '\n' ' ' <"$DIR/ffmpeg.args")"
checks=$((checks + 1))
[ -z "$(ls -A "$DIR/tmp")" ] || fail "--video left its frames behind: $(ls "$DIR/tmp")"
expect 0 "wrote $DIR/out.mp4" -- env PATH="$DIR/bin:$PATH" TMPDIR="$DIR/tmp" FFMPEG_ARGS="$DIR/ffmpeg.args" \
    "$ASYNCLAB" replay "$T" --video "$DIR/out.mp4" --fps 10 --speed 0.05 --size 320x200
checks=$((checks + 1))
grep -qx "yuv420p" "$DIR/ffmpeg.args" || fail "--video mp4: no yuv420p in $(tr '\n' ' ' <"$DIR/ffmpeg.args")"
if command -v ffmpeg >/dev/null; then
    rm -f "$DIR/real.gif"
    expect 0 "wrote $DIR/real.gif" -- "$ASYNCLAB" replay "$T" --video "$DIR/real.gif" --fps 10 --speed 0.05 --size 320x200
    checks=$((checks + 1))
    [ "$(head -c 3 "$DIR/real.gif")" = GIF ] || fail "ffmpeg's real.gif is not a GIF"
fi
expect 2 "--fps wants 1 to 240" -- "$ASYNCLAB" replay "$T" --frames "$DIR/f2" --fps 0
expect 1 "that would be [0-9]+ frames" -- "$ASYNCLAB" replay "$T" --frames "$DIR/f3" --fps 240 --speed 0.0000001
expect 0 "wrote" -- "$ASYNCLAB" replay "$T" --screenshot "$DIR/tall.png" --size 300x2000 --at 99
expect_png "$DIR/tall.png" 300x2000
expect 1 "cannot write $DIR/no/such/dir.png" -- "$ASYNCLAB" replay "$T" --screenshot "$DIR/no/such/dir.png"
expect 1 "cannot open the font /nonexistent.ttf.*fonts-dejavu-core" -- \
    env ASYNCLAB_FONT=/nonexistent.ttf "$ASYNCLAB" replay "$T" --screenshot "$DIR/nofont.png"

# No window without a display: SDL's offscreen driver is refused with a hint.
expect 1 "video driver is 'offscreen'.*--headless" -- env SDL_VIDEODRIVER=offscreen "$ASYNCLAB" replay "$T"
# The window's loop and keys, on the offscreen driver with a key script.
N=$("$ASYNCLAB" trace info "$T" | awk '/^events/ { print $2 }')
keys() { env SDL_VIDEODRIVER=offscreen ASYNCLAB_REPLAY_KEYS="$1" "$ASYNCLAB" replay "$T" "${@:2}"; }
expect 0 "closed at event 2 of $N, .* paused" -- keys "Right Right Right Left"
expect 0 "closed at event $((N - 1)) of $N" -- keys "End Left"
expect 0 "closed at event 0 of $N" -- keys "Right Right Home"
expect 0 "closed at event [1-9][0-9]* of $N, .* playing" -- keys "Space Up Up Up Up Up Up Up Up Up Up"
expect 0 "closed at event $N of $N, .* paused, x1000$" -- keys "Space Up Up Up Up" --speed 1000
expect 0 "closed at event 1 of $N, .* x4$" -- keys "+ + Right" --speed 1 --size 200x100
expect 0 "closed at event 3 of $N" -- keys "Right Right Right" --at 0 --size 64x48
expect 1 "unknown key 'Bogus' in the key script" -- keys "Right Bogus"
# The timeline's keys: K cycles the jump kind (lint, steal, park, block, ...),
# N / Shift+N jump to the next / previous event of that kind; Z X [ ] 0 zoom
# and pan without moving the player.
STEAL_AT=$("$ASYNCLAB" trace log --filter steal "$T" | awk '/STEAL/ { t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t); print substr(t, 1, 7); exit }')
BLOCK_AT=$("$ASYNCLAB" trace log --filter block "$T" | awk '/BLOCK_BEGIN/ { t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t); print substr(t, 1, 7); exit }')
expect 0 "closed at event [1-9][0-9]* of $N, ${STEAL_AT}[0-9]* s, paused" -- keys "K N Z Z X [ ] 0"
expect 0 "closed at event [1-9][0-9]* of $N, ${BLOCK_AT}[0-9]* s, paused" -- keys "K K K N"
B1=$(keys "K K K N" 2>&1 | sed -n 's/.*closed at event \([0-9]*\) .*/\1/p')
expect 0 "closed at event $B1 of $N" -- keys "K K K N N Shift+N"
expect 0 "closed at event 0 of $N" -- keys "Shift+N"

# --at event:N, --zoom, --no-timeline
expect 0 "scene at .*, 5 events" -- "$ASYNCLAB" replay "$T" --headless --at event:5
expect 0 "scene at .*, $N events" -- "$ASYNCLAB" replay "$T" --headless --at event:99999999
expect 2 "--at event:N wants a count of events" -- "$ASYNCLAB" replay "$T" --headless --at event:x
expect 2 "--at event:N wants a count of events" -- "$ASYNCLAB" replay "$T" --headless --at event:-1
expect 2 "--zoom wants the timeline's width in seconds" -- "$ASYNCLAB" replay "$T" --zoom 0 --headless
expect 2 "--zoom wants the timeline's width in seconds" -- "$ASYNCLAB" replay "$T" --zoom
expect 2 "--keyframe-mb wants mebibytes" -- "$ASYNCLAB" replay "$T" --keyframe-mb 0 --headless
expect 0 "closed at event 1 of $N" -- keys "End Home Right" --keyframe-mb 1
expect 0 "wrote $DIR/timeline.png \(1280x800\)" -- \
    "$ASYNCLAB" replay "$T" --screenshot "$DIR/timeline.png" --at "$AT" --zoom 0.7
expect_png "$DIR/timeline.png" 1280x800
expect 0 "wrote" -- "$ASYNCLAB" replay "$T" --screenshot "$DIR/no-timeline.png" --at "$AT" --no-timeline
expect_png "$DIR/no-timeline.png" 1280x800
checks=$((checks + 1))
cmp -s "$DIR/timeline.png" "$DIR/no-timeline.png" && fail "--no-timeline drew the same picture"

# ---- damaged, empty and foreign files ----
size=$(stat -c %s "$T")
head -c $((size / 2)) "$T" >"$DIR/cut.trace"
expect 1 "cut.trace (is damaged: .*showing the [0-9]+ events before the damage|has no end record: it was cut short)" \
    -- "$ASYNCLAB" replay "$DIR/cut.trace" --headless
expect 1 "cut.trace (is damaged|has no end record)" -- "$ASYNCLAB" replay "$DIR/cut.trace" --screenshot "$DIR/cut.png"
expect_png "$DIR/cut.png" 1280x800
head -c $((size - 1)) "$T" >"$DIR/cut1.trace" # no end record
expect 1 "cut1.trace has no end record: it was cut short.*showing the [0-9]+ events it has" \
    -- "$ASYNCLAB" replay "$DIR/cut1.trace" --headless
CORPUS=$(dirname "$0")/../fuzz/corpus
expect 1 "is damaged: byte 106: unknown event kind 42; showing the 2 events before the damage" \
    -- "$ASYNCLAB" replay "$CORPUS/bad-format-106-event-kind-42.trace" --headless
expect 1 "is damaged: byte 106: .*showing the [0-9]+ events" \
    -- "$ASYNCLAB" replay "$CORPUS/bad-truncated-106-event-cut-in-varint.trace" --headless
: >"$DIR/empty.trace"
expect 1 "empty.trace is not a" -- "$ASYNCLAB" replay "$DIR/empty.trace" --headless
echo "this is not a trace, just some text long enough to be read" >"$DIR/text.trace"
expect 1 "text.trace is not a readable trace" -- "$ASYNCLAB" replay "$DIR/text.trace" --headless
checks=$((checks + 1))
[ ! -e "$DIR/text.png" ] || fail "a foreign file made a screenshot"

# ---- a lock-order deadlock (viz_scenario --deadlock): the scene's cycle, the panel ----
"$SCENARIO" --deadlock "$DIR/deadlock.trace" || fail "the deadlock scenario failed"
expect 0 "WARNING: deadlock: transfer waits for mutex [0-9]+ \"audit\" \(held by report\); report waits for mutex [0-9]+ \"accounts\" \(held by transfer\)" \
    -- "$ASYNCLAB" replay "$DIR/deadlock.trace" --headless --at 0.2
expect 0 "wrote" -- "$ASYNCLAB" replay "$DIR/deadlock.trace" --screenshot "$DIR/deadlock.png" \
    --at 0.2 --size 640x360 --panel --select task:1
expect_png "$DIR/deadlock.png" 640x360
expect 2 "--select wants task:ID, worker:N or resource:ID, not 'lane:1'" \
    -- "$ASYNCLAB" replay "$DIR/deadlock.trace" --headless --select lane:1
expect 2 "--select wants task:ID, worker:N or resource:ID, not 'nothing'" \
    -- "$ASYNCLAB" replay "$DIR/deadlock.trace" --headless --select
# The window's keys: Tab opens the panel, 2 sorts, f follows (a key script).
expect 0 "closed at event" -- env ASYNCLAB_REPLAY_KEYS="Tab 2 2 f Tab End" \
    "$ASYNCLAB" replay "$DIR/deadlock.trace" --size 640x360

# ---- the demo, recorded with ASYNCLAB_TRACE ----
ASYNCLAB_TRACE="$DIR/demo.trace" "$DEMO" >"$DIR/demo.out" 2>&1 || fail "the demo failed"
expect 0 "scene at .*: 2 workers, 0 tasks alive" -- "$ASYNCLAB" replay "$DIR/demo.trace" --headless
expect 0 "inject \([0-9]+\)" -- "$ASYNCLAB" replay "$DIR/demo.trace" --headless --at 0.01
expect 0 "wrote" -- "$ASYNCLAB" replay "$DIR/demo.trace" --screenshot "$DIR/demo.png" --at 0.01 --size 1920x1080
expect_png "$DIR/demo.png" 1920x1080

# ---- lesson hooks (rt.viz.caption / highlight / marker), recorded from Lua ----
L="$DIR/lesson.trace"
"$ASYNCLAB" -e "rt.trace.start('$L')
local m = rt.sync.Mutex.new(0)
rt.viz.caption('worker 0 blocks: watch its queue')
local hb = rt.spawn(function() for i = 1, 3 do rt.time.sleep(2) end end)
rt.viz.highlight(hb, 0, m)
rt.spawn(function() rt.viz.marker('blocked'); std.thread.sleep(10) end):await()
hb:await()
rt.viz.caption()
rt.viz.marker('end')
rt.time.sleep(5)
rt.trace.stop()" >"$DIR/lesson.out" 2>&1 || fail "recording the lesson failed: $(cat "$DIR/lesson.out")"
expect 0 "caption: worker 0 blocks: watch its queue" -- "$ASYNCLAB" replay "$L" --headless --at marker:blocked
expect 0 "highlighted: task [0-9]+, worker 0, resource [0-9]+" -- "$ASYNCLAB" replay "$L" --headless --at marker:blocked
expect 0 "last marker: blocked" -- "$ASYNCLAB" replay "$L" --headless --at marker:blocked
checks=$((checks + 1))
if "$ASYNCLAB" replay "$L" --headless --at marker:end | grep -q "^caption:"; then
    fail "the caption was cleared before marker 'end'"
fi
expect 0 "wrote $DIR/marker.png \(640x400\)" -- "$ASYNCLAB" replay "$L" --screenshot "$DIR/marker.png" --at marker:blocked --size 640x400
expect_png "$DIR/marker.png" 640x400
expect 2 "has no marker 'nope' \(its markers: 'blocked', 'end'\)" -- "$ASYNCLAB" replay "$L" --headless --at marker:nope
expect 2 "has no marker 'x' \(it has none" -- "$ASYNCLAB" replay "$T" --headless --at marker:x
expect 2 "--at marker:NAME needs a marker name" -- "$ASYNCLAB" replay "$L" --headless --at marker:
# Playing stops just after each marker; M turns that off. The marker is the
# K-th event: its line in `trace log` (after the header line).
LN=$("$ASYNCLAB" trace info "$L" | awk '/^events/ { print $2 }')
K=$("$ASYNCLAB" trace log "$L" | awk '/ MARKER .*"blocked"/ { print NR - 1; exit }')
PLAY="Space Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up"
lkeys() { env SDL_VIDEODRIVER=offscreen ASYNCLAB_REPLAY_KEYS="$1" "$ASYNCLAB" replay "$L" "${@:2}"; }
expect 0 "closed at event $K of $LN, .* paused" -- lkeys "$PLAY" --speed 1000
expect 0 "closed at event $LN of $LN, .* paused" -- lkeys "M $PLAY" --speed 1000
expect 0 "closed at event $LN of $LN, .* paused" -- lkeys "$PLAY" --speed 1000 --through-markers
expect 0 "closed at event $K of $LN, .* paused" -- lkeys "M $PLAY" --speed 1000 --through-markers
# The classroom keys (presenter, legend, fullscreen) do not disturb the player.
expect 0 "closed at event 1 of $LN, .* paused" -- lkeys "P ? H F11 F11 Right P"
expect 0 "closed at event 1 of $LN" -- lkeys "Right" --presenter
expect 0 "wrote" -- "$ASYNCLAB" replay "$L" --screenshot "$DIR/presenter.png" --presenter --legend --at marker:blocked
expect_png "$DIR/presenter.png" 1280x800

echo "replay tests: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
