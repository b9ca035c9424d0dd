#!/usr/bin/env bash
# Builds the fuzz preset (clang-14, libFuzzer + ASan + UBSan) and runs one fuzz target.
#   fuzz/run.sh [TARGET=fuzz_config_loader] [DURATION_SECONDS=60]
#   fuzz/run.sh DURATION_SECONDS            (the devx.yaml loader, as before)
# Targets: fuzz_config_loader, fuzz_yamux_frame, fuzz_bridge_header, fuzz_butane, fuzz_mail,
# fuzz_tailscale_status, fuzz_net_text. Each has its seeds in
# fuzz/corpus/<name>/ and, optionally, a dictionary fuzz/<name>.dict; the working corpus grows in
# fuzz/corpus-run/<name>/ (git-ignored). Crashes, leaks and timeouts land in
# build/fuzz/artifacts/<target>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TARGET=fuzz_config_loader
if [[ $# -gt 0 && ! "$1" =~ ^[0-9]+$ ]]; then
  TARGET="$1"
  shift
fi
DURATION="${1:-60}"

case "$TARGET" in
  fuzz_config_loader) NAME=config ;;
  fuzz_yamux_frame) NAME=yamux ;;
  fuzz_bridge_header) NAME=bridge_header ;;
  fuzz_butane) NAME=butane ;;
  fuzz_mail) NAME=mail ;;
  fuzz_tailscale_status) NAME=tailscale_status ;;
  fuzz_net_text) NAME=net_text ;;
  *)
    echo "unknown fuzz target '$TARGET' (fuzz_config_loader, fuzz_yamux_frame, fuzz_bridge_header, fuzz_butane, fuzz_mail, fuzz_tailscale_status, fuzz_net_text)" >&2
    exit 2
    ;;
esac

cmake --preset fuzz
cmake --build --preset fuzz --target "$TARGET"

BIN="$(find build/fuzz -type f -name "$TARGET" -perm -u+x | head -1)"
ART="$ROOT/build/fuzz/artifacts/$TARGET"
SEEDS="$ROOT/fuzz/corpus/$NAME"
CORPUS="$ROOT/fuzz/corpus-run/$NAME"
mkdir -p "$ART" "$CORPUS" "$SEEDS" /tmp/fuzz
cp -n "$SEEDS"/* "$CORPUS/" 2>/dev/null || true
rm -f "$ART"/crash-* "$ART"/leak-* "$ART"/timeout-* "$ART"/oom-*

DICT=()
if [[ -f "fuzz/$NAME.dict" ]]; then DICT=(-dict="fuzz/$NAME.dict"); fi

LOG="$ROOT/build/fuzz/$TARGET.log"
echo "fuzzing $BIN for ${DURATION}s (log: $LOG)"
set +e
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$BIN" -max_total_time="$DURATION" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
  "${DICT[@]}" -artifact_prefix="$ART/" -print_final_stats=1 \
  "$CORPUS" "$SEEDS" >"$LOG" 2>&1
rc=$?
set -e

tail -n 25 "$LOG"
execs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$LOG" | grep -Eo '[0-9]+$' | tail -1)"
if [[ -z "$execs" ]]; then execs="$(grep -Eo 'Done [0-9]+ runs' "$LOG" | grep -Eo '[0-9]+' | tail -1)"; fi
crashes="$(find "$ART" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
echo
echo "$TARGET: duration ${DURATION}s, executions ${execs:-?}, corpus $(ls "$CORPUS" | wc -l) inputs, crashes ${crashes} (libFuzzer exit ${rc})"
if ((rc != 0 || crashes > 0)); then
  ls -la "$ART" >&2
  exit 1
fi
