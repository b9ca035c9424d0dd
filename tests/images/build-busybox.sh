#!/usr/bin/env bash
# Builds the offline test image localhost/devx-test/busybox:latest from Debian's busybox-static
# (no registry access needed): a rootfs with busybox and its applet symlinks, imported with
# `podman import`. Idempotent: does nothing when the image already exists (pass --force to
# rebuild). Uses the private CONTAINERS_CONF beside this script unless one is already set.
#
#   tests/images/build-busybox.sh [--force] [--engine podman|docker]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="localhost/devx-test/busybox:latest"
engine="podman"
force=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) force=1 ;;
    --engine) engine="$2"; shift ;;
    *) echo "usage: $0 [--force] [--engine podman|docker]" >&2; exit 2 ;;
  esac
  shift
done

export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

if ! command -v "$engine" >/dev/null 2>&1; then
  echo "build-busybox: '$engine' is not installed (apt-get install -y podman runc)" >&2
  exit 1
fi
busybox="$(command -v busybox || true)"
if [[ -z "$busybox" ]] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  busybox=/bin/busybox
  [[ -x "$busybox" ]] || { echo "build-busybox: apt-get install -y busybox-static" >&2; exit 1; }
fi

if [[ $force -eq 0 ]] && "$engine" image exists "$image" 2>/dev/null; then
  echo "build-busybox: $image already present"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,proc,sys,dev,root,data}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
# One symlink per applet this busybox was built with (sh, httpd, nc, sleep, wget, env, …).
for applet in $("$rootfs/bin/busybox" --list-full); do
  [[ -e "$rootfs/$applet" ]] || ln -s /bin/busybox "$rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
echo '<html><body>devx-test</body></html>' >"$rootfs/var/www/index.html"

tar --numeric-owner -C "$rootfs" -c . |
  "$engine" import --change 'CMD ["/bin/sh"]' --change 'WORKDIR /' - "$image" >/dev/null
echo "build-busybox: built $image"
