"""`devx up/down/ps/logs/restart/exec/run/action` with real host processes.

Each test writes a small project of python3 http.server services (http health checks, a
depends_on chain) into its own directory with its own DEVX_HOME, and checks the process table
(/proc) for leftovers: nothing devx started may survive `down`, Ctrl-C, or a SIGKILLed supervisor.
"""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_project(root: Path, name: str = "life") -> dict:
    ports = {"db": free_port(), "api": free_port(), "web": free_port()}
    server = "exec python3 -u -m http.server --bind 127.0.0.1 $PORT"
    text = f"""name: {name}
services:
  - name: db
    command: [sh, -c, "{server}"]
    port: {ports['db']}
    healthcheck: {{http: "http://127.0.0.1:{ports['db']}/", interval: 100ms, start_period: 15s}}
  - name: api
    command: [sh, -c, "echo api-starting; {server}"]
    port: {ports['api']}
    env: {{X: hello-from-api}}
    depends_on: [db]
    healthcheck: {{http: "http://127.0.0.1:{ports['api']}/", interval: 100ms, start_period: 15s}}
  - name: web
    command: [sh, -c, "{server}"]
    port: {ports['web']}
    depends_on: [api]
    healthcheck: {{http: "http://127.0.0.1:{ports['web']}/", interval: 100ms, start_period: 15s}}
customActions:
  hello:
    commands: [[sh, -c, "echo action-ran-in-$(basename $PWD)"], "echo second"]
  failing:
    command: [sh, -c, "exit 3"]
"""
    root.mkdir(parents=True, exist_ok=True)
    (root / "devx.yaml").write_text(text)
    (root / ".env").write_text("")
    return ports


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    ports = write_project(root)
    return root, ports


@pytest.fixture
def env_for(tmp_path):
    home = tmp_path / "devx-home"

    def make():
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "DEVX_HOME")}
        env["DEVX_HOME"] = str(home)
        return env

    return home, make


