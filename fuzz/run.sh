#!/usr/bin/env bash
# Builds the fuzz preset (clang-14, libFuzzer + ASan + UBSan) and fuzzes the devx.yaml loader.
#   fuzz/run.sh [DURATION_SECONDS=60]
# The working corpus grows in fuzz/corpus-run/ (git-ignored; seeded from fuzz/corpus/config/);
# crashes, leaks and timeouts land in build/fuzz/artifacts/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${1:-60}"

cmake --preset fuzz
cmake --build --preset fuzz --target fuzz_config_loader

BIN="$(find build/fuzz -type f -name fuzz_config_loader -perm -u+x | head -1)"
ART="$ROOT/build/fuzz/artifacts"
CORPUS="$ROOT/fuzz/corpus-run/config"
mkdir -p "$ART" "$CORPUS" /tmp/fuzz
cp -n fuzz/corpus/config/*.yaml "$CORPUS/" 2>/dev/null || true
rm -f "$ART"/crash-* "$ART"/leak-* "$ART"/timeout-* "$ART"/oom-*

LOG="$ROOT/build/fuzz/fuzz_config_loader.log"
echo "fuzzing $BIN for ${DURATION}s (log: $LOG)"
set +e
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$BIN" -max_total_time="$DURATION" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
  -dict=fuzz/config.dict -artifact_prefix="$ART/" -print_final_stats=1 \
  "$CORPUS" fuzz/corpus/config >"$LOG" 2>&1
rc=$?
set -e

tail -n 25 "$LOG"
execs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$LOG" | grep -Eo '[0-9]+$' | tail -1)"
if [[ -z "$execs" ]]; then execs="$(grep -Eo 'Done [0-9]+ runs' "$LOG" | grep -Eo '[0-9]+' | tail -1)"; fi
crashes="$(find "$ART" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
echo
echo "fuzz_config_loader: duration ${DURATION}s, executions ${execs:-?}, corpus $(ls "$CORPUS" | wc -l) inputs, crashes ${crashes} (libFuzzer exit ${rc})"
if ((rc != 0 || crashes > 0)); then
  ls -la "$ART" >&2
  exit 1
fi
