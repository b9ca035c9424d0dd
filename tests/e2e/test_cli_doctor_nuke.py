"""`devx doctor` and `devx nuke` end to end.

doctor runs against a PATH holding only shim tools (so what is "installed" is exactly what the
test put there); a shim `apt-get` records its argv, which proves that `doctor install --dry-run`
runs nothing. nuke runs in a temporary git project: tracked files are never removed, untracked
dependency folders are with --artifacts, and without -y and without a terminal nothing happens.
"""
import json
import os
import pty
import select
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTAINERS_CONF = REPO / "tests" / "images" / "containers.conf"

KUBECTL_VERSION_JSON = {
    "clientVersion": {
        "major": "1", "minor": "28", "gitVersion": "v1.28.4",
        "gitCommit": "bae2c62678db2b5053817bc97181fcc2e8388103", "gitTreeState": "clean",
        "buildDate": "2023-11-15T16:58:22Z", "goVersion": "go1.20.11", "compiler": "gc",
        "platform": "linux/amd64",
    },
    "kustomizeVersion": "v5.0.4-0.20230601165947-6ce0bf390ce3",
}


def shim(bindir: Path, name: str, script: str) -> Path:
    path = bindir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


@pytest.fixture
def shims(tmp_path):
    """An empty bin directory, the only PATH doctor sees (shims use shell builtins only)."""
    bindir = tmp_path / "shims"
    bindir.mkdir()
    return bindir


def add_kubectl(bindir: Path):
    # Real kubectl: `kubectl version --client -o json` prints this document; anything else is an
    # error (the Go tool's one-element "version --client --short" argv would land here).
    doc = json.dumps(KUBECTL_VERSION_JSON, indent=2)
    shim(bindir, "kubectl", f"""if [ "$1 $2 $3 $4" = "version --client -o json" ]; then
printf '%s\\n' '{doc}'
exit 0
fi
echo "error: unknown command \\"$*\\" for \\"kubectl\\"" >&2
exit 1
""")


def add_podman(bindir: Path):
    shim(bindir, "podman", """case "$1" in
--version) echo "podman version 4.3.1"; exit 0;;
esac
echo "Error: unrecognized command (shim)" >&2
exit 125
""")


def add_apt_get(bindir: Path, log: Path):
    # Records every call; answers --version like apt-get does.
    shim(bindir, "apt-get", f"""echo "$*" >> "{log}"
if [ "$1" = "--version" ]; then echo "apt 2.6.1 (amd64)"; fi
exit 0
""")


def doctor_env(bindir: Path, tmp_path: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"PATH": str(bindir), "HOME": str(home), "CLOUDFLARE_API_TOKEN": "",
            "CF_API_TOKEN": "", "KUBECONFIG": str(home / "kubeconfig")}


# ---- doctor ----

def test_doctor_json_reports_installed_tools_with_parsed_versions(devx, shims, tmp_path):
    add_kubectl(shims)
    add_podman(shims)
    r = devx("--json", "doctor", "--area", "bridge", "--area", "vm",
             env=doctor_env(shims, tmp_path), cwd=tmp_path)
    doc = r.json()
    assert doc["v"] == 1
    assert isinstance(doc["ok"], bool)
    assert set(doc["system"]) >= {"os", "arch", "package_manager", "root"}
    assert sorted(a["name"] for a in doc["areas"]) == ["bridge", "vm"]
    tools = {t["name"]: t for a in doc["areas"] for t in a["tools"]}
    assert tools["kubectl"]["installed"] is True
    assert tools["kubectl"]["version"] == "1.28.4"  # from the JSON, not a "--short" line
    assert tools["kubectl"]["path"] == str(shims / "kubectl")
    assert tools["podman"]["version"] == "4.3.1"
    for area in doc["areas"]:
        assert isinstance(area["ready"], bool)
        for tool in area["tools"]:
            assert set(tool) >= {"name", "binary", "required", "installed", "version", "install"}
    assert isinstance(doc["missing_required"], list)
    # The exit code follows "ok".
    assert r.code == (0 if doc["ok"] else 11)


