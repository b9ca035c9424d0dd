"""`limactl` 0.20.1: create/start/stop/delete/list/shell/edit on instances kept in state.json.

Faithful details callers trip over: `limactl start N` of a missing instance creates it from the
default template; `stop` of a stopped instance fails (without -f); there is no `stop --all`;
`delete` of a missing instance only warns (exit 0); `list --json` is JSON Lines (nothing at all,
plus a warning, when there are no instances); `edit` refuses a running instance and `--set` takes
a yq expression (`.cpus = 4 | .memory = "8GiB"`), not YAML; vmType vz exists only on macOS."""
import json
import os
import re
import secrets

from . import logfmt, sandbox
from .common import Exit, State, now_rfc3339, parse_flags, platform, read_state, should_fail

VERSION = "0.20.1"
NAME_RE = re.compile(r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$")
GIB = 1024 ** 3
# The templates limactl 0.20 ships (template://NAME).
TEMPLATES = {"default", "alpine", "archlinux", "debian", "fedora", "ubuntu", "ubuntu-lts",
             "docker", "docker-rootful", "podman", "podman-rootful", "k8s", "k3s", "nomad",
             "almalinux", "centos-stream", "rocky", "opensuse", "buildkit", "apptainer"}


def usage_error(flag, missing_value=False):
    if missing_value:
        return logfmt.fatal(f"flag needs an argument: {flag}")
    return logfmt.fatal(f"unknown flag: {flag}")


def lima_home():
    return os.environ.get("LIMA_HOME") or os.path.join(os.environ.get("HOME", "/root"), ".lima")


def instances(st):
    return st.section("lima", {}).setdefault("instances", {})


CONFIG_FLAGS = {
    "--cpus": ("cpus", "value"), "--memory": ("memory", "value"), "--disk": ("disk", "value"),
    "--vm-type": ("vm_type", "value"), "--mount-type": ("mount_type", "value"),
    "--mount-writable": ("mount_writable", "bool"), "--set": ("set", "value"),
    "--arch": ("arch", "value"), "--containerd": ("containerd", "value"),
    "--network": ("network", "list"), "--mount": ("mount", "list"), "--dns": ("dns", "list"),
    "--plain": ("plain", "bool"), "--rosetta": ("rosetta", "bool"), "--video": ("video", "bool"),
    "--mount-inotify": ("mount_inotify", "bool"),
}
CREATE_FLAGS = dict(CONFIG_FLAGS, **{"--name": ("name", "value"), "--tty": ("tty", "bool")})
START_FLAGS = dict(CREATE_FLAGS, **{"--timeout": ("timeout", "value")})


def number(raw, flag, kind=float):
    try:
        return kind(raw)
    except ValueError:
        raise logfmt.fatal(f'invalid argument "{raw}" for "{flag}" flag: strconv.Parse'
                           f'{"Int" if kind is int else "Float"}: parsing "{raw}": invalid syntax')


def size_bytes(text):
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]i?B?)?\s*", str(text))
    if not match:
        raise logfmt.fatal(f"failed to parse memory/disk size {text!r}")
    scale = {"K": 1024, "M": 1024 ** 2, "G": GIB, "T": 1024 ** 4}
    unit = (match.group(2) or "B")[0]
    return int(float(match.group(1)) * scale.get(unit, 1))


def apply_yq(config, expression):
    """The assignments Lima users write with --set: `.a.b = value`, chained with `|`."""
    for clause in expression.split("|"):
        match = re.fullmatch(r'\s*((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*=\s*(.+?)\s*', clause)
        if not match:
            raise logfmt.fatal(f"failed to evaluate yq expression {expression!r}: "
                               f"'{clause.strip()}' is not an assignment like .cpus = 4")
        path, raw = match.group(1).split(".")[1:], match.group(2)
        try:
            value = json.loads(raw)
        except ValueError:
            raise logfmt.fatal(f"failed to evaluate yq expression {expression!r}: bad value {raw}")
        target = config
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value


