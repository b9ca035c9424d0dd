#!/usr/bin/env bash
# Proves capi/abi/check.sh accepts identical and additive libraries and rejects incompatible ones.
#   selftest.sh CHECK_SH UPDATE_SH HEADERS_DIR V1_LIB ADDITIVE_LIB REMOVED_LIB CHANGED_LIB
set -uo pipefail
check="$1" update="$2" headers="$3" v1="$4" additive="$5" removed="$6" changed="$7"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$update" --out "$work/toy.abi" --headers "$headers" "$v1" || { echo "FAIL: update.sh"; exit 1; }

failures=0
expect() {  # expect STATUS LIB
  local want="$1" lib="$2" got
  "$check" --baseline "$work/toy.abi" --headers "$headers" "$lib" >"$work/out.txt" 2>&1
  got=$?
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: check.sh $(basename "$lib"): exit $got, expected $want"
    cat "$work/out.txt"
    failures=$((failures + 1))
  else
    echo "ok: $(basename "$lib") -> $got"
  fi
}
expect 0 "$v1"
expect 0 "$additive"
expect 1 "$removed"
expect 1 "$changed"
grep -q devx_toy_count "$work/out.txt" || { echo "FAIL: report does not name the changed function"; failures=$((failures + 1)); }
exit $(( failures > 0 ))
