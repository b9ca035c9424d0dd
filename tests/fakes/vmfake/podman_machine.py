"""`podman machine …` and `podman system connection …` as podman 4.3 (qemu backend, run as an
unprivileged user) behaves; every other podman command is the real podman.

Modelled faithfully, including the sharp edges callers must handle:
* one machine may run at a time; `stop`/`set`/`inspect`/`ssh` without a name mean
  podman-machine-default; an unknown machine is `Error: N: VM does not exist` (exit 125);
* `set` refuses while the machine runs; `rm` of a running machine needs -f;
* `machine inspect` reports "State": "" for a machine that is not running (4.3 reads the QMP
  socket, which exists only while qemu runs);
* `list --format '{{.Name}}'` marks the machine of the default connection with a `*`;
* `init --ignition-path F` copies F (0644) and replaces podman's own Ignition entirely: podman
  adds no connection and generates no SSH key, prints no success message, and the guest only comes
  up if F contains podman's ready unit (echo Ready >/dev/vport1p1) — without it, real podman waits
  forever at "Waiting for VM ..." (the fake fails instead). `machine ssh` then works only if F
  authorises the public half of ~/.ssh/<name> for the machine's user.
"""
import json
import os
import re
import secrets
import sys

from . import sandbox
from .common import (Exit, State, find_real_binary, go_str, go_time, human_ago, human_size,
                     now_rfc3339, parse_flags, read_state, render_template, should_fail)

DEFAULT_MACHINE = "podman-machine-default"
MAX_NAME = 30
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
IMAGE_FILE = "fedora-coreos-37.20221127.2.0-qemu.x86_64.qcow2"


def usage_error(command):
    def make(flag, missing_value=False):
        if missing_value:
            return Exit(125, f"Error: flag needs an argument: {flag}\n"
                             f"See 'podman {command} --help'")
        return Exit(125, f"Error: unknown flag: {flag}\nSee 'podman {command} --help'")
    return make


def home():
    return os.environ.get("HOME", "/root")


def data_dir():
    return os.path.join(home(), ".local", "share", "containers", "podman", "machine", "qemu")


def config_dir():
    return os.path.join(home(), ".config", "containers", "podman", "machine", "qemu")


def identity_path(name):
    return os.path.join(home(), ".ssh", name)


def not_exist(name):
    return Exit(125, f"Error: {name}: VM does not exist")


def uint_flag(options, key, flag, default):
    raw = options.get(key)
    if raw is None:
        return default
    if not raw.isdigit():
        raise Exit(125, f'Error: invalid argument "{raw}" for "{flag}" flag: strconv.ParseUint: '
                        f'parsing "{raw}": invalid syntax')
    return int(raw)


def machines(st):
    return st.section("podman", {}).setdefault("machines", {})


def podman_section(st):
    section = st.section("podman", {})
    section.setdefault("machines", {})
    section.setdefault("connections", {})
    section.setdefault("default_connection", "")
    return section


def check_name(name):
    if len(name) > MAX_NAME:
        raise Exit(125, f'Error: machine name "{name}" must be {MAX_NAME} characters or less')
    if not NAME_RE.match(name):
        raise Exit(125, f'Error: invalid name "{name}": names must match '
                        f'[a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument')


# -- init --------------------------------------------------------------------------------------

INIT_FLAGS = {
    "--cpus": ("cpus", "value"), "--disk-size": ("disk", "value"),
    "--memory": ("memory", "value"), "-m": ("memory", "value"),
    "--ignition-path": ("ignition", "value"), "--image-path": ("image", "value"),
    "--now": ("now", "bool"), "--rootful": ("rootful", "bool"),
    "--timezone": ("timezone", "value"), "--username": ("username", "value"),
    "--volume": ("volumes", "list"), "-v": ("volumes", "list"),
    "--volume-driver": ("volume_driver", "value"),
}


