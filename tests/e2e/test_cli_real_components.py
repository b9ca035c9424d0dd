"""`devx up/down/ps/logs/exec` with real components: PostgreSQL and Redis from Debian as host
servers, a Podman container from the offline busybox image, and the examples/quickstart project.

Each test has its own project directory and its own DEVX_HOME under pytest's tmp_path. As root,
that directory (/tmp/pytest-of-root, mode 0700) is not traversable by the database user devx-db,
so these tests also exercise the relocated data layout (<run dir>/data/<name> → /var/lib/devx/…,
docs/runtimes.md). Tests skip when the component they need is not installed.
"""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from test_cli_lifecycle import alive, free_port, run_state, wait_for

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "tests" / "images"
BUSYBOX = "localhost/devx-test/busybox:latest"
HOST_DATA_ROOT = Path("/var/lib/devx")


def have_host_databases() -> bool:
    return (shutil.which("redis-server") is not None and shutil.which("psql") is not None
            and any(Path("/usr/lib/postgresql").glob("*/bin/initdb")))


needs_databases = pytest.mark.skipif(not have_host_databases(),
                                     reason="postgresql / redis-server not installed")
needs_podman = pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")


def data_dir(home: Path, name: str) -> Path:
    return next((home / "run").glob("*/data")) / name


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


# --- (a) host PostgreSQL + Redis and a service that uses both -------------------------------------

APP = """#!/bin/sh
# Proves the service sees its databases: psql through PG* (no password in argv), PING over RESP.
set -e
echo "urls: ${DATABASE_URL%%:*} ${REDIS_URL%%:*}"
echo "select: $(psql -X -At -c 'select 1')"
echo "ping: $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping)"
echo "app ready"
exec sleep 1000
"""


def write_db_project(root: Path) -> dict:
    ports = {"postgres": free_port(), "redis": free_port()}
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.sh").write_text(APP)
    (root / "devx.yaml").write_text(f"""name: realdb
databases:
  - engine: postgres
    runtime: host
    port: {ports['postgres']}
  - engine: redis
    runtime: host
    port: {ports['redis']}
services:
  - name: app
    command: [sh, app.sh]
    depends_on:
      - {{name: postgres, condition: service_healthy}}
      - {{name: redis, condition: service_healthy}}
    healthcheck: {{log: "^app ready", start_period: 30s}}
""")
    return ports


@needs_databases
def test_host_databases_feed_a_service_and_keep_data_until_down_volumes(devx, tmp_path):
    root = tmp_path / "proj"
    ports = write_db_project(root)
    home = tmp_path / "devx-home"
    up = devx("up", "--detach", "--json", cwd=root)
    assert up.code == 0, up.stderr
    states = {s["name"]: s["state"] for s in up.json()["services"]}
    assert states == {"postgres": "healthy", "redis": "healthy", "app": "healthy"}, states

    logs = devx("logs", "app", cwd=root)
    assert logs.code == 0, logs.stderr
    assert "urls: postgresql redis" in logs.stdout
    assert "select: 1" in logs.stdout
    assert "ping: PONG" in logs.stdout
    # The generated password travels in the environment only.
    ps = devx("ps", "--json", cwd=root)
    assert ps.code == 0 and ps.json()["running"] is True
    password = (next((home / "run").glob("*/secrets")) / "postgres.password").read_text().strip()
    assert password and password not in logs.stdout and password not in ps.stdout

    # Data written through the service's environment survives down/up.
    sql = "create table kept(x int); insert into kept values (42);"
    made = devx("exec", "app", "--", "psql", "-X", "-q", "-c", sql, cwd=root)
    assert made.code == 0, made.stderr + made.stdout

    pg_data = data_dir(home, "postgres")
    if os.geteuid() == 0:
        # pytest's tmp_path is under /tmp/pytest-of-root (0700): devx-db cannot reach it, so
        # the data lives under /var/lib/devx, owned by devx-db, linked from the run directory.
        assert pg_data.is_symlink(), pg_data
        target = Path(os.readlink(pg_data))
        assert target.parent.parent == HOST_DATA_ROOT, target
        st = target.stat()
        import pwd
        assert pwd.getpwuid(st.st_uid).pw_name == "devx-db"
        assert st.st_mode & 0o777 == 0o700
        assert (target / "PG_VERSION").is_file()
        assert Path(os.readlink(data_dir(home, "redis"))).parent == target.parent
        assert (tmp_path.parent.stat().st_mode & 0o777) == 0o700  # nothing chmod'ed
    else:
        target = pg_data
    assert devx("down", cwd=root).code == 0
    assert target.is_dir(), "down keeps database data"

    again = devx("up", "--detach", cwd=root)
    assert again.code == 0, again.stderr
    kept = devx("exec", "app", "--", "psql", "-X", "-At", "-c", "select x from kept", cwd=root)
    assert kept.code == 0 and kept.stdout.strip() == "42", kept.stderr + kept.stdout

    # --volumes when nothing runs any more (RunClient); the quickstart test covers a running one.
    assert devx("down", cwd=root).code == 0
    assert target.is_dir()
    down = devx("down", "--volumes", cwd=root)
    assert down.code == 0, down.stderr
    assert not target.exists() and not pg_data.exists() and not os.path.lexists(pg_data)
    if os.geteuid() == 0:
        assert not target.parent.exists(), "the per-run directory under /var/lib/devx goes too"
    assert run_state(home) is None
    del ports


# --- (b), (c) a container service from the offline busybox image --------------------------------


