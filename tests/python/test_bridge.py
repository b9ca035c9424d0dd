"""The Kubernetes bridge from Python (``devx.bridge``): the pure functions, status on an empty
DEVX_HOME, strict options, and a real connect session through the fake kubectl
(tests/fakes/kubectl) relaying to a local HTTP server."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

import devx

ROOT = Path(__file__).resolve().parents[2]
FAKE_KUBECTL = ROOT / "tests" / "fakes" / "kubectl"

needs_fake_kubectl = pytest.mark.skipif(
    not os.access(FAKE_KUBECTL, os.X_OK),
    reason=f"the fake kubectl {FAKE_KUBECTL} does not exist yet",
)


def test_abi_version_has_the_bridge() -> None:
    assert devx.abi_version() >= 3


# ---- pure functions ------------------------------------------------------------------------------


def test_rbac_yaml_namespaced_has_role_and_binding() -> None:
    text = devx.bridge.rbac_yaml("team-a")
    assert "kind: Role" in text and "kind: RoleBinding" in text
    assert "namespace: team-a" in text
    assert "rules:" in text and "services" in text and "patch" in text
    assert "ClusterRole" not in text


def test_rbac_yaml_without_namespace_is_cluster_wide() -> None:
    text = devx.bridge.rbac_yaml()
    assert "kind: ClusterRole" in text and "kind: ClusterRoleBinding" in text
    assert devx.bridge.rbac_yaml("") == text


def test_rbac_yaml_parses_as_yaml() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed in this environment")
    docs = [d for d in yaml.safe_load_all(devx.bridge.rbac_yaml("team-a")) if d is not None]
    kinds = {d["kind"] for d in docs}
    assert {"Role", "RoleBinding"} <= kinds
    role = next(d for d in docs if d["kind"] == "Role")
    assert role["metadata"]["namespace"] == "team-a"
    resources = {r for rule in role["rules"] for r in rule.get("resources", [])}
    assert "services" in resources
    binding = next(d for d in docs if d["kind"] == "RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


@pytest.mark.parametrize(
    "service, namespace, with_namespace, expected",
    [
        ("payments-api", "", False, "BRIDGE_PAYMENTS_API"),
        ("payments-api", "team.a", False, "BRIDGE_PAYMENTS_API"),
        ("payments-api", "team.a", True, "BRIDGE_PAYMENTS_API_TEAM_A"),
        ("redis", "default", True, "BRIDGE_REDIS_DEFAULT"),
    ],
)
def test_env_prefix_is_the_one_formula(service: str, namespace: str, with_namespace: bool,
                                       expected: str) -> None:
    assert devx.bridge.env_prefix(service, namespace, with_namespace) == expected


# ---- state on an empty DEVX_HOME -----------------------------------------------------------------


def test_status_on_an_empty_home(ctx: devx.Context) -> None:
    assert devx.bridge.status(context=ctx) == {"v": 1, "active": False, "sessions": []}
    assert devx.bridge.environment(context=ctx) == {}
    stopped = devx.bridge.disconnect(context=ctx, wait=0)
    assert stopped["v"] == 1 and stopped["sessions"] == []


# ---- strict options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"targets": [{"service": "a", "port": "80"}]}, '"targets[0].port" must be an int'),
        ({"targets": [{"service": "a", "port": True}]}, '"targets[0].port" must be an int'),
        ({"targets": [{"service": "a", "port": 80, "localport": 1}]},
         'unknown key "targets[0].localport"'),
        ({"targets": [{"service": "a", "port": 2**40}]}, '"targets[0].port" is out of range'),
        ({"targets": {"service": "a"}}, '"targets" must be a list'),
        ({"targets": [], "kube": {"kubeconfg": "/x"}}, 'unknown key "kube.kubeconfg"'),
        ({"targets": [], "kube": {"kubectl": 1}}, '"kube.kubectl" must be a str'),
        ({"targets": [], "namespace": 7}, '"namespace" must be a str'),
    ],
)
def test_connect_rejects_bad_options_naming_the_field(ctx: devx.Context, kwargs: Dict[str, Any],
                                                      field: str) -> None:
    with pytest.raises(devx.InvalidArgumentError) as info:
        devx.bridge.connect(context=ctx, **kwargs)
    assert field in info.value.message
    assert info.value.code == "invalid_argument"


def test_intercept_and_doctor_reject_bad_options(ctx: devx.Context) -> None:
    with pytest.raises(devx.InvalidArgumentError, match=r'unknown key "ports\[0\]\.locl"'):
        devx.bridge.intercept("api", ports=[{"remote": 80, "locl": 1}], context=ctx)
    with pytest.raises(devx.InvalidArgumentError, match=r'"grace_s" must be an int'):
        devx.bridge.intercept("api", grace_s=1.5, context=ctx)
    with pytest.raises(devx.InvalidArgumentError, match=r'"repair" must be a bool'):
        devx.bridge.doctor(repair="yes", context=ctx)
    with pytest.raises(TypeError):
        devx.bridge.connect([], mode="steal", context=ctx)


# ---- a real session through the fake kubectl -----------------------------------------------------


class _Fixture(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = b"fixture says hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fixture_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fixture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _configure_fake(state: Path, service: str, namespace: str, port: int,
                    fixture_port: int) -> None:
    """Seeds the fake cluster (layout in tests/fakes/kubefake/__init__.py) with Service <service>
    exposing <port>, which `kubectl port-forward svc/…` relays to 127.0.0.1:<fixture_port>."""
    services = state / namespace / "service"
    services.mkdir(parents=True, exist_ok=True)
    (services / f"{service}.json").write_text(json.dumps({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": service, "namespace": namespace},
        "spec": {"type": "ClusterIP", "selector": {"app": service},
                 "ports": [{"name": "http", "port": port, "targetPort": port,
                            "protocol": "TCP"}]},
    }))
    forward = state / "_forward" / namespace
    forward.mkdir(parents=True, exist_ok=True)
    (forward / f"{service}.json").write_text(json.dumps({str(port): f"127.0.0.1:{fixture_port}"}))


def _mutating_calls(state: Path) -> List[List[str]]:
    """The calls the fake recorded that change the cluster."""
    log = state / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    calls = [json.loads(line)["argv"] for line in lines]
    return [argv for argv in calls if {"apply", "patch", "delete"} & set(argv)]


@pytest.fixture
def kube_ctx(tmp_path: Path) -> Iterator[devx.Context]:
    """A live context whose environment sends kubectl children to the fake's state."""
    env = dict(os.environ, FAKE_KUBE_STATE=str(tmp_path / "kube"))
    with devx.Context(devx_home=tmp_path / "devx-home", env=env) as context:
        yield context


