#!/usr/bin/env bash
# Cross-layer identity: the C ABI, the C++ API (CMake consumer), the Python package, the Node
# package and the CLI must resolve tests/data/crosslayer/project (profile "ci") to byte-identical
# JSON (only a trailing newline is normalised).
#   tests/crosslayer/compare.sh PREFIX OUTDIR
# PREFIX: the staged install (consumers are built against it; its bin/devx is the CLI unless
# DEVX_CLI is set). Optional layers, skipped LOUDLY when unset:
#   DEVX_PYTHON     a python with the devx package installed
#   DEVX_NODE_PATH  a node_modules folder holding the devx package
set -euo pipefail
if (($# != 2)); then
  echo "usage: $0 PREFIX OUTDIR" >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PREFIX="$(cd "$1" && pwd)"
mkdir -p "$2"
OUTDIR="$(cd "$2" && pwd)"
PROJECT="$ROOT/tests/data/crosslayer/project/devx.yaml"
PROFILE=ci
export LD_LIBRARY_PATH="$PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

skipped=()
loud_skip() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! SKIPPED layer $1: $2"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  skipped+=("$1")
}

# C (pkg-config) and C++ (CMake package) consumers: c.json, cxx.json.
bash "$ROOT/tests/consumer/run.sh" "$PREFIX" "$OUTDIR"

# CLI
CLI="${DEVX_CLI:-$PREFIX/bin/devx}"
if [[ ! -x "$CLI" ]]; then
  echo "FAIL: no devx CLI at $CLI" >&2
  exit 1
fi
echo "-- CLI: $CLI config show --format json --profile $PROFILE -f …"
"$CLI" config show --format json --profile "$PROFILE" -f "$PROJECT" >"$OUTDIR/cli.json"

# Python
if [[ -n "${DEVX_PYTHON:-}" ]]; then
  echo "-- Python: $DEVX_PYTHON"
  (cd /tmp && "$DEVX_PYTHON" -c '
import sys, devx
sys.stdout.write(devx.Project.load(sys.argv[1], profile=sys.argv[2]).to_json())
' "$PROJECT" "$PROFILE") >"$OUTDIR/python.json"
else
  loud_skip python "DEVX_PYTHON not set (bindings/python not built)"
fi

# Node: the Promise API (an operation on a library thread) and the synchronous call.
if [[ -n "${DEVX_NODE_PATH:-}" ]]; then
  echo "-- Node: NODE_PATH=$DEVX_NODE_PATH"
  (cd /tmp && NODE_PATH="$DEVX_NODE_PATH" node -e '
const devx = require("devx");
const [path, profile, mode] = process.argv.slice(1);
const load = mode === "sync" ? Promise.resolve().then(() => devx.loadProjectSync(path, { profile }))
                             : devx.loadProject(path, { profile });
load.then((project) => { process.stdout.write(project.json); })
  .catch((e) => { console.error(e); process.exit(1); });
' "$PROJECT" "$PROFILE" async) >"$OUTDIR/node.json"
  (cd /tmp && NODE_PATH="$DEVX_NODE_PATH" node -e '
const devx = require("devx");
const [path, profile] = process.argv.slice(1);
process.stdout.write(devx.loadProjectSync(path, { profile }).json);
' "$PROJECT" "$PROFILE") >"$OUTDIR/node-sync.json"
else
  loud_skip node "DEVX_NODE_PATH not set (bindings/node not built)"
fi

# Compare everything against the C ABI's output, ignoring only a trailing newline.
normalise() { python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d[:-1] if d.endswith(b"\n") else d)' "$1"; }
normalise "$OUTDIR/c.json" >"$OUTDIR/c.norm"
if ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d.get("v")==1, "no v:1"; assert d.get("active_profile", "ci")=="ci"' "$OUTDIR/c.norm"; then
  echo "FAIL: c.json is not a resolved project document" >&2
  exit 1
fi
failed=0
compared=(c)
for layer in cxx cli python node node-sync; do
  [[ -f "$OUTDIR/$layer.json" ]] || continue
  normalise "$OUTDIR/$layer.json" >"$OUTDIR/$layer.norm"
  if cmp -s "$OUTDIR/c.norm" "$OUTDIR/$layer.norm"; then
    echo "   $layer == c ($(wc -c <"$OUTDIR/$layer.norm") bytes)"
    compared+=("$layer")
  else
    echo "FAIL: $layer output differs from the C ABI's:" >&2
    diff <(python3 -m json.tool --sort-keys "$OUTDIR/c.norm" 2>/dev/null || cat "$OUTDIR/c.norm") \
         <(python3 -m json.tool --sort-keys "$OUTDIR/$layer.norm" 2>/dev/null || cat "$OUTDIR/$layer.norm") \
      | head -40 >&2 || true
    cmp "$OUTDIR/c.norm" "$OUTDIR/$layer.norm" >&2 || true
    failed=1
  fi
done
((failed == 0)) || exit 1
echo "cross-layer: identical across ${compared[*]}${skipped[*]:+ (SKIPPED: ${skipped[*]})}"