@pytest.fixture(scope="module")
def podman_env():
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(IMAGES / "containers.conf"))
    built = subprocess.run(["bash", str(IMAGES / "build-busybox.sh")], env=env,
                           capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        pytest.fail(f"build-busybox.sh failed:\n{built.stdout}\n{built.stderr}")
    return {"CONTAINERS_CONF": env["CONTAINERS_CONF"]}


def podman(env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60)


def project_containers(env: dict, project: str) -> list[dict]:
    out = podman(env, "ps", "-a", "--filter", f"label=devx.project={project}", "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout or "[]") or []


def write_container_project(root: Path, name: str) -> int:
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    (root / "devx.yaml").write_text(f"""name: {name}
services:
  - name: web
    runtime: container
    image: {BUSYBOX}
    command: [sh, -c, "echo container-hello; exec httpd -f -v -p 8080 -h /var/www"]
    port: {port}
    container_port: 8080
    healthcheck: {{http: "http://127.0.0.1:{port}/", interval: 200ms, start_period: 20s}}
""")
    return port


@needs_podman
def test_container_service_is_published_labelled_logged_and_removed(devx, podman_env, tmp_path):
    root = tmp_path / "proj"
    port = write_container_project(root, "ctr")
    up = devx("up", "--detach", "--json", cwd=root, env=podman_env)
    try:
        assert up.code == 0, up.stderr
        assert {s["name"]: s["state"] for s in up.json()["services"]} == {"web": "healthy"}
        status, body = http_get(f"http://127.0.0.1:{port}/")
        assert status == 200 and body

        containers = project_containers(podman_env, "ctr")
        assert len(containers) == 1, containers
        name = containers[0]["Names"][0]
        inspect = podman(podman_env, "inspect", name)
        assert inspect.returncode == 0, inspect.stderr
        info = json.loads(inspect.stdout)[0]
        labels = info["Config"]["Labels"]
        assert labels["devx.project"] == "ctr" and labels["devx.service"] == "web"
        bindings = info["HostConfig"]["PortBindings"]["8080/tcp"]
        assert bindings == [{"HostIp": "127.0.0.1", "HostPort": str(port)}], bindings

        # logs are streamed from the container into devx's log files
        assert wait_for(lambda: "container-hello" in devx("logs", "web", cwd=root,
                                                          env=podman_env).stdout, timeout=10)
        ex = devx("exec", "web", "--", "sh", "-c", "echo in-$HOSTNAME-$PORT", cwd=root,
                  env=podman_env)
        assert ex.code == 0, ex.stderr
        assert ex.stdout.startswith("in-"), ex.stdout
    finally:
        down = devx("down", cwd=root, env=podman_env)
    assert down.code == 0, down.stderr
    assert project_containers(podman_env, "ctr") == []


@needs_podman
def test_sigkilled_supervisor_leaves_a_container_that_down_removes(devx, podman_env, tmp_path):
    root = tmp_path / "proj"
    write_container_project(root, "ctrkill")
    up = devx("up", "--detach", cwd=root, env=podman_env)
    try:
        assert up.code == 0, up.stderr
        state = run_state(tmp_path / "devx-home")
        supervisor = state["owner"]["pid"]
        os.kill(supervisor, signal.SIGKILL)
        assert wait_for(lambda: not alive(supervisor), timeout=10)
        # The container is not a child of the supervisor: it outlives it …
        assert len(project_containers(podman_env, "ctrkill")) == 1
        # … and the next client reconciles the stale run and removes it by label.
        ps = devx("ps", "--json", cwd=root, env=podman_env)
        assert ps.code == 0, ps.stderr
        assert ps.json()["running"] is False
        assert project_containers(podman_env, "ctrkill") == []
    finally:
        devx("down", cwd=root, env=podman_env)
        for c in project_containers(podman_env, "ctrkill"):
            podman(podman_env, "rm", "-f", c["Id"])
    assert project_containers(podman_env, "ctrkill") == []
    assert devx("down", cwd=root, env=podman_env).code == 0


# --- the bundled example ---------------------------------------------------------------------------


@needs_databases
def test_quickstart_example_comes_up_and_moves_data(devx, tmp_path):
    example = tmp_path / "quickstart"
    shutil.copytree(REPO / "examples" / "quickstart", example)
    up = devx("up", "--detach", "--json", cwd=example)
    try:
        assert up.code == 0, up.stderr
        states = {s["name"]: s["state"] for s in up.json()["services"]}
        assert set(states.values()) == {"healthy"}, states
        ports = {s["name"]: s.get("port") for s in up.json()["services"]}
        web = f"http://127.0.0.1:{ports['web']}"
        assert http_get(web + "/")[0] == 200
        request = urllib.request.Request(web + "/api/items", data=b'{"name": "e2e-mug"}',
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 202
        assert wait_for(lambda: "e2e-mug" in http_get(web + "/api/items")[1], timeout=15)
        stats = json.loads(http_get(web + "/api/stats")[1])
        assert stats["items"] >= 1 and stats["processed"] >= 1
        logs = devx("logs", "worker", cwd=example)
        assert "stored 'e2e-mug'" in logs.stdout
        links = [data_dir(tmp_path / "devx-home", n) for n in ("postgres", "redis")]
        targets = [Path(os.readlink(p)) if p.is_symlink() else p for p in links]
        assert all(t.is_dir() for t in targets)
    finally:
        down = devx("down", "--volumes", cwd=example)
    assert down.code == 0, down.stderr
    assert not any(t.exists() for t in targets)
    assert not any(os.path.lexists(p) for p in links)
