"""Helpers for pytest suites that drive the fake VM tools (tests/e2e/test_fakes_vm.py,
tests/e2e/test_cli_vm.py): a private environment per test, the argv log, sandbox checks and
cleanup of the sandbox containers a test created."""
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .common import FAKES_DIR, REPO_DIR

CONTAINERS_CONF = os.path.join(REPO_DIR, "tests", "images", "containers.conf")
ALL_TOOLS = ("podman", "limactl", "colima", "orb", "orbctl", "docker", "cloudflared")
_sandbox_status = None


def real_podman():
    fakes = os.path.realpath(FAKES_DIR)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, "podman")
        if directory and os.path.realpath(directory) != fakes and os.access(candidate, os.X_OK):
            return candidate
    return None


def sandbox_unavailable_reason():
    """None when VM sandboxes (real podman containers from the busybox image) work here."""
    global _sandbox_status
    if _sandbox_status is not None:
        return _sandbox_status or None
    podman = real_podman()
    env = dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF", CONTAINERS_CONF))
    reason = ""
    if podman is None:
        reason = "podman is not installed (VM sandboxes are podman containers)"
    else:
        build = subprocess.run([os.path.join(REPO_DIR, "tests", "images", "build-busybox.sh")],
                               capture_output=True, text=True, env=env)
        if build.returncode != 0:
            reason = "cannot build the busybox test image: " + build.stderr.strip()[-300:]
        else:
            probe = subprocess.run([podman, "run", "--rm", "localhost/devx-test/busybox:latest",
                                    "true"], capture_output=True, text=True, env=env)
            if probe.returncode != 0:
                reason = "podman cannot run containers here: " + probe.stderr.strip()[-300:]
    _sandbox_status = reason
    return reason or None


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)

    def json_lines(self):
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@dataclass
class FakeVmEnv:
    root: Path
    tools: tuple = ALL_TOOLS
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.state = self.root / "fake-state"
        self.log = self.root / "fake-argv.log"
        self.home = self.root / "home"
        self.bin = self.root / "bin"
        self.prefix = f"fakevm-t{uuid.uuid4().hex[:8]}-"
        for directory in (self.state, self.home, self.bin):
            directory.mkdir(parents=True, exist_ok=True)
        self.set_tools(self.tools)

    def set_tools(self, tools):
        """Exactly these fakes are on PATH (in front of the real PATH, minus tests/fakes)."""
        for entry in self.bin.iterdir():
            entry.unlink()
        for tool in tools:
            (self.bin / tool).symlink_to(os.path.join(FAKES_DIR, tool))
        self.tools = tuple(tools)

    def env(self, **overrides):
        fakes = os.path.realpath(FAKES_DIR)
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
                if p and os.path.realpath(p) != fakes]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("FAKE_") and k not in ("DEVX_HOME", "NO_COLOR")}
        env.update({
            "PATH": os.pathsep.join([str(self.bin), *path]),
            "FAKE_VM_STATE": str(self.state), "FAKE_LOG": str(self.log), "HOME": str(self.home),
            "FAKE_VM_CONTAINER_PREFIX": self.prefix,
            "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", CONTAINERS_CONF),
        })
        env.update(self.extra)
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    def run(self, *argv, stdin=None, timeout=60, **env_overrides):
        proc = subprocess.run([str(a) for a in argv], input=stdin, capture_output=True, text=True,
                              env=self.env(**env_overrides), timeout=timeout)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def calls(self, tool=None):
        """The argv log as lists ([tool, arg…]), optionally of one tool."""
        if not self.log.exists():
            return []
        entries = [json.loads(line) for line in self.log.read_text().splitlines() if line]
        return [e for e in entries if tool is None or e[0] == tool]

    def clear_calls(self):
        if self.log.exists():
            self.log.unlink()

    def state_data(self):
        path = self.state / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def write_state(self, data):
        (self.state / "state.json").write_text(json.dumps(data))

    def container(self, vm_name):
        return self.prefix + vm_name

    def container_exec(self, vm_name, *command):
        podman = real_podman()
        proc = subprocess.run([podman, "exec", self.container(vm_name), *command],
                              capture_output=True, text=True, env=self.env())
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def container_state(self, vm_name):
        """"running", "exited"/"created"/…, or None when the container does not exist."""
        podman = real_podman()
        if podman is None:
            return None
        proc = subprocess.run([podman, "inspect", "--format", "{{.State.Status}}",
                               self.container(vm_name)], capture_output=True, text=True,
                              env=self.env())
        return proc.stdout.strip() if proc.returncode == 0 else None

    def cleanup(self):
        podman = real_podman()
        if podman is None:
            return
        env = self.env()
        ids = subprocess.run([podman, "ps", "-aq", "--filter",
                              f"label=devx-test.fakevm={self.state}"],
                             capture_output=True, text=True, env=env).stdout.split()
        if ids:
            subprocess.run([podman, "rm", "-f", "-t", "0", *ids], capture_output=True, env=env)


def which_real(tool):
    fakes = os.path.realpath(FAKES_DIR)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and os.path.realpath(p) != fakes)
    return shutil.which(tool, path=path)


def seed_vm_containers(env, vm_name, containers):
    """Makes the container engine inside a fake VM report `containers` (dicts with "id", "name"
    and "labels") from `ps`, in podman's and docker's formats."""
    podman_json = json.dumps([{"Id": c["id"], "Names": [c["name"]], "Labels": c.get("labels", {}),
                               "State": "running", "Image": "localhost/devx-test/busybox:latest"}
                              for c in containers])
    docker_lines = "".join(json.dumps({
        "ID": c["id"][:12], "Names": c["name"], "State": "running",
        "Labels": ",".join(f"{k}={v}" for k, v in c.get("labels", {}).items()),
        "Image": "localhost/devx-test/busybox:latest"}) + "\n" for c in containers)
    ids = "".join(c["id"][:12] + "\n" for c in containers)
    script = ("mkdir -p /var/lib/fake-engine && cd /var/lib/fake-engine && "
              "printf '%s' \"$1\" > ps.json && printf '%s' \"$2\" > ps.jsonl && "
              "printf '%s' \"$3\" > ps.ids")
    return env.container_exec(vm_name, "sh", "-c", script, "sh", podman_json, docker_lines, ids)
