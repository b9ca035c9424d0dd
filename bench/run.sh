#!/usr/bin/env bash
# Builds the default preset, runs the config-load benchmark (devx load+validate vs bare yaml-cpp,
# the floor), times `devx config validate` on the same generated 500-service project, and runs the
# `devx up` benchmark (40 services, depth 8, against a minimal fork/exec reference launcher).
#   bench/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

cmake --preset default >/dev/null
cmake --build --preset default --target config_load_bench devx-cli up_bench

BENCH="$(find build/default -type f -name config_load_bench -perm -u+x | head -1)"
DEVX="$(devx_cli_in build/default)"
OUT="$ROOT/build/bench"
mkdir -p "$OUT"

devx_banner "config_load_bench (load + validate vs yaml-cpp floor)"
"$BENCH" --benchmark_counters_tabular=true --benchmark_out="$OUT/config_load_bench.json" \
  --benchmark_out_format=json | tee "$OUT/config_load_bench.txt"
ratio="$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [b for b in d["benchmarks"] if b["name"].startswith("BM_DevxLoad")]
print("%.2f" % r[0]["x_floor"] if r and "x_floor" in r[0] else "?")' "$OUT/config_load_bench.json")"

devx_banner "devx config validate on the generated project (wall time)"
PROJ="$OUT/project"
rm -rf "$PROJ"
"$BENCH" --generate "$PROJ" >/dev/null
"$DEVX" config validate -f "$PROJ/devx.yaml" >/dev/null
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 3 --runs 30 --export-json "$OUT/validate.json" \
    "$DEVX config validate -f $PROJ/devx.yaml"
  median_ms="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f" % (r["median"]*1000))' "$OUT/validate.json")"
else
  times=()
  for _ in $(seq 20); do
    t0=$(date +%s%N)
    "$DEVX" config validate -f "$PROJ/devx.yaml" >/dev/null
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  median_ms="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}')"
fi

devx_banner "up_bench (40 host services, depth 8, vs a fork/exec + inotify reference launcher)"
UP_BENCH="$(find build/default -type f -name up_bench -perm -u+x | head -1)"
"$UP_BENCH" | tee "$OUT/up_bench.txt"

echo
echo "bench: devx load+validate = ${ratio}x the yaml-cpp floor (goal <= 2); devx config validate median wall = ${median_ms} ms (goal < 30)"

devx_banner "yamux_bench (bridge transport: raw TCP floor vs devx Yamux vs hashicorp/yamux)"
cmake --build --preset default --target yamux_bench
YAMUX_BENCH="$(find build/default -type f -name yamux_bench -perm -u+x | head -1)"
"$YAMUX_BENCH" | tee "$OUT/yamux_bench.txt"
tail -1 "$OUT/yamux_bench.txt" >"$OUT/yamux_bench.json"

devx_banner "ignition_bench (built-in dev machine config; a generated 1,000-file Butane document)"
cmake --build --preset default --target ignition_bench
IGNITION_BENCH="$(find build/default -type f -name ignition_bench -perm -u+x | head -1)"
"$IGNITION_BENCH" | tee "$OUT/ignition_bench.txt"

devx_banner "devx vm status --dry-run cold start (process start to exit; devx --version is the floor)"
VM_HOME="$(mktemp -d)"
if command -v hyperfine >/dev/null 2>&1; then
  # podman machine: one `podman machine inspect`; host: one `podman info` (most of its time).
  hyperfine -N --warmup 3 --runs 20 --export-json "$OUT/vm_status.json" \
    "$DEVX --version" \
    "$DEVX --devx-home $VM_HOME vm --provider podman --name bench-vm status --dry-run --json" \
    "$DEVX --devx-home $VM_HOME vm --provider host status --dry-run --json" | tee "$OUT/vm_status.txt"
fi
rm -rf "$VM_HOME"

devx_banner "edge_bench (requests/s, p99: direct vs through the basic-auth proxy vs the inspector)"
cmake --build --preset default --target edge_bench
EDGE_BENCH="$(find build/default -type f -name edge_bench -perm -u+x | head -1)"
"$EDGE_BENCH" | tee "$OUT/edge_bench.txt"
tail -1 "$OUT/edge_bench.txt" >"$OUT/edge_bench.json"
