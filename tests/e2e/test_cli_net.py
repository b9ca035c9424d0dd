"""`devx tunnel`, `webhook`, `mail`, `mesh` and `sites` end to end: the built CLI against the fake
Cloudflare API (tests/fakes/cloudflare_api.py) and the fake cloudflared, with real loopback
servers and real HTTP/SMTP traffic. Every test has its own DEVX_HOME, HOME and fake state.

Services (catchers, the inspector) run in the foreground until SIGINT, which is their normal end
(exit 0); with --json their events are JSON Lines on stdout.
"""
import http.server
import json
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKES = REPO / "tests" / "fakes"
TOKEN = "cf-e2e-token-N0tForLogs"
SECRET = "s3cret-Pa55"


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


class Origin:
    """An HTTP server on 127.0.0.1 that answers every request with what it received."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                received.append({"method": self.command, "path": self.path, "body": body,
                                 "headers": dict(self.headers)})
                reply = json.dumps({"path": self.path, "auth": self.headers.get("Authorization")})
                data = reply.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin():
    server = Origin()
    yield server
    server.close()


class Net:
    """The CLI with a private DEVX_HOME and HOME, the fakes first on PATH, and the fake
    Cloudflare API running with one token and the zones example.com and mycompany.co.uk."""

    def __init__(self, devx_bin, root):
        self.bin = devx_bin
        self.root = root
        self.home = root / "devx-home"
        (root / "home").mkdir()
        self.state = root / "api.json"
        url_file = root / "api.url"
        self.api = subprocess.Popen(
            [sys.executable, str(FAKES / "cloudflare_api.py"), "--state", str(self.state),
             "--url-file", str(url_file), "--token", TOKEN, "--zone", "example.com",
             "--zone", "mycompany.co.uk"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: url_file.exists() and url_file.read_text().strip())
        self.api_url = url_file.read_text().strip()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("NO_COLOR", "DEVX_HOME", "CLOUDFLARE_API_TOKEN", "CF_API_TOKEN",
                                 "DEVX_TUNNEL_ZONE", "DEVX_BASIC_AUTH", "TS_AUTHKEY")}
        self.env.update({"PATH": f"{FAKES}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                         "HOME": str(root / "home"), "FAKE_LOG": str(root / "fake.log"),
                         "DEVX_CLOUDFLARE_API_URL": self.api_url,
                         "CLOUDFLARE_API_TOKEN": TOKEN, "USER": "tester"})

    def argv(self, args):
        return [str(self.bin), "--devx-home", str(self.home), *map(str, args)]

    def __call__(self, *args, timeout=60, **env):
        proc = subprocess.run(self.argv(args), cwd=self.root, env={**self.env, **env},
                              capture_output=True, text=True, timeout=timeout)
        return proc

    def start(self, *args, **env):
        """A foreground service (stdout/stderr piped)."""
        return subprocess.Popen(self.argv(args), cwd=self.root, env={**self.env, **env},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def api_state(self):
        return json.loads(self.state.read_text())

    def dns_records(self):
        return [r for records in self.api_state()["dns_records"].values() for r in records]

    def close(self):
        # Connectors are detached from devx: end any a failed test left behind.
        for name in ("tunnel/machine.json",):
            path = self.home / name
            if path.exists():
                tunnel = json.loads(path.read_text()).get("tunnel") or {}
                connector = tunnel.get("connector") if isinstance(tunnel, dict) else None
                if isinstance(connector, dict) and connector.get("pid"):
                    try:
                        os.kill(int(connector["pid"]), signal.SIGTERM)
                    except ProcessLookupError:
                        pass
        self.api.terminate()
        self.api.wait(timeout=10)


@pytest.fixture
def net(devx_bin, tmp_path):
    world = Net(devx_bin, tmp_path)
    yield world
    world.close()


def read_events(proc, predicate, timeout=30.0):
    """JSON lines from a --json service's stdout until one satisfies `predicate`."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"no matching event; saw {seen}; stderr: {proc.stderr.read()}")


