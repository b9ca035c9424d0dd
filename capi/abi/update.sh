#!/usr/bin/env bash
# Refreshes the C ABI baseline (capi/abi/libdevx.abi) from a built libdevx.so.
#
#   capi/abi/update.sh build/default/lib/libdevx.so
#   capi/abi/update.sh --out FILE --headers DIR LIB    # other libraries (used by the self-test)
#
# Do this only when the C ABI changed on purpose, additively (new functions, new enum values), and
# devx_abi_version() was bumped; commit the new baseline with that change. The library must be
# built with debug info (-g: Debug and RelWithDebInfo do that). Review `git diff capi/abi/` before
# committing: a removed or changed function there is a break of the stable ABI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/libdevx.abi"
headers="$here/../include/devx"

usage() {
  echo "usage: $0 [--out FILE] [--headers DIR] LIBRARY" >&2
  exit 2
}

lib=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="${2:?}"; shift 2 ;;
    --headers) headers="${2:?}"; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [[ -z "$lib" ]] || usage; lib="$1"; shift ;;
  esac
done
[[ -n "$lib" ]] || usage
command -v abidw >/dev/null || { echo "$0: abidw not found (apt-get install abigail-tools)" >&2; exit 2; }
[[ -f "$lib" ]] || { echo "$0: no such library: $lib" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
suppressions="$work/c_abi.suppr"
"$here/suppressions.sh" "$headers" >"$suppressions"

# Locations are kept short and build paths out, so the baseline does not depend on where it was
# built.
abidw --headers-dir "$headers" --drop-private-types --drop-undefined-syms --exported-interfaces-only \
  --suppressions "$suppressions" \
  --no-corpus-path --short-locs --no-comp-dir-path --no-elf-needed \
  --out-file "$out.tmp" "$(readlink -f "$lib")"
if ! grep -q '<function-decl' "$out.tmp"; then
  rm -f "$out.tmp"
  echo "$0: no public function found in $lib — was it built without debug info (-g)?" >&2
  exit 2
fi
mv "$out.tmp" "$out"
echo "ABI baseline written to $out ($(grep -c '<function-decl' "$out") functions)"
