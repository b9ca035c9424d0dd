"""`orb` / `orbctl` (OrbStack 1.2): the app (status/start/stop) and its Linux machines
(list/create/delete/default), and running commands in a machine: `orb CMD…`, `orb sh`,
`orb -m NAME CMD…`, `orb run [-m NAME] CMD…`. A word orb does not know as a subcommand is the
command to run in the default machine (so `orb sudo sh -c X` runs `sudo sh -c X` there).
Commands that need the app start it first, as orb does; stopping the app stops its machines and
the docker engine it provides."""
import json

from . import sandbox
from .common import Exit, State, now_rfc3339, read_state, should_fail

VERSION = "1.2.0 (1020000)"
COMMIT = "8a8b4b5e9d2f0c7c2fdc1e6d1b3f0f6a5c4d3e2b (v1.2.0)"


def orb_section(st):
    section = st.section("orb", {})
    section.setdefault("running", True)
    section.setdefault("machines", {})
    section.setdefault("default_machine", "")
    return section


def start_app(st, section):
    if section["running"]:
        return
    if should_fail(st.data, "orb", "start"):
        raise Exit(1, "Failed to start OrbStack: the virtual machine failed to start "
                      "(timed out waiting for the VM to boot)")
    section["running"] = True
    docker = st.data.get("docker")
    if docker is not None and docker.get("backend") == "orbstack":
        docker["running"] = True


def stop_app(st, section):
    for name, machine in section["machines"].items():
        if machine["state"] == "running":
            sandbox.stop(name)
            machine["state"] = "stopped"
    section["running"] = False
    docker = st.data.get("docker")
    if docker is not None and docker.get("backend") == "orbstack":
        docker["running"] = False


def machine_or_fail(section, name):
    machine = section["machines"].get(name)
    if machine is None:
        raise Exit(1, f"machine not found: {name}")
    return machine


def cmd_status(_args):
    section = read_state().get("orb", {})
    running = section.get("running", True)
    print("Running" if running else "Stopped")
    return 0 if running else 1


def cmd_start(args):
    with State() as st:
        section = orb_section(st)
        start_app(st, section)
        for name in args:
            machine = machine_or_fail(section, name)
            if machine["state"] != "running":
                sandbox.start(name)
                machine["state"] = "running"
    return 0


def cmd_stop(args):
    with State() as st:
        section = orb_section(st)
        if not args:
            if should_fail(st.data, "orb", "stop"):
                raise Exit(1, "Failed to stop OrbStack: operation timed out")
            stop_app(st, section)
            return 0
        for name in args:
            machine = machine_or_fail(section, name)
            if machine["state"] == "running":
                sandbox.stop(name)
                machine["state"] = "stopped"
    return 0


def cmd_list(args):
    as_json = any(a in ("json", "--format=json", "-f=json") for a in args)
    quiet = "-q" in args or "--quiet" in args
    with State() as st:
        section = orb_section(st)
        start_app(st, section)
        machines = [section["machines"][n] for n in sorted(section["machines"])]
    if as_json:
        print(json.dumps([{"name": m["name"], "state": m["state"], "image": {
            "distro": m["distro"], "version": m["version"], "arch": "amd64"}}
            for m in machines], indent=2))
        return 0
    for m in machines:
        print(m["name"] if quiet else f"{m['name']}  {m['state']}  {m['distro']}  "
                                      f"{m['version']}  amd64")
    return 0


def cmd_create(args):
    words = [a for a in args if not a.startswith("-")]
    if not words:
        raise Exit(1, "Error: requires at least 1 arg(s), only received 0")
    distro, _, version = words[0].partition(":")
    name = words[1] if len(words) > 1 else distro
    with State() as st:
        section = orb_section(st)
        start_app(st, section)
        if name in section["machines"]:
            raise Exit(1, f"machine already exists: {name}")
        if should_fail(st.data, "orb", "create"):
            raise Exit(1, f"create machine {name}: download image: connection reset by peer")
        section["machines"][name] = {"name": name, "distro": distro,
                                     "version": version or "noble", "state": "running",
                                     "created": now_rfc3339()}
        if not section["default_machine"]:
            section["default_machine"] = name
        sandbox.create(name, hostname=name)
        sandbox.start(name)
    return 0


def cmd_delete(args):
    names = [a for a in args if not a.startswith("-")]
    with State() as st:
        section = orb_section(st)
        for name in names:
            machine_or_fail(section, name)
            sandbox.remove(name)
            del section["machines"][name]
            if section["default_machine"] == name:
                section["default_machine"] = next(iter(sorted(section["machines"])), "")
    return 0


def cmd_default(args):
    with State() as st:
        section = orb_section(st)
        if not args:
            print(section["default_machine"])
            return 0
        machine_or_fail(section, args[0])
        section["default_machine"] = args[0]
    return 0


def run_in_machine(machine_name, command):
    with State() as st:
        section = orb_section(st)
        start_app(st, section)
        name = machine_name or section["default_machine"]
        if not name:
            raise Exit(1, "No machines found. Create one with: orb create ubuntu")
        machine = machine_or_fail(section, name)
        if machine["state"] != "running":
            sandbox.start(name)
            machine["state"] = "running"
        if should_fail(st.data, "orb", "run"):
            raise Exit(1, f"machine {name}: connection refused")
    sandbox.exec_command(name, command, f"machine {name} is not reachable")
    return 0


def cmd_run(args):
    machine, i = "", 0
    while i < len(args) and args[i].startswith("-"):
        flag = args[i]
        if flag in ("-m", "--machine"):
            machine, i = args[i + 1], i + 2
        elif flag.startswith("--machine="):
            machine, i = flag.split("=", 1)[1], i + 1
        elif flag in ("-u", "--user", "-w", "--workdir"):
            i += 2  # every machine user is root in the sandbox
        elif flag == "--":
            i += 1
            break
        else:
            raise Exit(1, f"Error: unknown shorthand flag: '{flag.lstrip('-')[:1]}' in {flag}")
    return run_in_machine(machine, args[i:])


def cmd_version(_args):
    print(f"Version: {VERSION}\nCommit: {COMMIT}")
    return 0


COMMANDS = {"status": cmd_status, "start": cmd_start, "stop": cmd_stop, "list": cmd_list,
            "ls": cmd_list, "create": cmd_create, "delete": cmd_delete, "rm": cmd_delete,
            "default": cmd_default, "run": cmd_run, "version": cmd_version,
            "shell": cmd_run}


def main(args):
    if args in (["--version"], ["-v"]):
        return cmd_version(args)
    if not args or args[0].startswith("-"):
        return cmd_run(args)
    handler = COMMANDS.get(args[0])
    if handler is not None:
        return handler(args[1:])
    return run_in_machine("", args)