def cmd_init(args):
    options, names = parse_flags(args, INIT_FLAGS, usage_error=usage_error("machine init"))
    if len(names) > 1:
        raise Exit(125, f"Error: accepts at most 1 arg(s), received {len(names)}")
    name = names[0] if names else DEFAULT_MACHINE
    if names:
        check_name(name)
    cpus = uint_flag(options, "cpus", "--cpus", 1)
    memory = uint_flag(options, "memory", "--memory", 2048)
    disk = uint_flag(options, "disk", "--disk-size", 100)
    ignition = options.get("ignition")
    with State() as st:
        section = podman_section(st)
        if name in section["machines"]:
            raise Exit(125, f"Error: {name}: VM already exists")
        if should_fail(st.data, "podman", "init"):
            raise Exit(125, 'Error: Get "https://builds.coreos.fedoraproject.org/streams/'
                            'testing.json": dial tcp: lookup builds.coreos.fedoraproject.org: '
                            'no such host')
        if options.get("volume_driver") not in (None, "", "virtfs"):
            raise Exit(125, f"Error: unknown volume driver: {options['volume_driver']}")
        print(f"Downloading VM image: {IMAGE_FILE}.xz: done")
        print("Extracting compressed file")
        port = 40000 + secrets.randbelow(20000)
        record = {
            "name": name, "id": secrets.token_hex(8), "created": now_rfc3339(), "last_up": "",
            "running": False,
            "cpus": cpus, "memory": memory, "disk": disk,
            "rootful": bool(options.get("rootful")), "username": options.get("username", "core"),
            "port": port, "image_stream": "custom" if options.get("image") else "testing",
            "volumes": options.get("volumes", []), "ignition": None, "first_boot_done": False,
        }
        if ignition:
            print("An ignition path was provided.  No SSH connection was added to Podman")
        else:
            uri = f"ssh://core@localhost:{port}/run/user/1000/podman/podman.sock"
            uri_root = f"ssh://root@localhost:{port}/run/podman/podman.sock"
            pairs = [(name, uri), (name + "-root", uri_root)]
            if record["rootful"]:
                pairs.reverse()
            for connection, target in pairs:
                section["connections"][connection] = target
            if not section["default_connection"]:
                section["default_connection"] = pairs[0][0]
        # podman writes the machine's config before it reads the Ignition file, so a bad
        # --ignition-path leaves a registered machine behind (as the real tool does).
        section["machines"][name] = record
        sandbox.create(name)
        print("Image resized.")
        if ignition:
            try:
                with open(ignition, "rb") as f:
                    content = f.read()
            except OSError as e:
                raise Exit(125, f"Error: open {ignition}: {e.strerror.lower()}")
            # What tests check about the handed-over file: its mode at creation.
            record["ignition_source_mode"] = format(os.stat(ignition).st_mode & 0o777, "04o")
            copy = st.file("podman", name + ".ign")
            with open(copy, "wb") as f:
                f.write(content)
            os.chmod(copy, 0o644)
            record["ignition"] = copy
            record["ignition_source"] = os.path.abspath(ignition)
            return 0
        write_machine_keys(name)
        print("Machine init complete")
        if options.get("now"):
            start_machine(st, name)
        extra = "" if name == DEFAULT_MACHINE else " " + name
        print(f"To start your machine run:\n\n\tpodman machine start{extra}\n")
    return 0


