"""The inside of a fake VM: one real podman container per VM (fakevm-<name>) from the offline
busybox image, started and stopped with the VM. Shell forms (`machine ssh`, `limactl shell`, …)
run their command there with `podman exec -i`, stdin passed through. Shims stand in for what a
Fedora CoreOS / Ubuntu guest has and busybox lacks: sudo (runs the rest), systemctl and sysctl
(log their argv to /var/log/fake-<tool>.log, exit 0) and coreutils' install(1)."""
import base64
import gzip
import json
import os
import shlex
import subprocess
import sys
import urllib.parse

from . import tailscale_shim
from .common import REPO_DIR, Exit, find_real_binary

IMAGE = "localhost/devx-test/busybox:latest"

# PID 1 that exits on SIGTERM at once (a PID 1 without a handler ignores it and stop takes 10 s).
INIT = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"

ENGINE_SHIM = r"""#!/bin/sh
engine=$(basename "$0")
echo "$engine $*" >> /var/log/fake-engine.log
# exec/inspect of the dev machine's system containers (vmfake/tailscale_shim.py).
case "$1" in exec|inspect) exec /usr/local/libexec/fake-containers "$engine" "$@" ;; esac
[ "$1" = ps ] || exit 0
shift
format=table
while [ $# -gt 0 ]; do
  case "$1" in
    -q|--quiet) format=ids ;;
    --format|-f) shift; format="$1" ;;
    --format=*) format="${1#--format=}" ;;
  esac
  shift
done
dir=/var/lib/fake-engine
case "$format" in
  ids) cat "$dir/ps.ids" 2>/dev/null ;;
  json) if [ -f "$dir/ps.json" ]; then cat "$dir/ps.json"; else echo "[]"; fi ;;
  "{{json .}}") cat "$dir/ps.jsonl" 2>/dev/null ;;
  *) echo "CONTAINER ID  IMAGE  COMMAND  CREATED  STATUS  PORTS  NAMES" ;;
esac
exit 0
"""

SHIMS = {
    "sudo": r"""#!/bin/sh
# sudo stand-in: drops sudo's own options, runs the rest as root (the sandbox is root already).
while [ $# -gt 0 ]; do
  case "$1" in
    -u|-g|-C|-D|-h|-p|-r|-t|-T|-U) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -eq 0 ] && { echo "usage: sudo [-AbEHnPS] command" >&2; exit 1; }
# busybox sh runs its own applets before PATH; the shims must win (sysctl is also an applet).
if [ -x "/usr/local/bin/$1" ]; then cmd="/usr/local/bin/$1"; shift; exec "$cmd" "$@"; fi
exec "$@"
""",
    "systemctl": r"""#!/bin/sh
# systemctl stand-in: records its argv (one line per call) and succeeds.
echo "$*" >> /var/log/fake-systemctl.log
case "$1" in is-active) echo active ;; is-enabled) echo enabled ;; esac
exit 0
""",
    "sysctl": r"""#!/bin/sh
# sysctl stand-in: records its argv; the container cannot change kernel settings.
echo "$*" >> /var/log/fake-sysctl.log
exit 0
""",
    # The VM's container engine: no containers unless a test seeds /var/lib/fake-engine with
    # ps.json (podman's `ps --format json`), ps.jsonl (docker/nerdctl `{{json .}}` lines) and
    # ps.ids (`ps -q`); every other call is logged to /var/log/fake-engine.log and succeeds.
    "podman": ENGINE_SHIM,
    "docker": ENGINE_SHIM,
    "nerdctl": ENGINE_SHIM,
    "install": r"""#!/bin/sh
# coreutils install(1) subset: [-D] [-d] [-m MODE] [-o OWNER] [-g GROUP] [-T] SRC... DEST
mode=0755 owner= group= make_parents=0 dirs=0
while [ $# -gt 0 ]; do
  case "$1" in
    -m) mode="$2"; shift 2 ;;
    -m*) mode="${1#-m}"; shift ;;
    --mode=*) mode="${1#--mode=}"; shift ;;
    -o) owner="$2"; shift 2 ;;
    --owner=*) owner="${1#--owner=}"; shift ;;
    -g) group="$2"; shift 2 ;;
    --group=*) group="${1#--group=}"; shift ;;
    -D) make_parents=1; shift ;;
    -d|--directory) dirs=1; shift ;;
    -T|--no-target-directory|-v|-p|-c|-C) shift ;;
    -Dm*) make_parents=1; mode="${1#-Dm}"; shift ;;
    -Dm) make_parents=1; mode="$2"; shift 2 ;;
    --) shift; break ;;
    -*) echo "install: unrecognized option '$1'" >&2; exit 1 ;;
    *) break ;;
  esac
done
own() {
  [ -n "$owner" ] && { chown "$owner" "$1" || exit 1; }
  [ -n "$group" ] && { chgrp "$group" "$1" || exit 1; }
  return 0
}
if [ "$dirs" = 1 ]; then
  for d in "$@"; do mkdir -p "$d" && chmod "$mode" "$d" && own "$d" || exit 1; done
  exit 0
fi
[ $# -ge 2 ] || { echo "install: missing destination file operand" >&2; exit 1; }
eval "dest=\${$#}"
if [ $# -gt 2 ] || [ -d "$dest" ]; then
  n=$(($# - 1)); i=0
  for src in "$@"; do
    i=$((i + 1)); [ $i -gt $n ] && break
    t="$dest/$(basename "$src")"
    cat "$src" > "$t.install-tmp" && chmod "$mode" "$t.install-tmp" && own "$t.install-tmp" \
      && mv -f "$t.install-tmp" "$t" || exit 1
  done
  exit 0
fi
[ "$make_parents" = 1 ] && mkdir -p "$(dirname "$dest")"
cat "$1" > "$dest.install-tmp" && chmod "$mode" "$dest.install-tmp" && own "$dest.install-tmp" \
  && mv -f "$dest.install-tmp" "$dest"
""",
}