def test_doctor_exits_0_when_every_required_tool_is_there(devx, shims, tmp_path):
    add_kubectl(shims)
    r = devx("doctor", "--area", "bridge", env=doctor_env(shims, tmp_path), cwd=tmp_path)
    assert r.code == 0, r.stderr
    assert "kubectl" in r.stdout and "1.28.4" in r.stdout
    assert "✓" in r.stdout


def test_doctor_exits_11_naming_a_missing_required_tool(devx, shims, tmp_path):
    r = devx("doctor", "--area", "bridge", env=doctor_env(shims, tmp_path), cwd=tmp_path)
    assert r.code == 11, r.stderr
    assert "kubectl" in r.stdout
    assert "missing: kubectl" in r.stderr
    assert "devx doctor install" in r.stderr

    j = devx("--json", "doctor", "--area", "bridge", env=doctor_env(shims, tmp_path),
             cwd=tmp_path)
    assert j.code == 11
    doc = j.json()  # the report itself, not an error document
    assert doc["ok"] is False
    assert doc["missing_required"] == ["kubectl"]


def test_doctor_never_reports_a_credential_value(devx, shims, tmp_path):
    add_kubectl(shims)
    (tmp_path / "creds.env").write_text('export CLOUDFLARE_API_TOKEN="s3cr3t-t0ken-value"\n')
    r = devx("--json", "doctor", "--env-file", tmp_path / "creds.env",
             env=doctor_env(shims, tmp_path), cwd=tmp_path)
    assert r.code in (0, 11)
    assert "s3cr3t-t0ken-value" not in r.stdout + r.stderr
    creds = {c["name"]: c for a in r.json()["areas"] for c in a.get("credentials", [])}
    assert any(c["configured"] for name, c in creds.items() if "Cloudflare" in name)


def test_doctor_rejects_an_unknown_area(devx, shims, tmp_path):
    r = devx("doctor", "--area", "nonsense", env=doctor_env(shims, tmp_path), cwd=tmp_path)
    assert r.code == 2
    assert "nonsense" in r.stderr


def test_doctor_install_dry_run_prints_the_plan_and_runs_nothing(devx, shims, tmp_path):
    log = tmp_path / "apt-get.log"
    add_apt_get(shims, log)
    env = doctor_env(shims, tmp_path)
    r = devx("--dry-run", "doctor", "install", "--area", "vm", env=env, cwd=tmp_path)
    assert r.code == 0, r.stderr
    assert "would run: " in r.stdout
    assert "apt-get install -y" in r.stdout and "podman" in r.stdout
    calls = log.read_text().splitlines() if log.exists() else []
    assert all(not c.startswith("install") for c in calls), calls

    j = devx("--json", "--dry-run", "doctor", "install", "--area", "vm", env=env, cwd=tmp_path)
    assert j.code == 0, j.stderr
    plan = j.json()
    assert plan["package_manager"] == "apt"
    argvs = [s["argv"] for s in plan["steps"]]
    assert any("podman" in argv for argv in argvs)
    assert all(argv[0] in ("apt-get", "sudo") for argv in argvs)
    calls = log.read_text().splitlines() if log.exists() else []
    assert all(not c.startswith("install") for c in calls), calls


def test_doctor_install_without_a_terminal_asks_for_yes_and_installs_nothing(devx, shims,
                                                                              tmp_path):
    log = tmp_path / "apt-get.log"
    add_apt_get(shims, log)
    r = devx("doctor", "install", "--area", "vm", env=doctor_env(shims, tmp_path), cwd=tmp_path,
             stdin="")
    assert r.code == 16, r.stderr
    assert "-y" in r.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    assert all(not c.startswith("install") for c in calls), calls


