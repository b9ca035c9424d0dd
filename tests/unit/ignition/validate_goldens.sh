#!/usr/bin/env bash
# Runs ignition-validate over every golden Ignition file of the Butane corpus. Debian's
# ignition-validate (2.14) knows spec versions up to 3.3.0, so a 3.4.0 document that uses no
# 3.4-only feature (setuid/setgid/sticky mode bits) is checked as 3.3.0. Exit 77 = skipped.
set -euo pipefail
CORPUS="${1:?usage: validate_goldens.sh CORPUS_DIR}"
if ! command -v ignition-validate >/dev/null 2>&1; then
  echo "SKIP: ignition-validate is not installed (Debian package 'ignition')"
  exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to rewrite 3.4.0 versions"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0
checked=0
while IFS= read -r -d '' golden; do
  name="${golden#"$CORPUS"/}"
  candidate="$tmp/candidate.ign"
  verdict="$(python3 - "$golden" "$candidate" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
def special_modes(node):
    if isinstance(node, dict):
        if isinstance(node.get("mode"), int) and node["mode"] & 0o7000:
            return True
        return any(special_modes(v) for v in node.values())
    if isinstance(node, list):
        return any(special_modes(v) for v in node)
    return False
version = doc["ignition"]["version"]
if version == "3.4.0":
    if special_modes(doc):
        print("skip-3.4-only")
        sys.exit(0)
    doc["ignition"]["version"] = "3.3.0"
json.dump(doc, open(sys.argv[2], "w"))
print("check")
PY
)"
  if [[ "$verdict" != check ]]; then
    echo "not checked (uses 3.4-only fields): $name"
    continue
  fi
  checked=$((checked + 1))
  if out="$(ignition-validate "$candidate" 2>&1)"; then
    echo "ok: $name${out:+ ($out)}"
  else
    echo "FAIL: $name"
    echo "$out"
    failed=$((failed + 1))
  fi
done < <(find "$CORPUS" -name '*.ign' -print0 | sort -z)
echo "$checked goldens checked, $failed failed"
((checked > 0 && failed == 0))