def stop(proc):
    """SIGINT, the normal end of a service: returns (exit code, rest of stdout, stderr)."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


# ---- tunnels ------------------------------------------------------------------------------------


def test_expose_list_unexpose_leaves_no_route_or_dns_record(net, origin):
    exposed = net("--json", "tunnel", "expose", origin.port, "--name", "API", "--zone",
                  "example.com")
    assert exposed.returncode == 0, exposed.stderr
    doc = json.loads(exposed.stdout)
    exposure = doc.get("exposure", doc)
    assert exposure["hostname"] == "api.example.com"
    assert exposure["url"] == "https://api.example.com"
    assert [r["name"] for r in net.dns_records()] == ["api.example.com"]

    listed = net("--json", "tunnel", "list")
    assert listed.returncode == 0, listed.stderr
    exposures = json.loads(listed.stdout)["exposures"]
    assert [(e["hostname"], e["port"]) for e in exposures] == [("api.example.com", origin.port)]
    human = net("tunnel", "list")
    assert "https://api.example.com" in human.stdout and str(origin.port) in human.stdout

    removed = net("--json", "tunnel", "unexpose", "api.example.com")
    assert removed.returncode == 0, removed.stderr
    assert net.dns_records() == []
    for config in net.api_state()["configurations"].values():
        assert [rule for rule in config["config"]["ingress"] if "hostname" in rule] == []
    assert json.loads(net("--json", "tunnel", "status").stdout)["exposures"] == []


def test_a_second_exposure_reuses_the_machine_tunnel(net, origin):
    for name in ("one", "two"):
        run = net("--json", "tunnel", "expose", origin.port, "--name", name, "--zone",
                  "example.com")
        assert run.returncode == 0, run.stderr
    assert len(net.api_state()["tunnels"]) == 1
    assert sorted(r["name"] for r in net.dns_records()) == ["one.example.com", "two.example.com"]
    assert net("tunnel", "unexpose", "--all").returncode == 0
    assert net.dns_records() == []


def test_hostnames_stay_inside_the_zone_given(net, origin):
    run = net("--json", "tunnel", "expose", origin.port, "--name", "api", "--zone",
              "mycompany.co.uk")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout).get("exposure", json.loads(run.stdout))["hostname"] == \
        "api.mycompany.co.uk"
    net("tunnel", "unexpose", "--all")


def test_api_errors_surface_with_their_cloudflare_codes(net, origin):
    state = net.api_state()
    state.setdefault("fail", []).append(
        {"method": "POST", "path": "dns_records", "status": 403, "times": 5,
         "errors": [{"code": 10000, "message": "Authentication error"}]})
    net.state.write_text(json.dumps(state))
    run = net("--json", "tunnel", "expose", origin.port, "--name", "denied", "--zone",
              "example.com")
    assert run.returncode != 0
    error = json.loads(run.stdout)["error"]
    codes = [e["code"] for e in error["details"]["cloudflare_errors"]]
    assert 10000 in codes
    assert TOKEN not in run.stdout + run.stderr


def test_expose_dry_run_prints_the_plan_and_creates_nothing(net, origin):
    run = net("--dry-run", "tunnel", "expose", origin.port, "--name", "web", "--zone",
              "example.com", "--basic-auth", f"alice:{SECRET}")
    assert run.returncode == 0, run.stderr
    assert "would" in run.stdout
    assert SECRET not in run.stdout + run.stderr
    assert net.dns_records() == []
    assert not [r for r in net.api_state()["requests"] if r["method"] != "GET"]


def test_up_dry_run_lists_the_tunnel_routes_without_asking_cloudflare(net):
    (net.root / "devx.yaml").write_text(
        "name: shop\n"
        "domain: example.com\n"
        "services:\n"
        "  - name: api\n"
        "    command: [\"true\"]\n"
        "    port: 18083\n"
        "tunnels:\n"
        "  - name: web\n"
        "    port: 18083\n"
        f"    basic_auth: alice:{SECRET}\n")
    # No token: a plan needs none.
    run = net("--json", "up", "--dry-run", CLOUDFLARE_API_TOKEN="")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    route = plan["tunnels"][0]
    assert route["name"] == "web"
    assert route["hostname"] == "web-shop.example.com"
    assert route["service"] == "api"
    assert route["port"] == plan["nodes"][0]["port"]
    assert route["layers"] == ["basic_auth"]
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "docs" / "schemas" / "up-plan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(plan)

    text = net("up", "--dry-run", CLOUDFLARE_API_TOKEN="")
    assert text.returncode == 0, text.stderr
    assert "tunnels:" in text.stdout
    assert "https://web-shop.example.com" in text.stdout
    assert SECRET not in run.stdout + run.stderr + text.stdout + text.stderr
    assert net.api_state()["requests"] == []


def test_basic_auth_from_the_environment_is_never_echoed(net, origin):
    run = net("--json", "--dry-run", "tunnel", "expose", origin.port, "--name", "web", "--zone",
              "example.com", DEVX_BASIC_AUTH=f"alice:{SECRET}")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["dry_run"] is True
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.parametrize("args", [["expose", "70000"], ["expose", "80", "--throttle", "4g"],
                                  ["unexpose"], ["unexpose", "x", "--all"]])
def test_bad_tunnel_arguments_are_usage_errors(net, args):
    run = net("--json", "tunnel", *args)
    assert run.returncode == 2, run.stderr
    assert json.loads(run.stdout)["error"]["code"] == "invalid_argument"


def test_unexpose_of_an_unknown_exposure_is_not_found(net):
    run = net("--json", "tunnel", "unexpose", "nothing.example.com")
    assert run.returncode == 6, run.stderr
    assert json.loads(run.stdout)["error"]["code"] == "not_found"


# ---- the inspector ------------------------------------------------------------------------------


def test_inspect_records_lists_and_replays(net, origin):
    proc = net.start("tunnel", "inspect", origin.port, "--session", "e2e")
    try:
        line = ""
        deadline = time.monotonic() + 30
        while "through http://" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line, "the inspector ended early"
        proxy = line.split("through ")[1].split(" ")[0]
        with urllib.request.urlopen(proxy + "/hello?x=1", timeout=10) as response:
            assert response.status == 200
        assert wait_for(lambda: json.loads(net("--json", "tunnel", "inspect", "--list",
                                               "--session", "e2e").stdout)["exchanges"])
    finally:
        code, _, err = stop(proc)
    assert code == 0, err

    exchanges = json.loads(net("--json", "tunnel", "inspect", "--list", "--session",
                               "e2e").stdout)["exchanges"]
    assert [(x["method"], x["status"]) for x in exchanges] == [("GET", 200)]
    assert exchanges[0]["url"].endswith("/hello?x=1")
    before = len(origin.received)
    replay = net("--json", "tunnel", "inspect", "--replay", exchanges[0]["id"], "--session", "e2e")
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["response"]["status"] == 200
    assert len(origin.received) == before + 1 and origin.received[-1]["path"] == "/hello?x=1"


# ---- webhooks -----------------------------------------------------------------------------------


def test_webhook_catch_records_lists_and_replays(net, origin):
    proc = net.start("--json", "webhook", "catch", "--port", "0", "--session", "hooks")
    try:
        listening = read_events(proc, lambda e: e.get("type") == "state"
                                and (e.get("data") or {}).get("url"))
        url = listening["data"]["url"]
        request = urllib.request.Request(url + "/stripe?live=0", data=b'{"id":"evt_1"}',
                                         headers={"Content-Type": "application/json",
                                                  "Stripe-Signature": "t=1,v1=abc"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        read_events(proc, lambda e: e.get("type") == "progress")
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    # Stopping is the catcher's normal end: its last event says what it recorded.
    assert json.loads(out.strip().splitlines()[-1])["data"]["requests"] == 1

    listed = json.loads(net("--json", "webhook", "list", "hooks").stdout)
    [record] = listed["requests"]
    assert record["method"] == "POST" and record["target"] == "/stripe?live=0"
    assert record["body"] == '{"id":"evt_1"}'
    assert ["stripe-signature", "t=1,v1=abc"] in [[n.lower(), v] for n, v in record["headers"]]
    assert "hooks" in net("webhook", "list").stdout

    replay = net("--json", "webhook", "replay", record["id"], "--to",
                 f"http://127.0.0.1:{origin.port}")
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["response"]["status"] == 200
    assert origin.received[-1]["path"] == "/stripe?live=0"
    assert origin.received[-1]["body"] == b'{"id":"evt_1"}'


def test_webhook_replay_of_an_unknown_request_is_not_found(net):
    run = net("--json", "webhook", "replay", "nosuch.1", "--to", "http://127.0.0.1:9")
    assert run.returncode == 6, run.stdout + run.stderr


# ---- mail ---------------------------------------------------------------------------------------


def test_mail_catcher_receives_lists_shows_and_deletes(net):
    proc = net.start("--json", "mail", "--instance", "e2e", "start", "--smtp-port", "0",
                     "--http-port", "0")
    try:
        listening = read_events(proc, lambda e: e.get("type") == "state"
                                and (e.get("data") or {}).get("smtp_port"))
        data = listening["data"]
        message = EmailMessage()
        message["From"] = "app@example.com"
        message["To"] = "user@example.com"
        message["Subject"] = "Welcome aboard"
        message.set_content("Hello from the test.\n")
        with smtplib.SMTP(data["smtp_host"], data["smtp_port"], timeout=10) as smtp:
            smtp.send_message(message)
        read_events(proc, lambda e: e.get("type") == "progress")
        instances = json.loads(net("--json", "mail", "list").stdout)["instances"]
        assert [(i["instance"], i["running"]) for i in instances] == [("e2e", True)]
    finally:
        code, _, err = stop(proc)
    assert code == 0, err

    messages = json.loads(net("--json", "mail", "--instance", "e2e", "messages").stdout)
    [summary] = messages["messages"]
    assert summary["subject"] == "Welcome aboard"
    assert summary["rcpt_to"] == ["user@example.com"]
    shown = net("mail", "--instance", "e2e", "show", summary["id"])
    assert "Welcome aboard" in shown.stdout and "Hello from the test." in shown.stdout
    raw = net("mail", "--instance", "e2e", "show", summary["id"], "--raw")
    assert "Subject: Welcome aboard" in raw.stdout

    assert net("--dry-run", "mail", "--instance", "e2e", "rm", "--all").returncode == 0
    assert len(json.loads(net("--json", "mail", "--instance", "e2e",
                              "messages").stdout)["messages"]) == 1
    assert net("mail", "--instance", "e2e", "rm", "--all").returncode == 0
    assert json.loads(net("--json", "mail", "--instance", "e2e",
                          "messages").stdout)["messages"] == []


# ---- mesh and sites -----------------------------------------------------------------------------


def test_mesh_never_takes_the_auth_key_on_the_command_line(net):
    run = net("mesh", "join", "--auth-key", "tskey-auth-x")
    assert run.returncode == 2
    assert "TS_AUTHKEY" in net("mesh", "join", "--help").stdout


def test_mesh_on_a_host_without_a_vm_is_unsupported(net):
    run = net("--json", "mesh", "--provider", "host", "status")
    assert run.returncode == 15, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"]["code"] == "unsupported"


def test_sites_init_needs_a_domain(net):
    run = net("--json", "sites", "init")
    assert run.returncode == 2