def test_doctor_install_with_yes_runs_the_plan(devx, shims, tmp_path):
    log = tmp_path / "apt-get.log"
    add_apt_get(shims, log)
    # Running as root is decided by the library (no sudo as root); give a sudo shim either way.
    shim(shims, "sudo", 'exec "$@"\n')
    r = devx("-y", "--json", "doctor", "install", "--area", "vm", env=doctor_env(shims, tmp_path),
             cwd=tmp_path)
    assert r.code == 0, r.stderr
    result = r.json()
    assert all(step["status"] == "ok" for step in result["steps"])
    installs = [c for c in log.read_text().splitlines() if c.startswith("install")]
    assert installs and "podman" in installs[0]


def test_doctor_install_on_a_terminal_shows_the_plan_asks_and_streams_the_output(devx_bin,
                                                                                 shims, tmp_path):
    log = tmp_path / "apt-get.log"
    shim(shims, "apt-get", f"""echo "$*" >> "{log}"
if [ "$1" = "--version" ]; then echo "apt 2.6.1 (amd64)"; exit 0; fi
echo "Setting up $3 (4.3.1+ds1-8) ..."
exit 0
""")
    shim(shims, "sudo", 'exec "$@"\n')
    env = {**os.environ, **doctor_env(shims, tmp_path), "NO_COLOR": "1",
           "DEVX_HOME": str(tmp_path / "devx-home")}
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(devx_bin), "doctor", "install", "--area", "vm"], cwd=tmp_path,
                            stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while b"[y/N]" not in seen:
        ready, _, _ = select.select([master], [], [], 30)
        assert ready, f"no question asked; saw {seen!r}"
        seen += os.read(master, 4096)
    assert b"would run: apt-get install -y podman" in seen  # the plan comes first
    assert not any(c.startswith("install") for c in log.read_text().splitlines())
    os.write(master, b"y\n")
    while proc.poll() is None or select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    os.close(master)
    assert b"Setting up podman" in seen  # the package manager's output, streamed
    assert b"installed: podman" in seen
    assert any(c.startswith("install -y podman") for c in log.read_text().splitlines())


# ---- nuke ----

