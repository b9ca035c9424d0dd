"""The `docker` 24.0.7 CLI of Docker Desktop or OrbStack ("backend" in state.json, default
$FAKE_DOCKER_BACKEND or docker-desktop). `--version`, `version`, `info` and `context` are answered
here; container commands go to the real podman (so containers are real) while the engine runs.
The engine is down when state.json's docker.running is false (OrbStack's `orb stop`) or when
"docker:daemon" is injected: then every engine command prints docker's "Cannot connect" error —
except `info --format …`, which prints the formatted (empty) info with ServerErrors and still
exits 0, as docker 24 does."""
import json
import os
import sys

from . import sandbox
from .common import (REPO_DIR, Exit, State, find_real_binary, go_json_compact, render_template,
                     should_fail)

CLIENT_VERSION = "24.0.7"
BUILD = "afdd53b"
SOCKET = {"docker-desktop": "unix:///var/run/docker.sock",
          "orbstack": "unix:///var/run/docker.sock"}
DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. " \
       "Is the docker daemon running?"


def docker_section(st):
    section = st.section("docker", {})
    section.setdefault("running", True)
    section.setdefault("backend", os.environ.get("FAKE_DOCKER_BACKEND", "docker-desktop"))
    section.setdefault("context", "default")
    return section


def snapshot():
    with State() as st:
        section = dict(docker_section(st))
        section["up"] = section["running"] and not should_fail(st.data, "docker", "daemon")
        return section


def contexts(section):
    desktop = "orbstack" if section["backend"] == "orbstack" else "desktop-linux"
    return [
        {"Name": "default", "Description": "Current DOCKER_HOST based configuration",
         "DockerEndpoint": "unix:///var/run/docker.sock", "KubernetesEndpoint": "",
         "ContextType": "moby", "StackOrchestrator": "swarm"},
        {"Name": desktop, "Description": "OrbStack" if desktop == "orbstack" else "Docker Desktop",
         "DockerEndpoint": f"unix:///root/.{desktop}/docker.sock" if desktop == "orbstack"
         else "unix:///root/.docker/run/docker.sock", "KubernetesEndpoint": "",
         "ContextType": "moby", "StackOrchestrator": ""},
    ]


def info_document(section):
    orbstack = section["backend"] == "orbstack"
    client = {"Debug": False, "Version": CLIENT_VERSION, "GitCommit": BUILD,
              "Context": section["context"], "Plugins": [], "Warnings": None}
    if not section["up"]:
        return {"ID": "", "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0,
                "ContainersStopped": 0, "Images": 0, "Driver": "", "NCPU": 0, "MemTotal": 0,
                "Name": "", "ServerVersion": "", "OperatingSystem": "", "OSType": "",
                "Architecture": "", "KernelVersion": "", "Labels": None,
                "ClientInfo": client, "ServerErrors": [DOWN]}
    return {"ID": "b9f4c1e2-0e9d-4a57-9a3b-devxfakedocker", "Containers": 0,
            "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 0, "Images": 0,
            "Driver": "overlay2", "NCPU": 4, "MemTotal": 8217473024,
            "Name": "orbstack" if orbstack else "docker-desktop", "ServerVersion": CLIENT_VERSION,
            "OperatingSystem": "OrbStack" if orbstack else "Docker Desktop", "OSType": "linux",
            "Architecture": "x86_64",
            "KernelVersion": "6.5.13-orbstack-00122-g57b8027e2387" if orbstack
            else "6.4.16-linuxkit", "DockerRootDir": "/var/lib/docker",
            "Labels": ["com.docker.desktop.address=unix:///root/.docker/run/docker-cli-api.sock"]
            if not orbstack else [], "ClientInfo": client, "Warnings": None}


def cmd_info(args):
    fmt = None
    if args[:1] in (["--format"], ["-f"]) and len(args) > 1:
        fmt = args[1]
    elif args and args[0].startswith("--format="):
        fmt = args[0].split("=", 1)[1]
    section = snapshot()
    doc = info_document(section)
    if fmt:
        if fmt == "json":
            print(go_json_compact(doc))
        else:
            print(render_template(fmt, doc))
        return 0
    print(f"Client:\n Version:    {CLIENT_VERSION}\n Context:    {section['context']}\n"
          " Debug Mode: false\n\nServer:")
    if not section["up"]:
        sys.stdout.flush()
        raise Exit(1, f"ERROR: {DOWN}\nerrors pretty printing info")
    print(f" Containers: 0\n  Running: 0\n  Paused: 0\n  Stopped: 0\n Images: 0\n"
          f" Server Version: {CLIENT_VERSION}\n Storage Driver: overlay2\n"
          f" Operating System: {doc['OperatingSystem']}\n OSType: linux\n"
          f" Architecture: x86_64\n CPUs: 4\n Total Memory: 7.653GiB\n Name: {doc['Name']}")
    return 0