def apply_config_flags(config, options):
    if "cpus" in options:
        config["cpus"] = number(options["cpus"], "--cpus", int)
    if "memory" in options:
        config["memory"] = f"{number(options['memory'], '--memory'):g}GiB"
    if "disk" in options:
        config["disk"] = f"{number(options['disk'], '--disk'):g}GiB"
    if "vm_type" in options:
        config["vmType"] = options["vm_type"]
    if "mount_type" in options:
        config["mountType"] = options["mount_type"]
    if options.get("mount_writable"):
        for mount in config.setdefault("mounts", []):
            mount["writable"] = True
    if "arch" in options:
        config["arch"] = options["arch"]
    if "set" in options:
        apply_yq(config, options["set"])


def validate(config, name):
    vm_type = config.get("vmType", "qemu")
    if vm_type == "vz" and platform() != "darwin":
        raise logfmt.fatal(f'failed to validate YAML file "{lima_home()}/{name}/lima.yaml": '
                           'field `vmType` must be "qemu"; got "vz"')
    if vm_type not in ("qemu", "vz", "wsl2"):
        raise logfmt.fatal(f'field `vmType` must be "qemu", "vz", "wsl2"; got "{vm_type}"')


def default_config():
    return {"vmType": "vz" if platform() == "darwin" else "qemu", "arch": "x86_64", "cpus": 4,
            "memory": "4GiB", "disk": "100GiB", "mountType": "reverse-sshfs",
            "mounts": [{"location": "~"}, {"location": "/tmp/lima", "writable": True}],
            "containerd": {"system": False, "user": True}}


def create_instance(st, name, options, template):
    records = instances(st)
    if name in records:
        raise logfmt.fatal(f'instance "{name}" already exists ("{lima_home()}/{name}")')
    if not NAME_RE.match(name):
        raise logfmt.fatal(f'instance name "{name}" must match {NAME_RE.pattern}')
    if template.startswith("template://"):
        if template[len("template://"):] not in TEMPLATES:
            raise logfmt.fatal(f'template "{template[len("template://"):]}" not found')
    elif not os.path.exists(template):
        raise logfmt.fatal(f'failed to resolve template "{template}": no such file or directory')
    config = default_config()
    config["template"] = template
    if "rootful" in template:
        config["containerd"] = {"system": False, "user": False}
    apply_config_flags(config, options)
    validate(config, name)
    if should_fail(st.data, "lima", "create"):
        raise logfmt.fatal(f'failed to create instance directory "{lima_home()}/{name}": '
                           "mkdir: permission denied")
    records[name] = {"name": name, "status": "Stopped", "config": config,
                     "created": now_rfc3339(), "ssh_port": 60000 + secrets.randbelow(5000)}
    sandbox.create(name, hostname="lima-" + name)
    return records[name]


def cmd_create(args):
    options, positionals = parse_flags(args, CREATE_FLAGS, usage_error=usage_error)
    if len(positionals) > 1:
        raise logfmt.fatal(f"accepts at most 1 arg(s), received {len(positionals)}")
    template = positionals[0] if positionals else "template://default"
    name = options.get("name") or os.path.splitext(os.path.basename(template.split("//")[-1]))[0]
    with State() as st:
        create_instance(st, name, options, template)
    logfmt.info(f"Run `limactl start {name}` to start the instance.")
    return 0


def start_instance(st, record):
    name = record["name"]
    if should_fail(st.data, "lima", "start"):
        logfmt.info(f'Starting the instance "{name}" with VM driver "{record["config"]["vmType"]}"')
        raise logfmt.fatal('did not receive an event with the "running" status')
    logfmt.info(f'Starting the instance "{name}" with VM driver "{record["config"]["vmType"]}"')
    sandbox.start(name)
    record["status"] = "Running"
    logfmt.info(f"READY. Run `limactl shell {name}` to open the shell.")


def cmd_start(args):
    options, positionals = parse_flags(args, START_FLAGS, usage_error=usage_error)
    if len(positionals) > 1:
        raise logfmt.fatal(f"accepts at most 1 arg(s), received {len(positionals)}")
    name = options.get("name") or (positionals[0] if positionals else "default")
    with State() as st:
        record = instances(st).get(name)
        if record is None:
            logfmt.info(f'Creating an instance "{name}" from template://default '
                        "(Not from template://default)")
            record = create_instance(st, name, options, "template://default")
        elif record["status"] == "Running":
            logfmt.info(f'The instance "{name}" is already running. Run `limactl shell {name}` '
                        "to open the shell.")
            return 0
        start_instance(st, record)
    return 0