def enabled():
    return os.environ.get("FAKE_VM_SANDBOX", "container") != "none"


def container_name(vm_name):
    return os.environ.get("FAKE_VM_CONTAINER_PREFIX", "fakevm-") + vm_name


def _podman():
    path = find_real_binary("podman")
    if not path:
        raise Exit(125, "Error: fake VM sandbox: the real podman is not on PATH "
                        "(set FAKE_VM_SANDBOX=none to run without VM sandboxes)")
    return path


def _env():
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", os.path.join(REPO_DIR, "tests", "images", "containers.conf"))
    return env


def _run(args, stdin=None, check=True):
    proc = subprocess.run([_podman(), *args], input=stdin, capture_output=True, env=_env())
    if check and proc.returncode != 0:
        raise Exit(125, "Error: fake VM sandbox: podman " + " ".join(args[:2]) + " failed: "
                   + proc.stderr.decode(errors="replace").strip())
    return proc


def _ensure_image():
    if _run(["image", "exists", IMAGE], check=False).returncode == 0:
        return
    script = os.path.join(REPO_DIR, "tests", "images", "build-busybox.sh")
    proc = subprocess.run([script], capture_output=True, env=_env())
    if proc.returncode != 0:
        raise Exit(125, "Error: fake VM sandbox: building " + IMAGE + " failed: "
                   + proc.stderr.decode(errors="replace").strip())


def create(vm_name, hostname=None):
    """Creates the VM's container (stopped), replacing a stale one of the same name."""
    if not enabled():
        return
    _ensure_image()
    name = container_name(vm_name)
    _run(["rm", "-f", "-t", "0", name], check=False)
    # CAP_SYS_ADMIN lets start() unmount the files podman binds over /etc (see there).
    _run(["create", "--name", name, "--hostname", hostname or vm_name, "--cap-add", "SYS_ADMIN",
          "--label", "devx-test.fakevm=" + os.environ.get("FAKE_VM_STATE", ""),
          IMAGE, "sh", "-c", INIT])


def start(vm_name):
    """Starts the container and (re)installs the shims."""
    if not enabled():
        return
    name = container_name(vm_name)
    _run(["start", name])
    # A VM's /etc/hostname, hosts and resolv.conf are plain files (Ignition replaces them with a
    # rename); podman binds its own over them, and a rename onto a bind mount fails with EBUSY.
    # What the VM wrote before lies under the mount and survives restarts.
    script = ["for f in hostname hosts resolv.conf; do "
              "if grep -q \" /etc/$f \" /proc/mounts; then c=$(cat /etc/$f); umount /etc/$f; "
              "[ -s /etc/$f ] || printf '%s\\n' \"$c\" > /etc/$f; fi; done",
              "mkdir -p /usr/local/bin /var/log /etc/systemd/system /home/core"]
    installed = {f"/usr/local/bin/{tool}": text for tool, text in SHIMS.items()}
    installed.update(tailscale_shim.files())
    for path, text in installed.items():
        encoded = base64.b64encode(text.encode()).decode()
        script.append(f"mkdir -p {os.path.dirname(path)} && echo {encoded} | base64 -d > {path} "
                      f"&& chmod 755 {path}")
    _run(["exec", name, "sh", "-c", " && ".join(script)])


def stop(vm_name):
    if enabled():
        _run(["stop", "-t", "2", container_name(vm_name)], check=False)


def remove(vm_name):
    if enabled():
        _run(["rm", "-f", "-t", "0", container_name(vm_name)], check=False)