def cmd_version(args):
    section = snapshot()
    client = {"Platform": {"Name": ""}, "Version": CLIENT_VERSION, "ApiVersion": "1.43",
              "DefaultAPIVersion": "1.43", "GitCommit": BUILD, "GoVersion": "go1.20.10",
              "Os": "linux", "Arch": "amd64", "BuildTime": "Thu Oct 26 09:08:17 2023",
              "Context": section["context"]}
    server = None
    if section["up"]:
        server = {"Platform": {"Name": "Docker Desktop 4.26.1 (131620)"
                               if section["backend"] != "orbstack" else "OrbStack"},
                  "Version": CLIENT_VERSION, "ApiVersion": "1.43", "MinAPIVersion": "1.12",
                  "Os": "linux", "Arch": "amd64", "GitCommit": "311b9ff"}
    doc = {"Client": client, "Server": server}
    fmt = args[1] if args[:1] in (["--format"], ["-f"]) and len(args) > 1 else None
    if fmt:
        print(go_json_compact(doc) if fmt == "json" else render_template(fmt, doc))
    else:
        print(f"Client:\n Version:           {CLIENT_VERSION}\n API version:       1.43\n"
              f" Git commit:        {BUILD}\n OS/Arch:           linux/amd64\n"
              f" Context:           {section['context']}")
        if server:
            print(f"\nServer: {server['Platform']['Name']}\n Engine:\n"
                  f"  Version:          {CLIENT_VERSION}\n  API version:      1.43 "
                  "(minimum version 1.12)")
    if not section["up"]:
        sys.stdout.flush()
        raise Exit(1, DOWN)
    return 0


def cmd_context(args):
    sub = args[0] if args else "ls"
    with State() as st:
        section = docker_section(st)
        known = contexts(section)
        if sub in ("ls", "list"):
            fmt = args[2] if args[1:2] in (["--format"], ["-f"]) and len(args) > 2 else None
            for ctx in known:
                row = dict(ctx, Current=ctx["Name"] == section["context"])
                if fmt == "json":
                    print(go_json_compact(row))
                elif fmt:
                    print(render_template(fmt, row))
            if not fmt:
                print("NAME            DESCRIPTION                               DOCKER ENDPOINT")
                for ctx in known:
                    star = " *" if ctx["Name"] == section["context"] else ""
                    print(f"{ctx['Name'] + star:<16}{ctx['Description']:<42}"
                          f"{ctx['DockerEndpoint']}")
            return 0
        if sub == "show":
            print(section["context"])
            return 0
        if sub == "use":
            if len(args) != 2:
                raise Exit(1, '"docker context use" requires exactly 1 argument.')
            if args[1] not in [c["Name"] for c in known]:
                raise Exit(1, f'context "{args[1]}" does not exist')
            section["context"] = args[1]
            print(args[1])
            sys.stderr.write(f'Current context is now "{args[1]}"\n')
            return 0
        if sub == "inspect":
            names = args[1:] or [section["context"]]
            found = [c for c in known if c["Name"] in names]
            print(json.dumps([{"Name": c["Name"], "Metadata": {"Description": c["Description"]},
                               "Endpoints": {"docker": {"Host": c["DockerEndpoint"],
                                                        "SkipTLSVerify": False}}}
                              for c in found], indent=4))
            missing = [n for n in names if n not in [c["Name"] for c in known]]
            if missing:
                raise Exit(1, f'context "{missing[0]}": context not found: '
                              f'open /root/.docker/contexts/meta/x/meta.json: no such file '
                              'or directory')
            return 0
    raise Exit(1, f'docker: \'context {sub}\' is not a docker command.\n'
                  "See 'docker --help'")


RUN_VALUE_FLAGS = {"--name", "-e", "--env", "-v", "--volume", "-w", "--workdir", "-u", "--user",
                   "--entrypoint", "--network", "--platform", "-p", "--publish", "--label", "-l"}


def enter_engine_vm(section, run_args):
    """`docker run … --pid=host IMAGE nsenter -t 1 … CMD`: the way into Docker Desktop's (or
    OrbStack's) VM. Passing it to the host's podman would enter the test machine's own PID 1, so
    the command runs in the engine VM's sandbox instead; other host-PID containers are refused."""
    i = 0
    while i < len(run_args) and run_args[i].startswith("-"):
        flag = run_args[i]
        i += 2 if flag in RUN_VALUE_FLAGS else 1
    image, rest = (run_args[i], run_args[i + 1:]) if i < len(run_args) else ("", [])
    if rest[:3] != ["nsenter", "-t", "1"]:
        raise Exit(125, "fake docker: refusing a --pid=host container that does not nsenter "
                        "into PID 1 (it would run against the test machine)")
    j = 3
    while j < len(rest) and rest[j] in ("-m", "-u", "-n", "-i", "-p", "-U", "-C", "--"):
        j += 1
    vm_name = section["backend"]
    with State() as st:
        engine = docker_section(st)
        if not engine.get("vm_sandbox"):
            sandbox.create(vm_name, hostname=vm_name)
            sandbox.start(vm_name)
            engine["vm_sandbox"] = True
    sandbox.exec_command(vm_name, rest[j:] or ["sh"], DOWN)
    return 0


def main(args):
    if args in (["--version"], ["-v"]):
        print(f"Docker version {CLIENT_VERSION}, build {BUILD}")
        return 0
    if not args:
        print("Usage:  docker [OPTIONS] COMMAND")
        return 0
    command = args[0]
    if command == "info" or args[:2] == ["system", "info"]:
        return cmd_info(args[1:] if command == "info" else args[2:])
    if command == "version":
        return cmd_version(args[1:])
    if command == "context":
        return cmd_context(args[1:])
    section = snapshot()
    if not section["up"]:
        raise Exit(1, DOWN)
    if command == "run" and "--pid=host" in args:
        return enter_engine_vm(section, args[1:])
    real = find_real_binary("podman")
    if real is None:
        raise Exit(1, DOWN)
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", os.path.join(REPO_DIR, "tests", "images", "containers.conf"))
    sys.stdout.flush()
    os.execve(real, [real, *args], env)
