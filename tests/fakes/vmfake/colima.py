"""`colima` 0.6.8: profiles (start/stop/delete/status/list/ssh) kept in state.json.

Faithful details (cmd/start.go, app/app.go): the profile comes from `--profile N`/`-p N` or the
first argument ("default" otherwise); `start` saves the flags to the profile's config first, then
only warns "already running, ignoring" when the VM runs — the saved sizes apply at the next start;
`stop` of a stopped profile still logs and succeeds; `status` exits 1 unless running; `delete`
without -f asks on stdin; `list --json` is JSON Lines; --cpu/--memory/--disk are integers (GiB);
vz needs macOS."""
import json
import os
import sys

from . import logfmt, sandbox
from .common import Exit, State, now_rfc3339, parse_flags, platform, read_state, should_fail

VERSION = "0.6.8"
COMMIT = "9b0809d0ed9ad3ff1e57c405f27324e6298ca04f"
GIB = 1024 ** 3


def usage_error(flag, missing_value=False):
    if missing_value:
        return logfmt.fatal(f"flag needs an argument: {flag}")
    return logfmt.fatal(f"unknown flag: {flag}")


PROFILE_FLAGS = {"--profile": ("profile", "value"), "-p": ("profile", "value")}
START_FLAGS = dict(PROFILE_FLAGS, **{
    "--cpu": ("cpu", "value"), "-c": ("cpu", "value"),
    "--memory": ("memory", "value"), "-m": ("memory", "value"),
    "--disk": ("disk", "value"), "-d": ("disk", "value"),
    "--vm-type": ("vm_type", "value"), "--mount-type": ("mount_type", "value"),
    "--runtime": ("runtime", "value"), "-r": ("runtime", "value"),
    "--arch": ("arch", "value"), "-a": ("arch", "value"),
    "--kubernetes": ("kubernetes", "bool"), "-k": ("kubernetes", "bool"),
    "--mount": ("mount", "list"), "-V": ("mount", "list"), "--dns": ("dns", "list"),
    "--network-address": ("network_address", "bool"), "--edit": ("edit", "bool"),
    "-e": ("edit", "bool"), "--foreground": ("foreground", "bool"), "-f": ("foreground", "bool"),
    "--vz-rosetta": ("rosetta", "bool"), "--ssh-agent": ("ssh_agent", "bool"),
    "-s": ("ssh_agent", "bool"), "--mount-inotify": ("mount_inotify", "bool"),
})


def profiles(st):
    return st.section("colima", {}).setdefault("profiles", {})


def profile_name(options, positionals):
    return options.get("profile") or (positionals[0] if positionals else "default")


def display(profile):
    return "colima" if profile == "default" else f"colima [profile={profile}]"


def colima_home(profile):
    base = os.path.join(os.environ.get("HOME", "/root"), ".colima")
    return os.path.join(base, "default" if profile == "default" else profile)


def integer(raw, flag):
    try:
        return int(raw)
    except ValueError:
        raise logfmt.fatal(f'invalid argument "{raw}" for "{flag}" flag: strconv.ParseInt: '
                           f'parsing "{raw}": invalid syntax')