def exec_command(vm_name, argv, unreachable_message, workdir=None):
    """Replaces this process with `podman exec -i fakevm-<name> argv…` (stdio and exit code pass
    through). No argv = an interactive login shell."""
    if not enabled():
        raise Exit(255, unreachable_message)
    podman = _podman()
    flags = ["-i"] + (["-t"] if sys.stdin.isatty() and sys.stdout.isatty() else [])
    if workdir:
        flags += ["-w", workdir]
    command = argv or ["sh", "-l"]
    sys.stdout.flush()
    os.execve(podman, [podman, "exec", *flags, "-e", "PATH=/usr/local/sbin:/usr/local/bin:"
                       "/usr/sbin:/usr/bin:/sbin:/bin", container_name(vm_name), *command], _env())


# busybox sh prefers its applets to PATH, so a script calling `sysctl` would get busybox's;
# functions win over applets.
SHIM_FUNCTIONS = "".join(f'{tool}() {{ /usr/local/bin/{tool} "$@"; }}; ' for tool in SHIMS)


def shell_command(vm_name, script, unreachable_message):
    """Runs a command line the way sshd does: parsed by the remote user's shell."""
    exec_command(vm_name, ["sh", "-c", SHIM_FUNCTIONS + script], unreachable_message)


def _data_url(source):
    if source is None:
        return b""
    if not source.startswith("data:"):
        raise ValueError(f"unsupported source {source!r} (the fake VM only reads data: URLs)")
    header, _, payload = source[5:].partition(",")
    if header.endswith(";base64"):
        return base64.b64decode(payload)
    return urllib.parse.unquote_to_bytes(payload)


def apply_ignition(vm_name, ignition_text):
    """What Ignition does on a first boot, applied to the container: passwd keys, directories,
    files, links and systemd units (enabled ones recorded in fake-systemctl.log). Returns a
    summary dict; raises Exit on a config the real Ignition would refuse to run."""
    try:
        config = json.loads(ignition_text)
        version = config["ignition"]["version"]
    except (ValueError, KeyError, TypeError) as e:
        raise Exit(125, f"Error: fake VM first boot: ignition config is not valid: {e}")
    if not str(version).startswith("3."):
        raise Exit(125, f"Error: fake VM first boot: unsupported ignition config version {version}")
    lines = ["set -e"]
    summary = {"users": 0, "directories": 0, "files": 0, "links": 0, "units": 0}

    def put(path, data, mode):
        encoded = base64.b64encode(data).decode()
        q = shlex.quote(path)
        lines.append(f"mkdir -p $(dirname {q}) && echo {encoded} | base64 -d > {q} && "
                     f"chmod {mode:o} {q}")

    for user in config.get("passwd", {}).get("users", []) or []:
        keys = [k for k in user.get("sshAuthorizedKeys", []) or [] if k]
        home = "/root" if user["name"] == "root" else "/home/" + user["name"]
        if keys:
            put(f"{home}/.ssh/authorized_keys.d/ignition", ("\n".join(keys) + "\n").encode(), 0o600)
        summary["users"] += 1
    storage = config.get("storage", {}) or {}
    for directory in storage.get("directories", []) or []:
        q = shlex.quote(directory["path"])
        lines.append(f"mkdir -p {q} && chmod {directory.get('mode', 0o755):o} {q}")
        summary["directories"] += 1
    for entry in storage.get("files", []) or []:
        contents = entry.get("contents", {}) or {}
        try:
            data = _data_url(contents.get("source"))
            if contents.get("compression") == "gzip":
                data = gzip.decompress(data)
        except (ValueError, OSError) as e:
            raise Exit(125, f"Error: fake VM first boot: file {entry['path']}: {e}")
        put(entry["path"], data, entry.get("mode", 0o644))
        summary["files"] += 1
    for link in storage.get("links", []) or []:
        q = shlex.quote(link["path"])
        lines.append(f"mkdir -p $(dirname {q}) && ln -sfn {shlex.quote(link['target'])} {q}")
        summary["links"] += 1
    for unit in config.get("systemd", {}).get("units", []) or []:
        if unit.get("contents") is not None:
            put("/etc/systemd/system/" + unit["name"], unit["contents"].encode(), 0o644)
        for dropin in unit.get("dropins", []) or []:
            put(f"/etc/systemd/system/{unit['name']}.d/{dropin['name']}",
                (dropin.get("contents") or "").encode(), 0o644)
        if unit.get("enabled"):
            lines.append(f"echo {shlex.quote('enable ' + unit['name'] + ' (ignition preset)')} "
                         ">> /var/log/fake-systemctl.log")
        summary["units"] += 1
    lines.append("echo " + shlex.quote(json.dumps(summary)) + " >> /var/log/fake-ignition.log")
    if enabled():
        _run(["exec", "-i", container_name(vm_name), "sh", "-s"], stdin="\n".join(lines).encode())
    return summary
