# Helpers shared by scripts/main, scripts/test and the bench/fuzz runners. Source, don't run.

# The Python interpreter used for every virtualenv: Debian's (python3-dev/python3-venv belong to
# it) when present, else the python3 on PATH resolved through sys.executable (pyenv shims).
devx_python() {
  if [[ -x /usr/bin/python3 ]]; then
    echo /usr/bin/python3
  else
    python3 -c 'import sys; print(sys.executable)'
  fi
}

# Path of the devx CLI built in build dir $1.
devx_cli_in() {
  local dir="$1" c
  for c in "$dir/bin/devx" "$dir/tools/devx-cli/devx"; do
    if [[ -x "$c" && -f "$c" ]]; then echo "$c"; return 0; fi
  done
  c="$(find "$dir" -maxdepth 4 -type f -name devx -perm -u+x 2>/dev/null | head -1)"
  if [[ -n "$c" ]]; then echo "$c"; return 0; fi
  echo "no devx CLI found under $dir" >&2
  return 1
}

devx_banner() {
  printf '\n==============================================================================\n'
  printf '== %s\n' "$*"
  printf '==============================================================================\n'
}