def cmd_stop(args):
    options, positionals = parse_flags(args, {"--force": ("force", "bool"),
                                              "-f": ("force", "bool")}, usage_error=usage_error)
    if len(positionals) > 1:
        raise logfmt.fatal(f"accepts at most 1 arg(s), received {len(positionals)}")
    name = positionals[0] if positionals else "default"
    with State() as st:
        record = instances(st).get(name)
        if record is None:
            raise logfmt.fatal(f'unable to load instance {name}: open {lima_home()}/{name}: '
                               "no such file or directory")
        if record["status"] != "Running" and not options.get("force"):
            raise logfmt.fatal(f'expected status "Running", got "{record["status"]}" '
                               "(maybe use `limactl stop -f`?)")
        if should_fail(st.data, "lima", "stop"):
            raise logfmt.fatal("failed to send SIGINT to the host agent: process already finished")
        logfmt.info("Sending SIGINT to hostagent process 4242")
        logfmt.info("Waiting for the host agent and the driver processes to shut down")
        sandbox.stop(name)
        record["status"] = "Stopped"
    return 0


def cmd_delete(args):
    options, names = parse_flags(args, {"--force": ("force", "bool"), "-f": ("force", "bool")},
                                 usage_error=usage_error)
    if not names:
        raise logfmt.fatal("requires at least 1 arg(s), only received 0")
    with State() as st:
        records = instances(st)
        for name in names:
            record = records.get(name)
            if record is None:
                logfmt.warning(f'Ignoring non-existent instance "{name}"')
                continue
            if record["status"] != "Stopped" and not options.get("force"):
                raise logfmt.fatal(f'failed to delete instance "{name}": expected status '
                                   f'"Stopped", got "{record["status"]}"')
            if should_fail(st.data, "lima", "delete"):
                raise logfmt.fatal(f'failed to delete instance "{name}": remove '
                                   f"{lima_home()}/{name}/diffdisk: device or resource busy")
            sandbox.remove(name)
            del records[name]
            logfmt.info(f'Deleted "{name}" ("{lima_home()}/{name}")')
    return 0


def list_entry(record):
    config = record["config"]
    name = record["name"]
    entry = {
        "name": name, "status": record["status"], "dir": f"{lima_home()}/{name}",
        "vmType": config.get("vmType", "qemu"), "arch": config.get("arch", "x86_64"),
        "cpuType": "", "cpus": config.get("cpus", 4),
        "memory": size_bytes(config.get("memory", "4GiB")),
        "disk": size_bytes(config.get("disk", "100GiB")),
        "sshLocalPort": record["ssh_port"],
        "sshConfigFile": f"{lima_home()}/{name}/ssh.config",
        "config": config, "sshAddress": "127.0.0.1", "protected": False,
    }
    if record["status"] == "Running":
        entry["hostAgentPID"] = 4242
        entry["driverPID"] = 4243
    return entry


