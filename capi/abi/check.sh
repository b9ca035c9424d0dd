#!/usr/bin/env bash
# Compares a built libdevx.so with the committed C ABI baseline (capi/abi/libdevx.abi).
#
#   capi/abi/check.sh build/default/lib/libdevx.so
#   capi/abi/check.sh --baseline FILE --headers DIR LIB    # other libraries (used by the self-test)
#
# Exit status: 0 when the C ABI is unchanged or only grew (added functions are allowed), 1 when it
# changed incompatibly (a function removed, a signature or a public type changed), 2 when the
# check could not run. Only devx_* C symbols count (see c_abi.suppr). After an intended, additive
# change, refresh the baseline with capi/abi/update.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
baseline="$here/libdevx.abi"
headers="$here/../include/devx"

usage() {
  echo "usage: $0 [--baseline FILE] [--headers DIR] LIBRARY" >&2
  exit 2
}

lib=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --baseline) baseline="${2:?}"; shift 2 ;;
    --headers) headers="${2:?}"; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [[ -z "$lib" ]] || usage; lib="$1"; shift ;;
  esac
done
[[ -n "$lib" ]] || usage
command -v abidiff >/dev/null || { echo "$0: abidiff not found (apt-get install abigail-tools)" >&2; exit 2; }
[[ -f "$baseline" ]] || { echo "$0: no baseline $baseline (create it with update.sh)" >&2; exit 2; }
[[ -f "$lib" ]] || { echo "$0: no such library: $lib" >&2; exit 2; }
lib="$(readlink -f "$lib")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
suppressions="$work/c_abi.suppr"
"$here/suppressions.sh" "$headers" >"$suppressions"

common=(--suppressions "$suppressions" --headers-dir1 "$headers" --headers-dir2 "$headers"
        --exported-interfaces-only --fail-no-debug-info)

# abidiff's status is a bit field: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
# Added functions set bit 4 as well, so the verdict comes from a run that leaves additions out:
# any change that remains (bit 4 or 8) is a removal or a modification of existing interface.
set +e
report="$(abidiff --no-added-syms "${common[@]}" "$baseline" "$lib" 2>&1)"
status=$?
set -e

if (( status & 3 )); then
  echo "$report" >&2
  echo "abi_compat: abidiff failed (status $status)" >&2
  exit 2
fi
if (( status & 12 )); then
  echo "$report"
  echo "abi_compat: INCOMPATIBLE change of the C ABI against $(basename "$baseline") (abidiff status $status)." >&2
  echo "abi_compat: the C ABI only grows; restore the removed/changed interface or add a new function instead." >&2
  exit 1
fi

# Compatible. Show additions, so a reviewer sees them and remembers to refresh the baseline.
set +e
full="$(abidiff "${common[@]}" "$baseline" "$lib" 2>&1)"
full_status=$?
set -e
if (( full_status & 4 )); then
  echo "$full"
  echo "abi_compat: OK — additive changes only; refresh the baseline with capi/abi/update.sh and bump DEVX_ABI_VERSION."
else
  echo "abi_compat: OK — the C ABI matches the baseline."
fi
exit 0
