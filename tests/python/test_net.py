"""Tunnels, edge proxies, the mesh, sites, webhooks and mail from Python (``devx.tunnel``,
``devx.edge``, ``devx.mesh``, ``devx.sites``, ``devx.webhook``, ``devx.mail``). Traffic is real
(loopback HTTP and SMTP); the tunnel cases run against the fake Cloudflare API and the fake
cloudflared of tests/fakes."""

from __future__ import annotations

import base64
import http.server
import json
import os
import smtplib
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import devx

ROOT = Path(__file__).resolve().parents[2]
FAKES = ROOT / "tests" / "fakes"
TOKEN = "cf-python-token-Secr3t"


def wait_for(condition: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


@pytest.fixture
def origin() -> Iterator[Dict[str, Any]]:
    """An HTTP server on 127.0.0.1 recording what it receives and answering 200 "origin"."""
    received: List[Dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, "headers": dict(self.headers),
                             "body": self.rfile.read(length) if length else b""})
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"origin")

        do_GET = do_POST = handle_any

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"port": server.server_address[1], "received": received}
    server.shutdown()
    server.server_close()


@pytest.fixture
def cloudflare(tmp_path: Path) -> Iterator[Dict[str, Any]]:
    """The fake Cloudflare API (zone example.com) and an environment that reaches it."""
    state = tmp_path / "api.json"
    url_file = tmp_path / "api.url"
    api = subprocess.Popen([sys.executable, str(FAKES / "cloudflare_api.py"), "--state",
                            str(state), "--url-file", str(url_file), "--token", TOKEN, "--zone",
                            "example.com"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: url_file.exists() and url_file.read_text().strip())
    (tmp_path / "home").mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "DEVX_TUNNEL_ZONE")}
    env.update({"PATH": f"{FAKES}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "HOME": str(tmp_path / "home"), "FAKE_LOG": str(tmp_path / "fake.log"),
                "DEVX_CLOUDFLARE_API_URL": url_file.read_text().strip()})
    yield {"env": env, "state": state}
    api.terminate()
    api.wait(timeout=10)


def test_abi_version_has_the_networking_domains() -> None:
    assert devx.abi_version() >= 5


def test_options_are_checked_like_the_c_abi(ctx: devx.Context) -> None:
    with pytest.raises(devx.InvalidArgumentError, match='"cloudflare.api_urll"'):
        bad: Any = {"api_urll": "x"}
        devx.tunnel.unexpose("x", cloudflare=bad, context=ctx)
    with pytest.raises(devx.InvalidArgumentError, match='"port" must be an integer'):
        devx.webhook.catch(port="80", context=ctx)  # type: ignore[arg-type]
    with pytest.raises(devx.InvalidArgumentError):
        devx.edge.plan(80, basic_auth="no-colon", context=ctx)


def test_dns_labels_and_throttle_profiles() -> None:
    assert devx.tunnel.dns_label("My_App..v2") == "my-app-v2"
    with pytest.raises(devx.InvalidArgumentError):
        devx.tunnel.dns_label("___")
    assert devx.edge.throttle_profile("edge")["bytes_per_second"] == 50 * 1024
    assert set(devx.edge.throttle_profiles()) == {"3g", "edge", "slow"}


def test_tunnel_expose_status_unexpose_through_the_fake_api(tmp_path: Path,
                                                            cloudflare: Dict[str, Any],
                                                            origin: Dict[str, Any]) -> None:
    settings: devx.CloudflareSettings = {"api_token": TOKEN}
    with devx.Context(devx_home=tmp_path / "devx-home", env=cloudflare["env"]) as ctx:
        op = devx.tunnel.expose(origin["port"], name="py", zone="example.com",
                                cloudflare=settings, context=ctx)
        result = op.result()
        exposure = result.get("exposure", result)
        assert exposure["hostname"] == "py.example.com"
        status = devx.tunnel.status(context=ctx)
        assert [e["hostname"] for e in status["exposures"]] == ["py.example.com"]
        removed = devx.tunnel.unexpose("py.example.com", cloudflare=settings, context=ctx)
        assert removed["removed"]
        assert devx.tunnel.status(context=ctx)["exposures"] == []
    records = json.loads(cloudflare["state"].read_text())["dns_records"]
    assert [r for rs in records.values() for r in rs] == []
    # The token reached the API in the request header only: never a command line.
    log = tmp_path / "fake.log"
    if log.exists():
        assert TOKEN not in log.read_text()