def git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t",
                    "-c", "init.defaultBranch=main", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path):
    """A git project: devx.yaml and build/out.txt tracked, node_modules untracked."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "devx.yaml").write_text(
        "name: nuketest\nservices:\n  - name: web\n    command: [\"true\"]\n")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("tracked output\n")
    modules = root / "node_modules" / "left-pad"
    modules.mkdir(parents=True)
    (modules / "index.js").write_text("module.exports = s => s;\n" * 100)
    git(root, "init", "-q")
    git(root, "add", "devx.yaml", "build/out.txt")
    git(root, "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def nuke_env():
    return {"CONTAINERS_CONF": str(CONTAINERS_CONF)}


def test_nuke_dry_run_lists_untracked_artifacts_and_protects_tracked_ones(devx, project,
                                                                           nuke_env):
    r = devx("nuke", "--artifacts", "--dry-run", "--json", cwd=project, env=nuke_env)
    assert r.code == 0, r.stderr
    plan = r.json()
    paths = [i.get("path", "") for i in plan["items"]]
    assert any(p.endswith("node_modules") for p in paths), paths
    assert not any(Path(p).name == "build" or "/build/" in p for p in paths), paths
    modules = next(i for i in plan["items"] if i.get("path", "").endswith("node_modules"))
    assert modules["scope"] == "artifact"
    assert modules["size_bytes"] >= len("module.exports = s => s;\n" * 100)
    assert (project / "node_modules").is_dir()  # a dry run removes nothing

    human = devx("nuke", "--artifacts", "--dry-run", cwd=project, env=nuke_env)
    assert human.code == 0, human.stderr
    assert "node_modules" in human.stdout
    # 2,500 bytes in base 1024 (base 1000 would say 2.5).
    assert "2.4 KiB" in human.stdout
    assert "Never removed:" in human.stdout and "build" in human.stdout


def test_nuke_without_yes_and_without_a_terminal_exits_16_and_removes_nothing(devx, project,
                                                                               nuke_env):
    r = devx("nuke", "--artifacts", cwd=project, env=nuke_env, stdin="")
    assert r.code == 16, r.stderr
    assert "-y" in r.stderr
    assert (project / "node_modules" / "left-pad" / "index.js").is_file()

    j = devx("--json", "nuke", "--artifacts", cwd=project, env=nuke_env, stdin="")
    assert j.code == 16
    assert j.json()["error"]["code"] == "prompt_required"
    assert (project / "node_modules").is_dir()


def test_nuke_yes_removes_untracked_artifacts_and_keeps_tracked_files(devx, project, nuke_env):
    r = devx("-y", "nuke", "--artifacts", cwd=project, env=nuke_env)
    assert r.code == 0, r.stderr
    assert not (project / "node_modules").exists()
    assert (project / "build" / "out.txt").read_text() == "tracked output\n"
    assert (project / "devx.yaml").is_file()
    assert "node_modules" in r.stdout
    assert "freed" in r.stderr


def test_nuke_without_artifacts_leaves_the_project_tree_alone(devx, project, nuke_env):
    r = devx("-y", "--json", "nuke", cwd=project, env=nuke_env)
    assert r.code == 0, r.stderr
    assert (project / "node_modules" / "left-pad" / "index.js").is_file()


def test_nuke_reports_an_item_it_could_not_remove_with_exit_10(devx, project, shims, tmp_path):
    # A podman that lists one container of the project and refuses to remove it, as real podman
    # does for a container held by another process.
    log = tmp_path / "podman.log"
    container = {"Id": "c0ffee" * 10 + "c0ff", "Names": ["nuketest-web"], "State": "running",
                 "Labels": {"devx.project": "nuketest"}}
    shim(shims, "podman", f"""echo "$*" >> "{log}"
case "$1" in
--version) echo "podman version 4.3.1";;
ps) printf '%s\\n' '{json.dumps([container])}';;
volume) printf '[]\\n';;
rm) echo "Error: cannot remove container $3 as it is in use: device or resource busy" >&2
    exit 125;;
*) echo "Error: unexpected podman $*" >&2; exit 125;;
esac
""")
    env = {"PATH": f"{shims}:{os.environ['PATH']}"}
    r = devx("-y", "nuke", "--artifacts", cwd=project, env=env)
    assert r.code == 10, r.stderr
    assert "nuketest-web" in r.stderr and "busy" in r.stderr  # which item, and why
    assert not (project / "node_modules").exists()  # the other items were still removed
    assert f"rm -f {container['Id']}" in log.read_text()

    j = devx("-y", "--json", "nuke", cwd=project, env=env)
    assert j.code == 10
    error = j.json()["error"]
    assert error["code"] == "command_failed"
    assert [f["name"] for f in error["details"]["failed"]] == ["nuketest-web"]


def test_nuke_asks_on_a_terminal_and_a_no_keeps_everything(devx_bin, project, tmp_path):
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "DEVX_HOME"}
    env.update({"DEVX_HOME": str(tmp_path / "devx-home"), "NO_COLOR": "1",
                "CONTAINERS_CONF": str(CONTAINERS_CONF)})
    proc = subprocess.Popen([str(devx_bin), "nuke", "--artifacts"], cwd=project, stdin=slave,
                            stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while b"[y/N]" not in seen:
        ready, _, _ = select.select([master], [], [], 30)
        assert ready, f"no question asked; saw {seen!r}"
        seen += os.read(master, 4096)
    assert b"node_modules" in seen  # the plan is shown before the question
    os.write(master, b"n\n")
    assert proc.wait(timeout=30) == 9  # cancelled
    os.close(master)
    assert (project / "node_modules").is_dir()