def _wait_forwarding(session: devx.BridgeSession, timeout: float = 30.0) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, event = session.next_event(0.1)
        if status == "end":
            session.result()  # raises the session's error
            pytest.fail("the connect session ended before forwarding")
        if status == "event" and event is not None and event.type == "state":
            data: Optional[Dict[str, Any]] = event.data
            if data is not None and data.get("state") == "forwarding":
                return data
    pytest.fail(f"no 'forwarding' state event within {timeout} s")


@needs_fake_kubectl
def test_connect_forwards_traffic_and_cleans_up(tmp_path: Path, kube_ctx: devx.Context,
                                                fixture_server: int) -> None:
    _configure_fake(tmp_path / "kube", "payments-api", "team-a", 8080, fixture_server)
    kube: devx.KubeSettings = {"kubectl": str(FAKE_KUBECTL)}
    with devx.bridge.connect([{"service": "payments-api", "port": 8080}], namespace="team-a",
                             kube=kube, context=kube_ctx) as session:
        assert isinstance(session, devx.Operation)
        data = _wait_forwarding(session)
        assert data["service"] == "payments-api" and data["namespace"] == "team-a"
        assert data["remote_port"] == 8080
        local_port = int(data["local_port"])

        with urllib.request.urlopen(f"http://127.0.0.1:{local_port}/", timeout=10) as reply:
            assert reply.status == 200
            assert reply.read() == b"fixture says hello"

        status = devx.bridge.status(context=kube_ctx)
        assert status["active"] is True
        assert len(status["sessions"]) == 1
        assert "payments-api" in json.dumps(status) and str(local_port) in json.dumps(status)

        env = devx.bridge.environment(context=kube_ctx)
        assert env["BRIDGE_PAYMENTS_API_PORT"] == str(local_port)
        assert str(local_port) in env["BRIDGE_PAYMENTS_API_URL"]
        assert env["BRIDGE_PAYMENTS_API_HOST"] in ("127.0.0.1", "localhost")

    # Leaving the block cancelled the session and waited for its cleanup.
    assert session.done()
    assert devx.bridge.status(context=kube_ctx) == {"v": 1, "active": False, "sessions": []}
    assert devx.bridge.environment(context=kube_ctx) == {}
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", local_port), timeout=2).close()


@needs_fake_kubectl
def test_intercept_dry_run_returns_a_plan_and_records_nothing(tmp_path: Path) -> None:
    state = tmp_path / "kube"
    _configure_fake(state, "payments-api", "team-a", 8080, 9)
    home = tmp_path / "devx-home"
    env = dict(os.environ, FAKE_KUBE_STATE=str(state))
    with devx.Context(devx_home=home, env=env, dry_run=True) as ctx:
        session = devx.bridge.intercept("payments-api", namespace="team-a",
                                        ports=[{"remote": 8080, "local": 9000}],
                                        kube={"kubectl": str(FAKE_KUBECTL)}, context=ctx)
        assert session.wait(30), "a dry-run intercept must end by itself"
        plan = session.result()
        assert plan["v"] == 1
        assert "payments-api" in json.dumps(plan)
        assert devx.bridge.status(context=ctx)["sessions"] == []
    assert not (home / "bridge").exists() or not any((home / "bridge").iterdir())
    assert _mutating_calls(state) == []