def test_basic_auth_proxy_strips_the_header(ctx: devx.Context, origin: Dict[str, Any]) -> None:
    with devx.edge.proxy(origin["port"], basic_auth="alice:pa:ss", context=ctx) as proxy:
        assert proxy.port > 0
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(proxy.url + "/x", timeout=10)
        assert denied.value.code == 401
        token = base64.b64encode(b"alice:pa:ss").decode()
        request = urllib.request.Request(proxy.url + "/ok",
                                         headers={"Authorization": f"Basic {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.read() == b"origin"
        assert "Authorization" not in origin["received"][-1]["headers"]
        assert proxy.status()["stats"]["rejected"] == 1


def test_inspector_captures_and_replays(ctx: devx.Context, origin: Dict[str, Any]) -> None:
    with devx.edge.proxy(origin["port"], inspect=True, session="py-inspect",
                         context=ctx) as proxy:
        assert proxy.session == "py-inspect"
        body = b"x" * 200_000
        request = urllib.request.Request(proxy.url + "/upload", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert origin["received"][-1]["body"] == body
        exchanges = wait_for(lambda: devx.edge.captures("py-inspect", context=ctx)["exchanges"])
    assert [(x["method"], x["status"]) for x in exchanges] == [("POST", 200)]
    full = devx.edge.capture(exchanges[0]["id"], session="py-inspect", context=ctx)
    assert full["request"]["body_bytes"] == len(body)
    before = len(origin["received"])
    replayed = devx.edge.replay(exchanges[0]["id"], session="py-inspect", context=ctx)
    assert replayed["response"]["status"] == 200
    assert len(origin["received"]) == before + 1
    assert devx.edge.remove("py-inspect", context=ctx)["removed"] is True


def test_webhook_catch_list_replay(ctx: devx.Context, origin: Dict[str, Any]) -> None:
    with devx.webhook.catch(port=0, session="py-hooks", context=ctx) as catcher:
        url = ""
        for event in catcher.events():
            if event.type == "state" and event.data and event.data.get("url"):
                url = event.data["url"]
                break
        request = urllib.request.Request(url + "/gh", data=b"{}",
                                         headers={"X-GitHub-Event": "push"})
        urllib.request.urlopen(request, timeout=10).read()
        wait_for(lambda: devx.webhook.list("py-hooks", context=ctx)["requests"])
    [record] = devx.webhook.list("py-hooks", context=ctx)["requests"]
    assert record["path"] == "/gh"
    assert ["x-github-event", "push"] in [[n.lower(), v] for n, v in record["headers"]]
    replayed = devx.webhook.replay(record["id"], f"http://127.0.0.1:{origin['port']}",
                                   context=ctx)
    assert replayed["response"]["status"] == 200
    assert {k.lower(): v for k, v in origin["received"][-1]["headers"].items()}[
        "x-github-event"] == "push"


def test_mail_catcher_receives_and_deletes(ctx: devx.Context) -> None:
    with devx.mail.catcher(instance="py", smtp_port=0, http_port=0, context=ctx) as catcher:
        data: Dict[str, Any] = {}
        for event in catcher.events():
            if event.type == "state" and event.data and event.data.get("smtp_port"):
                data = event.data
                break
        assert devx.mail.environment("py", context=ctx)["SMTP_PORT"] == str(data["smtp_port"])
        message = EmailMessage()
        message["From"] = "a@example.com"
        message["To"] = "b@example.com"
        message["Subject"] = "hi from python"
        message.set_content("body\n")
        with smtplib.SMTP("127.0.0.1", data["smtp_port"], timeout=10) as smtp:
            smtp.send_message(message)
        wait_for(lambda: devx.mail.messages("py", context=ctx)["messages"])
    [summary] = devx.mail.messages("py", context=ctx)["messages"]
    assert summary["subject"] == "hi from python"
    assert devx.mail.message(summary["id"], instance="py", context=ctx)["headers"]["to"] == \
        "b@example.com"
    assert b"Subject: hi from python" in devx.mail.raw(summary["id"], instance="py", context=ctx)
    assert devx.mail.delete(instance="py", context=ctx)["deleted"] == [summary["id"]]


def test_mesh_on_the_host_is_unsupported(ctx: devx.Context) -> None:
    with pytest.raises(devx.UnsupportedError):
        devx.mesh.status(provider="host", context=ctx)


def test_closing_the_context_stops_its_proxies(tmp_path: Path, origin: Dict[str, Any]) -> None:
    context = devx.Context(devx_home=tmp_path / "devx-home")
    proxy = devx.edge.proxy(origin["port"], throttle="3g", context=context)
    port = proxy.port
    context.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