def cmd_start(args):
    options, positionals = parse_flags(args, START_FLAGS, usage_error=usage_error)
    name = profile_name(options, positionals)
    with State() as st:
        records = profiles(st)
        record = records.get(name)
        if record and record["status"] == "Running":
            # colima saved the flags to the profile's config before looking: they apply at the
            # next start.
            pending = record.setdefault("pending", {})
            for key, flag in (("cpu", "--cpu"), ("memory", "--memory"), ("disk", "--disk")):
                if key in options:
                    pending[key] = integer(options[key], flag)
            logfmt.warning("already running, ignoring")
            return 0
        vm_type = options.get("vm_type", record["vm_type"] if record else "qemu")
        if vm_type == "vz" and platform() != "darwin":
            raise logfmt.fatal("error validating config: vz is only supported on macOS 13 or "
                               "newer")
        if vm_type not in ("qemu", "vz"):
            raise logfmt.fatal(f"error validating config: invalid vmType: '{vm_type}'")
        first = record is None
        if first:
            record = {"name": name, "status": "Stopped", "created": now_rfc3339(),
                      "cpus": 2, "memory": 2, "disk": 60, "runtime": "docker",
                      "vm_type": vm_type, "arch": "x86_64",
                      "mount_type": options.get("mount_type",
                                                "virtiofs" if vm_type == "vz" else "sshfs")}
        pending = record.pop("pending", {}) if record else {}
        for key in ("cpu", "memory", "disk"):
            if key not in options and key in pending:
                options[key] = str(pending[key])
        if "disk" in options:
            disk = integer(options["disk"], "--disk")
            if not first and disk < record["disk"]:
                raise logfmt.fatal("error validating config: disk size cannot be reduced")
            record["disk"] = disk
        if "cpu" in options:
            record["cpus"] = integer(options["cpu"], "--cpu")
        if "memory" in options:
            record["memory"] = integer(options["memory"], "--memory")
        if "runtime" in options:
            if not first and options["runtime"] != record["runtime"]:
                raise logfmt.fatal(f"runtime disk provisioned for {record['runtime']}; to use a "
                                   f"different runtime, delete the profile first")
            record["runtime"] = options["runtime"]
        if "arch" in options:
            record["arch"] = {"aarch64": "aarch64", "arm64": "aarch64"}.get(
                options["arch"], "x86_64")
        logfmt.info(f"starting {display(name)}")
        logfmt.info(f"runtime: {record['runtime']}")
        if first:
            records[name] = record
            sandbox.create(name, hostname="colima" if name == "default" else f"colima-{name}")
            logfmt.info("creating and starting ...", context="vm")
        else:
            logfmt.info("starting ...", context="vm")
        if should_fail(st.data, "colima", "start"):
            raise logfmt.fatal("error starting vm: error at 'starting': exit status 1")
        sandbox.start(name)
        record["status"] = "Running"
        logfmt.info("provisioning ...", context=record["runtime"])
        logfmt.info("starting ...", context=record["runtime"])
        logfmt.info("done")
    return 0


def cmd_stop(args):
    options, positionals = parse_flags(args, dict(PROFILE_FLAGS, **{
        "--force": ("force", "bool"), "-f": ("force", "bool")}), usage_error=usage_error)
    name = profile_name(options, positionals)
    with State() as st:
        record = profiles(st).get(name)
        if record is None:
            raise logfmt.fatal(f"{display(name)} does not exist")
        logfmt.info(f"stopping {display(name)}")
        if should_fail(st.data, "colima", "stop"):
            raise logfmt.fatal("error stopping vm: exit status 1")
        if record["status"] == "Running":
            logfmt.info("stopping ...", context=record["runtime"])
            sandbox.stop(name)
        record["status"] = "Stopped"
        logfmt.info("done")
    return 0


def cmd_delete(args):
    options, positionals = parse_flags(args, dict(PROFILE_FLAGS, **{
        "--force": ("force", "bool"), "-f": ("force", "bool"),
        "--data": ("data", "bool")}), usage_error=usage_error)
    name = profile_name(options, positionals)
    with State() as st:
        records = profiles(st)
        if name not in records:
            raise logfmt.fatal(f"{display(name)} does not exist")
        if not options.get("force"):
            sys.stdout.write(f"are you sure you want to delete {display(name)} and all "
                             "settings? [y/N] ")
            sys.stdout.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                return 0
        if should_fail(st.data, "colima", "delete"):
            raise logfmt.fatal("error deleting vm: exit status 1")
        logfmt.info(f"deleting {display(name)}")
        sandbox.remove(name)
        del records[name]
        logfmt.info("done")
    return 0


def status_document(record):
    name = record["name"]
    return {"display_name": display(name),
            "driver": "macOS Virtualization.Framework" if record["vm_type"] == "vz" else "QEMU",
            "arch": record["arch"], "runtime": record["runtime"],
            "mount_type": record["mount_type"],
            "docker_socket": f"unix://{colima_home(name)}/docker.sock",
            "containerd_socket": f"unix://{colima_home(name)}/containerd.sock",
            "kubernetes": False, "cpu": record["cpus"],
            "memory": int(record["memory"] * GIB), "disk": int(record["disk"] * GIB)}