def write_machine_keys(name):
    """podman's ssh-keygen of ~/.ssh/<name> (a stand-in key pair)."""
    path = identity_path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    blob = secrets.token_hex(32)
    with open(path, "w") as f:
        f.write(f"-----BEGIN OPENSSH PRIVATE KEY-----\nfake-{blob}\n"
                "-----END OPENSSH PRIVATE KEY-----\n")
    os.chmod(path, 0o600)
    with open(path + ".pub", "w") as f:
        f.write(f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{blob} {name}\n")


# -- start / stop ------------------------------------------------------------------------------

def ignition_units(record):
    with open(record["ignition"]) as f:
        return json.load(f)


def has_ready_unit(config):
    for unit in config.get("systemd", {}).get("units", []) or []:
        contents = unit.get("contents") or ""
        if unit.get("enabled") and "vport1p1" in contents and "Ready" in contents:
            return True
    return False


def start_machine(st, name):
    section = podman_section(st)
    record = section["machines"].get(name)
    if record is None:
        raise not_exist(name)
    for other, other_record in section["machines"].items():
        if other_record.get("running"):
            if other == name:
                raise Exit(125, f"Error: cannot start VM {name}: VM already running or starting")
            raise Exit(125, f"Error: cannot start VM {name}. VM {other} is currently running or "
                            "starting: only one VM can be active at a time")
    print(f'Starting machine "{name}"')
    if should_fail(st.data, "podman", "start"):
        print("Waiting for VM ...")
        raise Exit(125, "Error: qemu exited unexpectedly with exit code 1, stderr: "
                        "qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: "
                        "No such file or directory")
    config = None
    if record.get("ignition"):
        try:
            config = ignition_units(record)
        except ValueError as e:
            raise Exit(125, f"Error: the VM did not boot: Ignition failed to parse the config "
                            f"handed over with --ignition-path: {e}")
    sandbox.start(name)
    print("Waiting for VM ...")
    if config is not None and not record.get("first_boot_done"):
        sandbox.apply_ignition(name, json.dumps(config))
        record["first_boot_done"] = True
    if config is not None and not has_ready_unit(config):
        sandbox.stop(name)
        raise Exit(125, "Error: fake podman: the VM never reported ready: the Ignition config "
                        "handed over with --ignition-path has no enabled unit writing \"Ready\" "
                        "to /dev/vport1p1 (real podman 4.3 waits at \"Waiting for VM ...\" "
                        "forever)")
    record["running"] = True
    record["last_up"] = now_rfc3339()
    print(f"API forwarding listening on: /run/user/1000/podman/{name}-api.sock")
    print(f'Machine "{name}" started successfully')


def cmd_start(args):
    options, names = parse_flags(args, {"--no-info": ("no_info", "bool"),
                                        "--quiet": ("quiet", "bool"), "-q": ("quiet", "bool")},
                                 usage_error=usage_error("machine start"))
    if len(names) > 1:
        raise Exit(125, f"Error: accepts at most 1 arg(s), received {len(names)}")
    name = names[0] if names else DEFAULT_MACHINE
    with State() as st:
        start_machine(st, name)
    print()
    return 0


def cmd_stop(args):
    _, names = parse_flags(args, {}, usage_error=usage_error("machine stop"))
    if len(names) > 1:
        raise Exit(125, f"Error: accepts at most 1 arg(s), received {len(names)}")
    name = names[0] if names else DEFAULT_MACHINE
    with State() as st:
        record = machines(st).get(name)
        if record is None:
            raise not_exist(name)
        if should_fail(st.data, "podman", "stop"):
            raise Exit(125, f"Error: dial unix /run/user/1000/podman/qmp_{name}.sock: connect: "
                            "connection refused")
        if record.get("running"):
            sandbox.stop(name)
            record["running"] = False
            record["last_up"] = now_rfc3339()
            print("Waiting for VM to exit...")
        print(f'Machine "{name}" stopped successfully')
    return 0


# -- rm / set ----------------------------------------------------------------------------------

def cmd_rm(args):
    options, names = parse_flags(args, {
        "--force": ("force", "bool"), "-f": ("force", "bool"),
        "--save-ignition": ("save_ignition", "bool"), "--save-image": ("save_image", "bool"),
        "--save-keys": ("save_keys", "bool")}, usage_error=usage_error("machine rm"))
    if len(names) > 1:
        raise Exit(125, f"Error: accepts at most 1 arg(s), received {len(names)}")
    name = names[0] if names else DEFAULT_MACHINE
    with State() as st:
        section = podman_section(st)
        record = section["machines"].get(name)
        if record is None:
            raise not_exist(name)
        if should_fail(st.data, "podman", "rm"):
            raise Exit(125, f"Error: remove {data_dir()}/{name}_{IMAGE_FILE}: "
                            "device or resource busy")
        if record.get("running") and not options.get("force"):
            raise Exit(125, f'Error: running vm "{name}" cannot be destroyed')
        files = [identity_path(name), identity_path(name) + ".pub",
                 os.path.join(config_dir(), name + ".ign"),
                 os.path.join(data_dir(), f"{name}_{IMAGE_FILE}"),
                 os.path.join(data_dir(), "podman.sock"),
                 os.path.join(config_dir(), name + ".json")]
        if not options.get("force"):
            sys.stdout.write("\nThe following files will be deleted:\n\n" + "\n".join(files)
                             + "\n\nAre you sure you want to continue? [y/N] ")
            sys.stdout.flush()
            answer = sys.stdin.readline().strip().lower()
            if answer not in ("y", "yes"):
                return 0
        sandbox.remove(name)
        for connection in (name, name + "-root"):
            section["connections"].pop(connection, None)
            if section["default_connection"] == connection:
                section["default_connection"] = next(iter(sorted(section["connections"])), "")
        if not options.get("save_keys"):
            for path in (identity_path(name), identity_path(name) + ".pub"):
                if os.path.exists(path):
                    os.remove(path)
        if record.get("ignition") and not options.get("save_ignition"):
            try:
                os.remove(record["ignition"])
            except FileNotFoundError:
                pass
        del section["machines"][name]
    return 0


SET_FLAGS = {"--cpus": ("cpus", "value"), "--disk-size": ("disk", "value"),
             "--memory": ("memory", "value"), "-m": ("memory", "value"),
             "--rootful": ("rootful", "bool")}


def cmd_set(args):
    options, names = parse_flags(args, SET_FLAGS, usage_error=usage_error("machine set"))
    if len(names) > 1:
        raise Exit(125, f"Error: accepts at most 1 arg(s), received {len(names)}")
    name = names[0] if names else DEFAULT_MACHINE
    cpus = uint_flag(options, "cpus", "--cpus", None)
    memory = uint_flag(options, "memory", "--memory", None)
    disk = uint_flag(options, "disk", "--disk-size", None)
    with State() as st:
        record = machines(st).get(name)
        if record is None:
            raise not_exist(name)
        if record.get("running"):
            suffix = "" if name == DEFAULT_MACHINE else " " + name
            raise Exit(125, "Error: cannot change settings while the vm is running, run "
                            f"'podman machine stop{suffix}' first")
        if should_fail(st.data, "podman", "set"):
            raise Exit(125, f"Error: open {config_dir()}/{name}.json: permission denied")
        if "rootful" in options:
            record["rootful"] = options["rootful"]
        if cpus is not None:
            record["cpus"] = cpus
        if memory is not None:
            record["memory"] = memory
        if disk is not None and disk != record["disk"]:
            if disk < record["disk"]:
                raise Exit(125, "Error: failed to resize disk: new disk size must be larger "
                                f"than current disk size: {record['disk']}GB")
            record["disk"] = disk
    return 0


# -- inspect / list ----------------------------------------------------------------------------

def inspect_info(record):
    name = record["name"]
    return {
        "ConfigPath": {"Path": os.path.join(config_dir(), name + ".json")},
        "ConnectionInfo": {"PodmanSocket": {"Path": os.path.join(data_dir(), "podman.sock")}},
        "Created": go_time(record["created"]),
        "Image": {
            # Where podman keeps its copy of the Ignition (the fake's copy is in the state dir).
            "IgnitionFilePath": {"Path": record.get("ignition")
                                 or os.path.join(config_dir(), name + ".ign")},
            "ImageStream": record["image_stream"],
            "ImagePath": {"Path": os.path.join(data_dir(), f"{name}_{IMAGE_FILE}")},
        },
        "LastUp": go_time(record["last_up"] or record["created"]),
        "Name": name,
        "Resources": {"CPUs": record["cpus"], "DiskSize": record["disk"],
                      "Memory": record["memory"]},
        "SSHConfig": {"IdentityPath": identity_path(name), "Port": record["port"],
                      "RemoteUsername": record["username"]},
        "State": "running" if record.get("running") else "",
    }


def pretty_json(value):
    return json.dumps(value, indent=4, ensure_ascii=False)


def cmd_inspect(args):
    options, names = parse_flags(args, {"--format": ("format", "value")},
                                 usage_error=usage_error("machine inspect"))
    names = names or [DEFAULT_MACHINE]
    data = read_state()
    records = data.get("podman", {}).get("machines", {})
    if should_fail(data, "podman", "inspect"):
        raise Exit(125, "Error: unexpected end of JSON input")
    found, errors = [], []
    for name in names:
        if name in records:
            found.append(inspect_info(records[name]))
        else:
            errors.append(f"Error: {name}: VM does not exist")
    fmt = options.get("format", "json")
    if fmt == "json":
        print(pretty_json(found))
    else:
        for info in found:
            print(render_template(fmt, info))
    if errors:
        raise Exit(125, "\n".join(errors))
    return 0


def cmd_list(args):
    options, rest = parse_flags(args, {
        "--format": ("format", "value"), "--noheading": ("noheading", "bool"),
        "-n": ("noheading", "bool"), "--quiet": ("quiet", "bool"), "-q": ("quiet", "bool")},
        usage_error=usage_error("machine list"))
    if rest:
        raise Exit(125, "Error: `podman machine list` takes no arguments")
    data = read_state()
    section = data.get("podman", {})
    records = [section["machines"][n] for n in sorted(section.get("machines", {}))]
    default = section.get("default_connection", "")
    fmt = options.get("format", "")
    if fmt == "json":
        print(pretty_json([{
            "Name": r["name"], "Default": r["name"] == default, "Created": r["created"],
            "Running": bool(r.get("running")), "Starting": False,
            "LastUp": r["last_up"] or r["created"], "Stream": r["image_stream"],
            "VMType": "qemu", "CPUs": r["cpus"], "Memory": str(r["memory"] * 1024 * 1024),
            "DiskSize": str(r["disk"] * 1024 ** 3), "Port": r["port"],
            "RemoteUsername": r["username"], "IdentityPath": identity_path(r["name"]),
        } for r in records]))
        return 0
    rows = []
    for r in records:
        rows.append({
            "Name": r["name"] + ("*" if r["name"] == default else ""),
            "Default": r["name"] == default, "Created": human_ago(r["created"]),
            "Running": bool(r.get("running")), "Starting": False,
            "LastUp": "Currently running" if r.get("running") else human_ago(r["last_up"]),
            "Stream": r["image_stream"], "VMType": "qemu", "CPUs": r["cpus"],
            "Memory": human_size(r["memory"] * 1024 * 1024),
            "DiskSize": human_size(r["disk"] * 1024 ** 3), "Port": r["port"],
            "RemoteUsername": r["username"], "IdentityPath": identity_path(r["name"]),
        })
    if options.get("quiet"):
        for row in rows:
            print(row["Name"].rstrip("*"))
        return 0
    if fmt and not fmt.startswith("table"):
        for row in rows:
            print(render_template(fmt, row))
        return 0
    columns = [("NAME", "Name"), ("VM TYPE", "VMType"), ("CREATED", "Created"),
               ("LAST UP", "LastUp"), ("CPUS", "CPUs"), ("MEMORY", "Memory"),
               ("DISK SIZE", "DiskSize")]
    if fmt.startswith("table "):
        # `table {{.Name}}\t{{.Running}}`: the listed fields, headed by podman's titles.
        titles = dict((key, title) for title, key in columns)
        fields = re.findall(r"{{\s*\.(\w+)\s*}}", fmt)
        columns = [(titles.get(key, key.upper()), key) for key in fields]
    table = [[go_str(row[key]) for _, key in columns] for row in rows]
    if not options.get("noheading"):
        table.insert(0, [title for title, _ in columns])
    widths = [max([len(line[i]) for line in table] + [0]) for i in range(len(columns))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    return 0


# -- ssh ---------------------------------------------------------------------------------------

def cmd_ssh(args):
    options, rest = parse_flags(args, {"--username": ("username", "value")},
                                allow_interspersed=False, usage_error=usage_error("machine ssh"))
    data = read_state()
    records = data.get("podman", {}).get("machines", {})
    name, command = DEFAULT_MACHINE, list(rest)
    if rest and rest[0] in records:
        name, command = rest[0], rest[1:]
    record = records.get(name)
    if record is None:
        raise not_exist(name)
    if not record.get("running"):
        raise Exit(125, f'Error: vm "{name}" is not running')
    if should_fail(data, "podman", "ssh"):
        raise Exit(255, f"ssh: connect to host localhost port {record['port']}: "
                        "Connection refused")
    user = options.get("username") or record["username"]
    if record.get("ignition"):
        check_ssh_key(record, name, user)
    unreachable = f"ssh: connect to host localhost port {record['port']}: Connection refused"
    # ssh parses options after the destination too; a leading `--` only ends them.
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        sandbox.exec_command(name, [], unreachable)
    # ssh joins the words with spaces and the remote login shell parses the result.
    sandbox.shell_command(name, " ".join(command), unreachable)
    return 0


def check_ssh_key(record, name, user):
    identity = identity_path(name)
    try:
        with open(identity + ".pub") as f:
            public = " ".join(f.read().split()[:2])
    except OSError:
        raise Exit(255, f"Warning: Identity file {identity} not accessible: No such file or "
                        f"directory.\n{user}@localhost: Permission denied (publickey).")
    config = ignition_units(record)
    for entry in config.get("passwd", {}).get("users", []) or []:
        if entry.get("name") == user:
            keys = [" ".join((k or "").split()[:2]) for k in entry.get("sshAuthorizedKeys", [])]
            if public in keys:
                return
    raise Exit(255, f"{user}@localhost: Permission denied (publickey).")


# -- system connection -------------------------------------------------------------------------

def cmd_connection(args):
    if not args:
        raise Exit(125, "Error: missing command 'podman system connection COMMAND'")
    sub, rest = args[0], args[1:]
    if sub == "default":
        if len(rest) != 1:
            raise Exit(125, f"Error: accepts 1 arg(s), received {len(rest)}")
        with State() as st:
            section = podman_section(st)
            if rest[0] not in section["connections"]:
                raise Exit(125, f'Error: "{rest[0]}" destination is not defined. See "podman '
                                'system connection add ..." to create a connection')
            section["default_connection"] = rest[0]
        return 0
    if sub in ("remove", "rm"):
        with State() as st:
            section = podman_section(st)
            for name in rest:
                section["connections"].pop(name, None)
                if section["default_connection"] == name:
                    section["default_connection"] = ""
        return 0
    if sub in ("list", "ls"):
        options, _ = parse_flags(rest, {"--format": ("format", "value"),
                                        "-f": ("format", "value")},
                                 usage_error=usage_error("system connection list"))
        section = read_state().get("podman", {})
        default = section.get("default_connection", "")
        rows = [{"Name": n, "URI": uri, "Identity": identity_path(n.removesuffix("-root")),
                 "Default": n == default}
                for n, uri in sorted(section.get("connections", {}).items())]
        if options.get("format") == "json":
            print(pretty_json(rows))
        elif options.get("format"):
            for row in rows:
                print(render_template(options["format"], row))
        else:
            print("Name  URI  Identity  Default")
            for row in rows:
                print(f"{row['Name']}  {row['URI']}  {row['Identity']}  "
                      f"{go_str(row['Default'])}")
        return 0
    raise Exit(125, f"Error: unrecognized command `podman system connection {sub}`\n"
                    "Try 'podman system connection --help' for more information")


MACHINE_COMMANDS = {"init": cmd_init, "start": cmd_start, "stop": cmd_stop, "rm": cmd_rm,
                    "set": cmd_set, "inspect": cmd_inspect, "list": cmd_list, "ls": cmd_list,
                    "ssh": cmd_ssh}


def main(args):
    if args[:1] == ["machine"]:
        if len(args) < 2:
            raise Exit(125, "Error: missing command 'podman machine COMMAND'")
        handler = MACHINE_COMMANDS.get(args[1])
        if handler is None:
            raise Exit(125, f"Error: unrecognized command `podman machine {args[1]}`\n"
                            "Try 'podman machine --help' for more information")
        return handler(args[2:])
    if args[:2] == ["system", "connection"]:
        return cmd_connection(args[2:])
    real = find_real_binary("podman")
    if real is None:
        if args in (["--version"], ["-v"]):
            print("podman version 4.3.1")
            return 0
        raise Exit(127, "fake podman: the real podman is not installed; only `podman machine` "
                        "and `podman system connection` are emulated")
    sys.stdout.flush()
    os.execv(real, [real, *args])
