"""The dev machine's system containers inside a fake VM, as far as devx talks to them: the VM's
container engine shim hands `exec`/`inspect` of a container to the script below, and the fake
tailscale CLI (tests/fakes/tailscale, a busybox sh script) is installed as /usr/local/bin/tailscale.

A container NAME "runs" when an installed systemd unit starts it (`--name NAME` in a unit under
/etc/systemd/system, as the dev machine config's tailscaled.service does for devx-tailscaled);
`exec NAME CMD…` then runs CMD in the sandbox, which stands in for the container (its mounts,
/etc/devx/tailscale and /var/lib/tailscale, are the same paths there). Other names get the
engine's real "no such container" error."""
import os

from .common import FAKES_DIR

CONTAINERS = r"""#!/bin/sh
# <engine> exec|inspect for the dev machine's system containers (see vmfake/tailscale_shim.py).
engine="$1"; op="$2"; shift 2
running() {
  grep -qs -e "--name $1 " -e "--name $1\$" /etc/systemd/system/*.service
}
missing() {
  if [ "$engine" = podman ]; then
    case "$op" in
      inspect) echo "Error: no such object: \"$1\"" >&2; exit 125 ;;
      *) echo "Error: no container with name or ID \"$1\" found: no such container" >&2; exit 125 ;;
    esac
  fi
  echo "Error response from daemon: No such container: $1" >&2
  exit 1
}
case "$op" in
  exec)
    while [ $# -gt 0 ]; do
      case "$1" in
        -i|-t|-it|-ti|-d|--interactive|--tty|--privileged) shift ;;
        -u|--user|-e|--env|-w|--workdir|--env-file) shift 2 ;;
        --*=*) shift ;;
        -*) echo "Error: unknown shorthand flag: '${1#-}' in $1" >&2; exit 125 ;;
        *) break ;;
      esac
    done
    name="$1"; shift
    running "$name" || missing "$name"
    [ $# -gt 0 ] || { echo "Error: must provide a non-empty command to start an exec session" >&2; exit 125; }
    exec "$@"
    ;;
  inspect)
    format=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --format|-f) format="$2"; shift 2 ;;
        --format=*) format="${1#--format=}"; shift ;;
        -*) shift ;;
        *) break ;;
      esac
    done
    name="$1"
    running "$name" || missing "$name"
    case "$format" in
      "{{.State.Running}}") echo true ;;
      "{{.State.Status}}") echo running ;;
      "") echo "[{\"Name\":\"$name\",\"State\":{\"Status\":\"running\",\"Running\":true}}]" ;;
      *) echo "$format" ;;
    esac
    ;;
esac
"""


def files():
    """Path in the sandbox → content, installed (mode 0755) when the sandbox starts."""
    with open(os.path.join(FAKES_DIR, "tailscale")) as f:
        tailscale = f.read()
    return {"/usr/local/bin/tailscale": tailscale,
            "/usr/local/libexec/fake-containers": CONTAINERS}