def cmd_status(args):
    options, positionals = parse_flags(args, dict(PROFILE_FLAGS, **{
        "--json": ("json", "bool"), "-j": ("json", "bool"),
        "--extended": ("extended", "bool"), "-e": ("extended", "bool")}), usage_error=usage_error)
    name = profile_name(options, positionals)
    record = read_state().get("colima", {}).get("profiles", {}).get(name)
    if record is None or record["status"] != "Running":
        raise logfmt.fatal(f"{display(name)} is not running")
    doc = status_document(record)
    if options.get("json"):
        print(json.dumps(doc, separators=(",", ":")))
        return 0
    logfmt.info(f"{display(name)} is running using {doc['driver']}")
    logfmt.info(f"arch: {doc['arch']}")
    logfmt.info(f"runtime: {doc['runtime']}")
    logfmt.info(f"mountType: {doc['mount_type']}")
    logfmt.info(f"docker socket: {doc['docker_socket']}")
    logfmt.info(f"containerd socket: {doc['containerd_socket']}")
    if options.get("extended"):
        logfmt.info(f"cpu: {doc['cpu']}")
        logfmt.info(f"mem: {record['memory']}GiB")
        logfmt.info(f"disk: {record['disk']}GiB")
    return 0


def cmd_list(args):
    options, _ = parse_flags(args, dict(PROFILE_FLAGS, **{"--json": ("json", "bool"),
                                                          "-j": ("json", "bool")}),
                             usage_error=usage_error)
    records = read_state().get("colima", {}).get("profiles", {})
    entries = [{"name": r["name"], "status": r["status"], "arch": r["arch"], "cpus": r["cpus"],
                "memory": int(r["memory"] * GIB), "disk": int(r["disk"] * GIB),
                "runtime": r["runtime"], "address": ""}
               for r in (records[n] for n in sorted(records))]
    if options.get("json"):
        for entry in entries:
            print(json.dumps(entry, separators=(",", ":")))
        return 0
    rows = [["PROFILE", "STATUS", "ARCH", "CPUS", "MEMORY", "DISK", "RUNTIME", "ADDRESS"]]
    for e in entries:
        rows.append([e["name"], e["status"], e["arch"], str(e["cpus"]),
                     f"{e['memory'] // GIB}GiB", f"{e['disk'] // GIB}GiB", e["runtime"], ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("    ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    return 0


def cmd_ssh(args):
    options, rest = parse_flags(args, PROFILE_FLAGS, usage_error=usage_error)
    name = options.get("profile", "default")
    data = read_state()
    record = data.get("colima", {}).get("profiles", {}).get(name)
    if record is None or record["status"] != "Running":
        raise logfmt.fatal(f"{display(name)} not running")
    if should_fail(data, "colima", "ssh"):
        raise Exit(255, "ssh: connect to host 127.0.0.1 port 53122: Connection refused")
    sandbox.exec_command(name, rest, "ssh: connect to host 127.0.0.1 port 53122: "
                                     "Connection refused")
    return 0


def cmd_version(args):
    print(f"colima version {VERSION}\ngit commit: {COMMIT}")
    running = [r for r in read_state().get("colima", {}).get("profiles", {}).values()
               if r["status"] == "Running" and r["name"] == "default"] \
        if os.environ.get("FAKE_VM_STATE") else []
    if running:
        print(f"\nruntime: {running[0]['runtime']}\narch: {running[0]['arch']}\n"
              "client: v24.0.7\nserver: v24.0.7")
    return 0


COMMANDS = {"start": cmd_start, "stop": cmd_stop, "delete": cmd_delete, "status": cmd_status,
            "list": cmd_list, "ls": cmd_list, "ssh": cmd_ssh, "version": cmd_version}


def main(args):
    if args in (["--version"], ["-v"]):
        print(f"colima version {VERSION}")
        return 0
    while args and args[0] in ("--verbose", "-v", "--very-verbose"):
        args = args[1:]
    if not args:
        print("Colima provides container runtimes on macOS with minimal setup.\n\nUsage:\n"
              "  colima [command]")
        return 0
    # `--profile` is a persistent flag: it may come before the command.
    if args[0] in PROFILE_FLAGS and len(args) >= 3:
        args = [args[2], args[0], args[1], *args[3:]]
    handler = COMMANDS.get(args[0])
    if handler is None:
        raise logfmt.fatal(f'unknown command "{args[0]}" for "colima"')
    return handler(args[1:])