def run_state(home: Path) -> dict | None:
    files = list((home / "run").glob("*/state.json"))
    if not files:
        return None
    return json.loads(files[0].read_text())


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def wait_for(predicate, timeout=20.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def service_pgids(state: dict) -> list[int]:
    return [n["pgid"] or n["pid"] for n in state["nodes"] if (n["pgid"] or n["pid"])]


def assert_nothing_left(pgids):
    assert wait_for(lambda: all(not group_members(g) for g in pgids), timeout=15), [
        (g, group_members(g)) for g in pgids
    ]


def test_detached_lifecycle(devx, project, tmp_path):
    root, ports = project
    up = devx("up", "--detach", "--json", cwd=root)
    assert up.code == 0, up.stderr
    status = up.json()
    assert status["running"] is True
    assert {s["name"]: s["state"] for s in status["services"]} == {
        "db": "healthy", "api": "healthy", "web": "healthy"}
    state = run_state(tmp_path / "devx-home")
    pgids = service_pgids(state)
    assert len(pgids) == 3 and all(group_members(g) for g in pgids)
    supervisor = state["owner"]["pid"]
    assert alive(supervisor)

    ps = devx("ps", "--json", cwd=root)
    assert ps.code == 0, ps.stderr
    doc = ps.json()
    assert doc["running"] is True and doc["supervisor_pid"] == supervisor
    by_name = {s["name"]: s for s in doc["services"]}
    assert by_name["api"]["port"] == ports["api"]
    assert all(s["state"] == "healthy" for s in doc["services"])
    table = devx("ps", cwd=root)
    assert table.code == 0 and "NAME" in table.stdout and "healthy" in table.stdout

    # Logs: each line is timestamped in the file and merged across services.
    logs = devx("logs", "--tail", "50", "--json", cwd=root)
    assert logs.code == 0, logs.stderr
    lines = [json.loads(l) for l in logs.stdout.splitlines()]
    assert any(l["service"] == "api" and l["line"] == "api-starting" for l in lines)
    assert all(l["time_ms"] > 0 for l in lines)
    assert [l["time_ms"] for l in lines] == sorted(l["time_ms"] for l in lines)
    tail = devx("logs", "--tail", "1", "api", cwd=root)
    assert tail.code == 0 and len(tail.stdout.splitlines()) == 1
    assert tail.stdout.startswith("api")
    assert devx("logs", "--since", "1h", cwd=root).code == 0
    assert devx("logs", "--since", "yesterday-ish", cwd=root).code == 2

    # Restart: a new process for api, still healthy.
    old_api = by_name["api"]["pid"]
    restart = devx("restart", "api", "--json", cwd=root)
    assert restart.code == 0, restart.stderr
    after = {s["name"]: s for s in restart.json()["services"]}
    assert after["api"]["state"] == "healthy" and after["api"]["pid"] != old_api
    assert after["api"]["restarts"] >= 1
    assert wait_for(lambda: not group_members(old_api))
    pgids.append(after["api"]["pid"])

    down = devx("down", "--json", cwd=root)
    assert down.code == 0, down.stderr
    assert down.json()["running"] is False
    assert_nothing_left(pgids)
    assert wait_for(lambda: not alive(supervisor))
    assert run_state(tmp_path / "devx-home") is None
    ps = devx("ps", "--json", cwd=root)
    assert ps.code == 0 and ps.json()["running"] is False
    # down again: nothing to do, not an error
    assert devx("down", cwd=root).code == 0


def test_foreground_up_stops_everything_on_sigint(devx_bin, project, env_for):
    root, _ = project
    home, make_env = env_for
    proc = subprocess.Popen([str(devx_bin), "up"], cwd=root, env=make_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: (s := run_state(home)) is not None and
                        all(n["state"] == "healthy" for n in s["nodes"]) and len(s["nodes"]) == 3,
                        timeout=30), proc.stderr.read() if proc.poll() is not None else "timeout"
        pgids = service_pgids(run_state(home))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    # Multiplexed output: "name | line" on stdout.
    assert any(line.startswith("api") and "| api-starting" in line for line in out.splitlines())
    assert_nothing_left(pgids)
    assert run_state(home) is None


def test_foreground_up_json_streams_events(devx_bin, project, env_for):
    root, _ = project
    home, make_env = env_for
    proc = subprocess.Popen([str(devx_bin), "up", "--json", "db"], cwd=root, env=make_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: (s := run_state(home)) is not None and
                        any(n["state"] == "healthy" for n in s["nodes"]), timeout=30)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    events = [json.loads(line) for line in out.splitlines()]
    assert any(e["type"] == "plan" for e in events)
    assert any(e["type"] == "state" and e["source"] == "db" and "healthy" in e["message"]
               for e in events)


def test_dry_run_plans_and_starts_nothing(devx, project, tmp_path):
    root, ports = project
    result = devx("up", "--dry-run", "--json", cwd=root)
    assert result.code == 0, result.stderr
    plan = result.json()
    assert [n["name"] for n in plan["nodes"]] == ["db", "api", "web"]
    api = plan["nodes"][1]
    assert api["port"] == ports["api"]
    assert "X" in api["env_names"] and "DB_URL" in api["env_names"]
    assert api["waits_for"][0]["name"] == "db"
    assert run_state(tmp_path / "devx-home") is None
    assert not any((tmp_path / "devx-home" / "run").glob("*/control.sock"))
    text = devx("up", "--dry-run", cwd=root)
    assert text.code == 0 and "waits:" in text.stdout and "X" in text.stdout


def test_sigkilled_supervisor_takes_its_services_and_ps_reconciles(devx, project, tmp_path):
    root, _ = project
    up = devx("up", "--detach", "--json", cwd=root)
    assert up.code == 0, up.stderr
    home = tmp_path / "devx-home"
    state = run_state(home)
    pgids = service_pgids(state)
    os.kill(state["owner"]["pid"], signal.SIGKILL)
    # PDEATHSIG: the services die with it.
    assert_nothing_left(pgids)
    ps = devx("ps", "--json", cwd=root)
    assert ps.code == 0, ps.stderr
    assert ps.json()["running"] is False
    assert run_state(home) is None
    # and the project can come up again
    again = devx("up", "--detach", cwd=root)
    assert again.code == 0, again.stderr
    assert devx("down", cwd=root).code == 0


def test_second_up_is_refused_with_the_holder(devx, project, tmp_path):
    root, _ = project
    assert devx("up", "--detach", cwd=root).code == 0
    try:
        pid = run_state(tmp_path / "devx-home")["owner"]["pid"]
        second = devx("up", "--detach", "--json", cwd=root)
        assert second.code == 7, second.stderr
        error = second.json()["error"]
        assert error["code"] == "already_exists"
        assert str(pid) in error["message"] and "devx down" in error["hint"]
        fg = devx("up", cwd=root)
        assert fg.code == 7 and "devx down" in fg.stderr
    finally:
        assert devx("down", cwd=root).code == 0


def test_exec_run_and_action_inject_the_environment(devx, project, tmp_path):
    root, ports = project
    assert devx("up", "--detach", cwd=root).code == 0
    try:
        out = devx("exec", "api", "--", "sh", "-c", 'echo "$X $PORT $DB_PORT $(pwd)"', cwd=root)
        assert out.code == 0, out.stderr
        assert out.stdout.split() == ["hello-from-api", str(ports["api"]), str(ports["db"]),
                                      str(root)]
        # the command's exit status is passed through verbatim
        assert devx("exec", "api", "--", "sh", "-c", "exit 42", cwd=root).code == 42
        dry = devx("exec", "api", "--dry-run", "--json", "--", "env", cwd=root)
        assert dry.code == 0 and "X" in dry.json()["env_names"]
    finally:
        assert devx("down", cwd=root).code == 0
    (root / ".env").write_text("FROM_DOTENV=yes\n")
    (root / "devx.yaml").write_text(
        (root / "devx.yaml").read_text().replace("name: life\n", "name: life\nenv: [.env]\n"))
    run = devx("run", "--", "sh", "-c", 'echo "$FROM_DOTENV $DEVX_PROJECT"', cwd=root)
    assert run.code == 0, run.stderr
    assert run.stdout.strip() == "yes life"
    assert devx("run", "--", "sh", "-c", "exit 5", cwd=root).code == 5
    action = devx("action", "hello", cwd=root)
    assert action.code == 0, action.stderr
    assert action.stdout.splitlines() == ["action-ran-in-proj", "second"]
    dry = devx("action", "hello", "--dry-run", cwd=root)
    assert dry.code == 0 and "2 commands" in dry.stdout and not (root / "ran").exists()
    failing = devx("action", "failing", "--json", cwd=root)
    assert failing.code == 10
    assert failing.json()["error"]["details"]["exit_code"] == 3
    unknown = devx("action", "nope", cwd=root)
    assert unknown.code == 6 and "hello" in unknown.stderr
