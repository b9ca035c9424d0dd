#!/usr/bin/env bash
# Builds the consumer projects against an installed libdevx and runs them on the cross-layer
# fixture with profile "ci".
#   tests/consumer/run.sh PREFIX OUTDIR
# PREFIX: an install prefix (cmake --install … --prefix PREFIX). OUTDIR receives the binaries,
# cxx.json (CMake consumer, C++ API) and c.json (pkg-config consumer, C ABI).
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

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "-- CMake consumer: find_package(devx CONFIG REQUIRED) from $PREFIX"
rm -rf "$OUTDIR/cmake-build"
cmake -S "$HERE/cmake" -B "$OUTDIR/cmake-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON
cmake --build "$OUTDIR/cmake-build"
cp "$OUTDIR/cmake-build/devx-consumer-cxx" "$OUTDIR/devx-consumer-cxx"

echo "-- C consumer: cc main.c \$(pkg-config --cflags --libs devx)"
echo "   pkg-config: $(pkg-config --modversion devx) $(pkg-config --cflags --libs devx)"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Wpedantic -Werror -o "$OUTDIR/devx-consumer-c" "$HERE/c/main.c" \
  $(pkg-config --cflags --libs devx)

echo "-- running both on $PROJECT (profile $PROFILE)"
"$OUTDIR/devx-consumer-cxx" "$PROJECT" "$PROFILE" >"$OUTDIR/cxx.json"
"$OUTDIR/devx-consumer-c" "$PROJECT" "$PROFILE" >"$OUTDIR/c.json"

for f in cxx.json c.json; do
  if [[ ! -s "$OUTDIR/$f" ]]; then
    echo "FAIL: $OUTDIR/$f is empty" >&2
    exit 1
  fi
  head -c 200 "$OUTDIR/$f"; echo " … ($(wc -c <"$OUTDIR/$f") bytes in $f)"
done
echo "consumers: ok"
