"""`devx bridge` end to end: the devx CLI, the faithful fake kubectl (tests/fakes/kubectl, with
its fake API server) and the real agent binary, which the fake starts when the agent Job is
unsuspended. Traffic is real TCP: "cluster" clients connect to the agent's listen ports, local
servers answer through the Yamux tunnel over the fake `kubectl port-forward` relay."""
import errno
import json
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKES = REPO / "tests" / "fakes"


class Echo(socketserver.ThreadingTCPServer):
    """Answers "<tag>:<what it read>" and then closes (after reading EOF: half-close works)."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, tag):
        self.tag = tag

        class Handler(socketserver.BaseRequestHandler):
            def handle(inner):
                data = b""
                while True:
                    chunk = inner.request.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                inner.request.sendall(self.tag.encode() + b":" + data)

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]


def exchange(port, payload=b"hello", timeout=10):
    """Sends payload, half-closes, returns all bytes received. A refused stream may be reset by
    the agent before our half-close: that is the same answer as a close without data."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        out = b""
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk
        except (ConnectionResetError, BrokenPipeError):
            return out
        except OSError as e:
            if e.errno == errno.ENOTCONN:
                return out
            raise


def wait_until(predicate, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    def __init__(self, tmp_path, devx_bin, agent_bin):
        self.state = tmp_path / "cluster"
        self.state.mkdir()
        bindir = tmp_path / "bin"
        bindir.mkdir()
        (bindir / "kubectl").symlink_to(FAKES / "kubectl")
        self.home = tmp_path / "devx-home"
        self.devx_bin = devx_bin
        self.env = {k: v for k, v in os.environ.items() if k not in ("DEVX_HOME", "KUBECONFIG")}
        self.env.update({
            "PATH": f"{bindir}:{os.environ['PATH']}",
            "FAKE_KUBE_STATE": str(self.state),
            "FAKE_KUBE_AGENT_BIN": str(agent_bin),
            "DEVX_HOME": str(self.home),
        })

    def kubectl(self, *args, stdin=None, check=True):
        proc = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True,
                              env=self.env, timeout=30)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {args}: {proc.stderr}")
        return proc

    def apply(self, obj):
        self.kubectl("apply", "-f", "-", "-o", "json", stdin=json.dumps(obj))

    def get(self, kind, name, ns="default"):
        proc = self.kubectl("get", kind, name, "-n", ns, "-o", "json", check=False)
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    def service(self, name, selector, ports, ns="default", annotations=None):
        obj = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
               "spec": {"selector": selector, "ports": ports}}
        self.apply(obj)

    def forward_to(self, service, port, address, ns="default"):
        path = self.state / "_forward" / ns
        path.mkdir(parents=True, exist_ok=True)
        (path / f"{service}.json").write_text(json.dumps({str(port): address}))

    def agent_port(self, listen_port, ns="default"):
        """The local port the fake gave the agent's listen port (the pod's targetPort)."""
        def find():
            for record in (self.state / "_agents" / ns).glob("*.json"):
                ports = json.loads(record.read_text()).get("ports", {})
                if str(listen_port) in ports:
                    return ports[str(listen_port)]
            return None
        return wait_until(find, what="the agent to start")

    def objects(self, kind, ns="default"):
        d = self.state / ns / kind
        return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []

    def devx(self, *args, check=None, timeout=60):
        proc = subprocess.run([str(self.devx_bin), *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout)
        if check is not None:
            assert proc.returncode == check, proc.stderr
        return proc

    def start(self, *args):
        """A foreground session with --json: events as JSON Lines on stdout."""
        proc = subprocess.Popen([str(self.devx_bin), "--json", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)
        events = []
        lock = threading.Lock()

        def read():
            for line in proc.stdout:
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                with lock:
                    events.append(doc)
        threading.Thread(target=read, daemon=True).start()

        def wait_event(pred, what, timeout=90):
            def found():
                with lock:
                    for e in events:
                        data = e.get("data") or {}
                        if pred(e, data):
                            return e
                if proc.poll() is not None:
                    time.sleep(0.2)
                    with lock:
                        tail = events[-3:]
                    raise AssertionError(f"devx ended ({proc.returncode}) before {what}: "
                                         f"{proc.stderr.read()} {tail}")
                return None
            return wait_until(found, timeout, what)
        def count(pred):
            with lock:
                return sum(1 for e in events if pred(e, e.get("data") or {}))
        proc.wait_event = wait_event
        proc.count = count
        return proc

    def kill_processes(self, *words):
        """SIGKILLs this cluster's fake kubectl processes whose argv holds all `words` (other tests
        may run their own fakes at the same time)."""
        killed = 0
        marker = f"FAKE_KUBE_STATE={self.state}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
                environ = (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ and all(w.encode() in argv for w in words):
                try:
                    os.kill(int(proc.name), signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
        return killed

    def shutdown(self):
        self.kubectl("fake-shutdown", check=False)


@pytest.fixture
def agent_bin():
    path = os.environ.get("DEVX_BRIDGE_AGENT_BIN")
    if not path or not Path(path).is_file():
        pytest.fail("set DEVX_BRIDGE_AGENT_BIN to the built devx-bridge-agent")
    return Path(path)


@pytest.fixture
def cluster(tmp_path, devx_bin, agent_bin):
    c = Cluster(tmp_path, devx_bin, agent_bin)
    yield c
    c.shutdown()


def stop(proc, sig=signal.SIGINT):
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


# ---- connect ----

def test_connect_forwards_status_env_and_disconnect(cluster):
    upstream = Echo("payments")
    cluster.service("payments-api", {"app": "payments"}, [{"name": "http", "port": 8080, "targetPort": 8080}])
    cluster.forward_to("payments-api", 8080, f"127.0.0.1:{upstream.port}")
    proc = cluster.start("bridge", "connect", "-t", "payments-api:8080")
    event = proc.wait_event(lambda e, d: d.get("state") == "forwarding", "forwarding")
    port = event["data"]["local_port"]
    assert exchange(port, b"ping") == b"payments:ping"

    status = json.loads(cluster.devx("bridge", "status", "--json", check=0).stdout)
    assert status["active"] is True
    [session] = status["sessions"]
    assert session["status"] == "live" and session["forwards"][0]["local_port"] == port
    env = json.loads(cluster.devx("bridge", "env", "--json", check=0).stdout)["env"]
    assert env["BRIDGE_PAYMENTS_API_URL"] == f"http://127.0.0.1:{port}"

    # disconnect asks the session to stop; it ends by itself and forgets its record.
    out = json.loads(cluster.devx("bridge", "disconnect", "--json", check=0).stdout)
    assert out["sessions"][0]["result"] == "stopped"
    assert proc.wait(timeout=30) == 0
    assert json.loads(cluster.devx("bridge", "status", "--json", check=0).stdout)["sessions"] == []
    # kubectl was passed no --kubeconfig: $KUBECONFIG stays kubectl's business.
    calls = [json.loads(l)["argv"] for l in (cluster.state / "calls.log").read_text().splitlines()]
    forwards = [a for a in calls if "port-forward" in a]
    assert forwards and all("--kubeconfig" not in a for a in forwards)
    assert all("--address" in a for a in forwards)


def test_connect_missing_service_is_not_found(cluster):
    r = cluster.devx("--json", "bridge", "connect", "-t", "nope:80")
    assert r.returncode == 6, r.stderr
    # A session's --json output is its event stream; the error is the last line.
    assert json.loads(r.stdout.splitlines()[-1])["error"]["code"] == "not_found"


def test_connect_dry_run_plans_without_running(cluster):
    r = cluster.devx("--json", "--dry-run", "bridge", "connect", "-t", "payments-api:8080:9999", check=0)
    plan = json.loads(r.stdout)
    argv = plan["actions"][0]["argv"]
    assert argv[:3] == ["kubectl", "port-forward", "svc/payments-api"] and "9999:8080" in argv
    assert not (cluster.state / "calls.log").exists()


# ---- intercept ----

USERS_PORTS = [{"name": "http", "port": 80, "targetPort": 8080},
               {"name": "metrics", "port": 9090, "targetPort": 9090}]


def intercept(cluster, *extra):
    local = Echo("local")
    cluster.service("users", {"app": "users", "tier": "backend"}, USERS_PORTS)
    proc = cluster.start("-y", "bridge", "intercept", "users", "--port", f"80:{local.port}",
                         "--port", "9090:-", "--grace", "2s", *extra)
    proc.wait_event(lambda e, d: d.get("state") == "active", "the intercept to be active")
    return proc, local


def test_intercept_routes_traffic_and_restores_everything(cluster):
    proc, _ = intercept(cluster)
    svc = cluster.get("service", "users")
    sid = svc["metadata"]["annotations"]["devx.dev/bridge-session"]
    assert svc["spec"]["selector"] == {"devx.dev/bridge-session": sid}
    assert json.loads(svc["metadata"]["annotations"]["devx.dev/original-selector"]) == {"app": "users", "tier": "backend"}
    # The agent listens on the targetPort; the mapped port reaches the local server (half-close
    # included), the refused one is closed without data.
    assert exchange(cluster.agent_port(8080), b"GET /") == b"local:GET /"
    assert exchange(cluster.agent_port(9090), b"x") == b""
    # Owned objects exist, the token is in a Secret and in no argv.
    assert cluster.objects("job") == [f"devx-bridge-agent-{sid}"]
    assert cluster.objects("secret") == [f"devx-bridge-agent-{sid}"]
    token = json.loads((cluster.state / "default" / "secret" / f"devx-bridge-agent-{sid}.json").read_text())
    calls = (cluster.state / "calls.log").read_text()
    secret_value = (token.get("stringData") or token.get("data"))["token"]
    assert secret_value not in calls

    assert stop(proc) == 0
    svc = cluster.get("service", "users")
    assert svc["spec"]["selector"] == {"app": "users", "tier": "backend"}
    assert "devx.dev/bridge-session" not in (svc["metadata"].get("annotations") or {})
    for kind in ("job", "secret", "serviceaccount", "role", "rolebinding"):
        assert cluster.objects(kind) == [], kind
    assert json.loads(cluster.devx("bridge", "status", "--json", check=0).stdout)["sessions"] == []


def test_killed_client_agent_restores_the_service(cluster):
    proc, _ = intercept(cluster)
    proc.kill()  # SIGKILL: no teardown; kubectl dies with it (PDEATHSIG), the tunnel drops
    proc.wait()

    def restored():
        svc = cluster.get("service", "users")
        return svc["spec"]["selector"] == {"app": "users", "tier": "backend"}
    wait_until(restored, timeout=60, what="the agent to restore the selector")
    svc = cluster.get("service", "users")
    assert "devx.dev/original-selector" not in (svc["metadata"].get("annotations") or {})
    # The stale local record is reported, and disconnect cleans up what is left.
    status = json.loads(cluster.devx("bridge", "status", "--json", check=0).stdout)
    assert [s["status"] for s in status["sessions"]] == ["stale"]
    cluster.devx("bridge", "disconnect", check=0)
    assert cluster.objects("job") == []


def test_dropped_port_forward_reconnects(cluster):
    proc, _ = intercept(cluster)
    port = cluster.agent_port(8080)
    assert exchange(port, b"one") == b"local:one"
    # Kill the port-forward to the agent: the supervisor restarts it, the tunnel re-authenticates.
    assert cluster.kill_processes("port-forward", "pod/devx-bridge-agent") > 0
    proc.wait_event(lambda e, d: d.get("state") == "reconnecting", "reconnecting")
    active = lambda e, d: d.get("state") == "active"  # noqa: E731
    wait_until(lambda: proc.count(active) >= 2, what="the intercept to be active again")

    def flows():
        try:
            return exchange(port, b"two", timeout=5) == b"local:two"
        except OSError:
            return False
    wait_until(flows, timeout=30, what="new connections to flow again")
    assert stop(proc) == 0
    assert cluster.get("service", "users")["spec"]["selector"] == {"app": "users", "tier": "backend"}


def test_polluted_selector_is_refused_before_anything_is_deployed(cluster):
    cluster.service("users", {"app": "users", "devx-bridge": "agent"}, USERS_PORTS)
    r = cluster.devx("--json", "-y", "bridge", "intercept", "users")
    assert r.returncode == 17, r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["error"]["code"] == "conflict"
    assert cluster.objects("job") == []


def test_doctor_repairs_a_hijacked_service(cluster):
    cluster.service("users", {"devx.dev/bridge-session": "deadbeef"}, USERS_PORTS,
                    annotations={"devx.dev/bridge-session": "deadbeef",
                                 "devx.dev/original-selector": json.dumps({"app": "users"})})
    r = cluster.devx("--json", "bridge", "doctor")
    assert r.returncode == 17, r.stderr
    [finding] = json.loads(r.stdout)["findings"]
    assert finding["kind"] == "hijacked-service" and finding["session"] == "deadbeef"
    r = cluster.devx("--json", "-y", "bridge", "doctor", "--repair", check=0)
    assert json.loads(r.stdout)["findings"][0]["repair"] == "repaired"
    svc = cluster.get("service", "users")
    assert svc["spec"]["selector"] == {"app": "users"}
    assert "devx.dev/bridge-session" not in (svc["metadata"].get("annotations") or {})
    assert json.loads(cluster.devx("--json", "bridge", "doctor", check=0).stdout)["findings"] == []


def test_rbac_is_applyable_yaml_on_stdout(cluster):
    yaml = pytest.importorskip("yaml")
    r = cluster.devx("bridge", "rbac", "-n", "staging", check=0)
    docs = [d for d in yaml.safe_load_all(r.stdout) if d]
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["Role", "RoleBinding"]
    role = next(d for d in docs if d["kind"] == "Role")
    rules = {(g, res, v) for rule in role["rules"] for g in rule["apiGroups"]
             for res in rule["resources"] for v in rule["verbs"]}
    assert ("", "pods/portforward", "create") in rules
    assert ("", "services", "patch") in rules
    assert ("batch", "jobs", "create") in rules
    assert "RBAC" in r.stderr  # the banner is on stderr, never in the YAML


# ---- devx up ----

def test_up_with_a_bridge_target_gives_dependents_its_variables(cluster, tmp_path):
    upstream = Echo("payments")
    cluster.service("payments-api", {"app": "payments"}, [{"port": 8080, "targetPort": 8080}], ns="staging")
    cluster.forward_to("payments-api", 8080, f"127.0.0.1:{upstream.port}", ns="staging")
    project = tmp_path / "proj"
    project.mkdir()
    out = project / "seen.txt"
    (project / "devx.yaml").write_text(f"""
name: hybrid
bridge:
  namespace: staging
services:
  - name: payments
    runtime: bridge
    bridge_target: {{service: payments-api, port: 8080}}
  - name: client
    command: "echo $BRIDGE_PAYMENTS_API_URL > {out}; exec sleep 600"
    depends_on: [payments]
""")
    plan = json.loads(cluster.devx("--json", "--dry-run", "up", "-f", str(project / "devx.yaml"), check=0).stdout)
    payments = plan["nodes"][0]
    assert payments["runtime"] == "bridge" and payments["argv"][:2] == ["kubectl", "port-forward"]
    cluster.devx("up", "-d", "-f", str(project / "devx.yaml"), check=0, timeout=120)
    try:
        url = wait_until(lambda: out.exists() and out.read_text().strip(), what="the client to start")
        port = int(url.rsplit(":", 1)[1])
        assert port == payments["port"] or port > 0
        assert exchange(port, b"up") == b"payments:up"
    finally:
        cluster.devx("down", "-f", str(project / "devx.yaml"), check=0, timeout=120)


def test_up_with_a_bridge_intercept_and_down_restores(cluster, tmp_path):
    local = Echo("local")
    cluster.service("users", {"app": "users"}, [{"name": "http", "port": 80, "targetPort": 8080}])
    project = tmp_path / "proj"
    project.mkdir()
    (project / "devx.yaml").write_text(f"""
name: hybrid
bridge: {{}}
services:
  - name: users-intercept
    runtime: bridge
    bridge_intercept: {{service: users, port: 80, local_port: {local.port}}}
""")
    yaml_file = str(project / "devx.yaml")
    plan = json.loads(cluster.devx("--json", "--dry-run", "up", "-f", yaml_file, check=0).stdout)
    assert plan["nodes"][0]["bridge"] == f"intercept default/users:80 → 127.0.0.1:{local.port}"
    cluster.devx("up", "-d", "-f", yaml_file, check=0, timeout=180)
    try:
        svc = cluster.get("service", "users")
        assert list(svc["spec"]["selector"]) == ["devx.dev/bridge-session"]
        assert exchange(cluster.agent_port(8080), b"via up") == b"local:via up"
        sessions = json.loads(cluster.devx("bridge", "status", "--json", check=0).stdout)["sessions"]
        assert [s["origin"] for s in sessions] == ["up"]
    finally:
        cluster.devx("down", "-f", yaml_file, check=0, timeout=180)
    assert cluster.get("service", "users")["spec"]["selector"] == {"app": "users"}
    assert cluster.objects("job") == []


def test_intercept_dry_run_reads_but_changes_nothing(cluster):
    cluster.service("users", {"app": "users"}, USERS_PORTS)
    r = cluster.devx("--json", "--dry-run", "bridge", "intercept", "users", check=0)
    plan = json.loads(r.stdout)
    kinds = [a["kind"] for a in plan["actions"]]
    assert kinds == ["apply", "apply", "patch", "wait", "command", "patch"]
    swap = plan["actions"][-1]["patch"]
    assert swap[0]["op"] == "test" and swap[0]["path"] == "/spec/selector"
    assert "<generated>" in r.stdout  # the token is not part of a plan
    assert cluster.objects("job") == [] and cluster.objects("secret") == []
    assert cluster.get("service", "users")["spec"]["selector"] == {"app": "users"}
    human = cluster.devx("--dry-run", "bridge", "intercept", "users", check=0)
    assert "swap the selector of Service users" in human.stdout
