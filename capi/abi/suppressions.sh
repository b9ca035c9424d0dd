#!/usr/bin/env bash
# Prints the libabigail suppression specification for the C ABI check of the headers in DIR:
# c_abi.suppr (only devx_* symbols) plus a section dropping every type that none of DIR's headers
# defines. Used by check.sh and update.sh:  suppressions.sh DIR > FILE
# The types are not dropped, only their changes ignored: dropping them loses the parameters that
# point to them (opaque handles), and dropping while reading an abixml trips an assertion in
# libabigail 2.2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
headers_dir="${1:?usage: suppressions.sh HEADERS_DIR}"

names=()
while IFS= read -r -d '' header; do
  names+=("$(basename "$header" | sed 's/[.]/\\./g')")
done < <(find "$headers_dir" -maxdepth 1 -name '*.h' -print0 | sort -z)
[[ ${#names[@]} -gt 0 ]] || { echo "suppressions.sh: no *.h in $headers_dir" >&2; exit 2; }
alternatives="$(IFS='|'; echo "${names[*]}")"

cat "$here/c_abi.suppr"
cat <<SPEC

[suppress_type]
  source_location_not_regexp = (^|/)(${alternatives})\$
SPEC
