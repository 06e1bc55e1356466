#!/bin/sh
# bench-compare.sh — asynclab's benchmarks beside Tokio's and Go's, measured
# in one run on this machine.
#
# Runs ../shared/peers/run.sh (Tokio 1.24 and Go, same scenarios, 2 workers),
# waits 3 s (as run.sh does between peers), runs `make bench`, then prints
# the combined TSV and a markdown table of median ns/op per row with the ratio
# to the faster peer. Needs the peers' packages (run their install-deps.sh
# once: librust-tokio-dev, golang-go).
#
# Usage: scripts/bench-compare.sh [OUTDIR]     (default build/bench)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS:-$top/../shared/peers}
out=${1:-$top/build/bench}
mkdir -p "$out"
cd "$top"
make -s build/release/bench
echo "bench-compare: peers (Tokio, Go) ..." >&2
"$peers/run.sh" tokio go > "$out/peers.tsv" 2> "$out/peers.log"
sleep 3
echo "bench-compare: asynclab ..." >&2
{ printf 'runtime\tname\tmedian_ns\tmin_ns\tops\tmedian_ns_per_op\tmin_ns_per_op\n'
  build/release/bench; } > "$out/asynclab.tsv"
tail -n +2 "$out/asynclab.tsv" | cat "$out/peers.tsv" - > "$out/all.tsv"
cat "$out/all.tsv"
echo
awk -F'\t' '
    NR == 1 { next }
    {
        rt = $1; sub(/-.*/, "", rt); if (rt ~ /^go/) rt = "go"
        key = $2; v[key, rt] = $6; if (!(key in seen)) { seen[key] = 1; order[n++] = key }
    }
    function best(a, b) { if (a == "" || a == "NA") return b; if (b == "" || b == "NA") return a; return (a + 0 < b + 0) ? a : b }
    END {
        print "| benchmark | asynclab ns/op | Tokio ns/op | Go ns/op | asynclab / Tokio | asynclab / best peer |"
        print "|---|---:|---:|---:|---:|---:|"
        for (i = 0; i < n; i++) {
            k = order[i]; a = v[k, "asynclab"]; t = v[k, "tokio"]; g = v[k, "go"]
            if (a == "") continue
            rt = (a != "NA" && t != "" && t != "NA") ? sprintf("%.2f", a / t) : "-"
            b = best(t, g)
            rb = (a != "NA" && b != "" && b != "NA") ? sprintf("%.2f", a / b) : "-"
            printf "| %s | %s | %s | %s | %s | %s |\n", k, a, (t == "" ? "-" : t), (g == "" ? "-" : g), rt, rb
        }
    }' "$out/all.tsv" | tee "$out/table.md"