def cmd_list(args):
    options, names = parse_flags(args, {"--json": ("json", "bool"), "--quiet": ("quiet", "bool"),
                                        "-q": ("quiet", "bool"), "--format": ("format", "value"),
                                        "-f": ("format", "value"),
                                        "--all-fields": ("all", "bool")}, usage_error=usage_error)
    data = read_state()
    if should_fail(data, "lima", "list"):
        raise logfmt.fatal(f"open {lima_home()}: permission denied")
    records = data.get("lima", {}).get("instances", {})
    selected = []
    for name in names:
        if name in records:
            selected.append(records[name])
        else:
            logfmt.warning(f"No instance matching {name} found.")
    if not names:
        selected = [records[n] for n in sorted(records)]
        if not selected:
            logfmt.warning("No instance found. Run `limactl start` to create an instance.")
            return 0
    if options.get("json") or options.get("format") == "json":
        for record in selected:
            print(json.dumps(list_entry(record), separators=(",", ":")))
        return 0
    if options.get("quiet"):
        for record in selected:
            print(record["name"])
        return 0
    rows = [["NAME", "STATUS", "SSH", "VMTYPE", "ARCH", "CPUS", "MEMORY", "DISK", "DIR"]]
    for record in selected:
        e = list_entry(record)
        rows.append([e["name"], e["status"], f"127.0.0.1:{e['sshLocalPort']}", e["vmType"],
                     e["arch"], str(e["cpus"]), f"{e['memory'] // GIB}GiB",
                     f"{e['disk'] // GIB}GiB", f"~/.lima/{e['name']}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("    ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    return 0


def cmd_shell(args):
    options, rest = parse_flags(args, {"--workdir": ("workdir", "value"),
                                       "--shell": ("shell", "value")},
                                allow_interspersed=False, usage_error=usage_error)
    if not rest:
        raise logfmt.fatal("requires at least 1 arg(s), only received 0")
    name, command = rest[0], rest[1:]
    data = read_state()
    record = data.get("lima", {}).get("instances", {}).get(name)
    if record is None:
        raise logfmt.fatal(f'instance "{name}" does not exist, run `limactl create {name}` to '
                           "create a new instance")
    if record["status"] != "Running":
        raise logfmt.fatal(f'instance "{name}" is stopped, run `limactl start {name}` to start '
                           "the instance")
    if should_fail(data, "lima", "shell"):
        raise Exit(255, f"ssh: connect to host 127.0.0.1 port {record['ssh_port']}: "
                        "Connection refused")
    unreachable = f"ssh: connect to host 127.0.0.1 port {record['ssh_port']}: Connection refused"
    # limactl quotes every word for the remote shell, so the argv arrives intact.
    sandbox.exec_command(name, command, unreachable, workdir=options.get("workdir"))
    return 0


def cmd_edit(args):
    options, positionals = parse_flags(args, dict(CONFIG_FLAGS, **{"--tty": ("tty", "bool")}),
                                       usage_error=usage_error)
    if len(positionals) > 1:
        raise logfmt.fatal(f"accepts at most 1 arg(s), received {len(positionals)}")
    name = positionals[0] if positionals else "default"
    with State() as st:
        record = instances(st).get(name)
        if record is None:
            raise logfmt.fatal(f'unable to load instance {name}: open {lima_home()}/{name}: '
                               "no such file or directory")
        if record["status"] == "Running":
            raise logfmt.fatal("cannot edit a running instance")
        config = json.loads(json.dumps(record["config"]))
        apply_config_flags(config, options)
        if config == record["config"]:
            logfmt.info("Aborting, no changes made to the instance")
            return 0
        validate(config, name)
        if size_bytes(config.get("disk", "100GiB")) < size_bytes(record["config"].get("disk")):
            raise logfmt.fatal("field `disk`: shrinking the disk is not supported")
        if should_fail(st.data, "lima", "edit"):
            raise logfmt.fatal(f"open {lima_home()}/{name}/lima.yaml: permission denied")
        record["config"] = config
        logfmt.info(f'Instance "{name}" configuration edited')
    return 0


COMMANDS = {"create": cmd_create, "start": cmd_start, "stop": cmd_stop, "delete": cmd_delete,
            "rm": cmd_delete, "remove": cmd_delete, "list": cmd_list, "ls": cmd_list,
            "shell": cmd_shell, "edit": cmd_edit}
GLOBAL_FLAGS = {"--debug": ("debug", "bool"), "--log-level": ("log_level", "value"),
                "--log-format": ("log_format", "value"), "--tty": ("tty", "bool")}


def main(args):
    if args in (["--version"], ["-v"]):
        print(f"limactl version {VERSION}")
        return 0
    # Global flags may come before the command.
    while args and args[0].split("=")[0] in GLOBAL_FLAGS:
        takes_value = GLOBAL_FLAGS[args[0].split("=")[0]][1] == "value" and "=" not in args[0]
        args = args[2:] if takes_value else args[1:]
    if not args:
        print("Lima: Linux virtual machines\n\nUsage:\n  limactl [command]")
        return 0
    handler = COMMANDS.get(args[0])
    if handler is None:
        raise logfmt.fatal(f'unknown command "{args[0]}" for "limactl"')
    return handler(args[1:])
