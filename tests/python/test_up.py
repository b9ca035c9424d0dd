"""Sessions (`devx up`) from Python, with real host processes (python3 http.server)."""

from __future__ import annotations

import asyncio
import errno
import os
import time
import urllib.request
from pathlib import Path
from typing import List

import pytest

import devx


def _gone(pid: int, within: float = 5.0) -> bool:
    """True once kill(pid, 0) fails with ESRCH (the process is gone and reaped)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError as e:
            if e.errno == errno.ESRCH:
                return True
        time.sleep(0.01)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


@pytest.fixture
def project(data: Path) -> devx.Project:
    return devx.load(data / "up")


@pytest.fixture
def failing(data: Path) -> devx.Project:
    return devx.load(data / "up-fail")


def test_with_up_brings_services_up_and_down(ctx: devx.Context, project: devx.Project) -> None:
    with devx.up(project, context=ctx) as session:
        status = session.status()
        assert [s.name for s in status] == ["api", "web"]
        assert all(isinstance(s, devx.ServiceStatus) for s in status)
        assert {s.state for s in status} == {"healthy"}
        pids = [s.pid for s in status]
        assert all(pid > 0 and _alive(pid) for pid in pids)
        # The services really answer on their (possibly shifted) ports.
        for s in status:
            assert s.port is not None and s.runtime == "host" and s.kind == "service"
            with urllib.request.urlopen(f"http://127.0.0.1:{s.port}/", timeout=5) as r:
                assert r.status == 200
        assert session.status_dict()["project"] == "bindings-up"
        # Events: state changes of both services, and the line `web` printed.
        seen: List[devx.Event] = []
        for event in session.events(timeout=2.0):
            seen.append(event)
            if any(e.type == "log" and "web starting" in e.message for e in seen):
                break
        assert any(e.type == "state" and e.source == "api" for e in seen)
        assert any(e.type == "log" and e.source == "web" for e in seen)
        assert any(e.type == "state" and e.data and e.data.get("state") == "healthy"
                   for e in seen)
    assert session.closed
    assert all(_gone(pid) for pid in pids)


def test_restart_gives_a_new_process(ctx: devx.Context, project: devx.Project) -> None:
    with devx.up(project, context=ctx) as session:
        before = session.service("api")
        after = session.restart("api")
        assert isinstance(after, devx.ServiceStatus)
        assert after.restarts == before.restarts + 1
        assert after.pid > 0 and after.pid != before.pid
        assert after.state == "healthy"
        assert _gone(before.pid)
        with pytest.raises(devx.NotFoundError):
            session.restart("nope")
        pids = [s.pid for s in session.status()]
    assert all(_gone(pid) for pid in pids)


def test_down_on_exception_leaves_no_process(ctx: devx.Context, project: devx.Project) -> None:
    pids: List[int] = []
    with pytest.raises(RuntimeError, match="boom"):
        with devx.up(project, context=ctx) as session:
            pids = [s.pid for s in session.status()]
            assert all(pid > 0 for pid in pids)
            raise RuntimeError("boom")
    assert len(pids) == 2
    assert all(_gone(pid) for pid in pids)
    assert session.closed


def test_failing_service_raises_command_failed(ctx: devx.Context, failing: devx.Project) -> None:
    session = devx.up(failing, context=ctx)
    with pytest.raises(devx.CommandFailedError) as info:
        with session:
            pytest.fail("the body must not run when up fails")
    err = info.value
    assert err.code == "command_failed"
    assert err.details["node"] == "broken"
    assert err.details["exit_code"] == 3
    assert any("boom" in line for line in err.details["last_lines"])
    assert session.closed


def test_only_and_explicit_down(ctx: devx.Context, project: devx.Project) -> None:
    session = devx.up(project, only=["api"], context=ctx)
    try:
        status = session.up()
        assert [s.name for s in status] == ["api"]
        pid = status[0].pid
        stopped = session.down()
        assert [s.state for s in stopped] == ["stopped"]
        assert _gone(pid)
        # Nothing is alive and every event was taken: the iterator ends by itself.
        list(session.events())
        assert session.next_event()[0] == "end"
    finally:
        session.close()


def test_plan_is_a_dict(ctx: devx.Context, project: devx.Project) -> None:
    plan = devx.plan(project, context=ctx)
    assert plan["v"] == 1 and plan["project"] == "bindings-up"
    names = [n["name"] for n in plan["nodes"]]
    assert names == ["api", "web"]
    web = plan["nodes"][1]
    assert web["waits_for"][0]["name"] == "api"
    assert web["waits_for"][0]["condition"] == "service_healthy"
    assert "PORT" in web["env_names"]
    assert [n["name"] for n in devx.plan(project, only=["api"], context=ctx)["nodes"]] == ["api"]


def test_async_up_and_async_events(ctx: devx.Context, project: devx.Project) -> None:
    async def main() -> List[int]:
        session = devx.up(project, context=ctx)
        try:
            up_events: List[devx.Event] = []
            status = await session.up_async(on_event=up_events.append)
            assert {s.state for s in status} == {"healthy"}
            assert any(e.type == "plan" for e in up_events)
            seen: List[devx.Event] = []

            async def collect() -> None:
                async for event in session.aevents():
                    seen.append(event)
                    if event.type == "log" and "web starting" in event.message:
                        return

            await asyncio.wait_for(collect(), 10)
            assert any(e.type == "state" for e in seen)
            restarted = await session.restart_async("web")
            assert restarted.restarts == 1
            pids = [s.pid for s in session.status()]
            await session.down_async()
            return pids
        finally:
            session.close()

    pids = asyncio.run(main())
    assert all(_gone(pid) for pid in pids)


def test_async_with(ctx: devx.Context, project: devx.Project) -> None:
    async def main() -> List[int]:
        async with devx.up(project, context=ctx) as session:
            return [s.pid for s in session.status()]

    pids = asyncio.run(main())
    assert len(pids) == 2 and all(_gone(pid) for pid in pids)


def test_closing_the_context_stops_its_sessions(tmp_path: Path, project: devx.Project) -> None:
    context = devx.Context(devx_home=tmp_path / "home")
    session = devx.up(project, context=context)
    pids = [s.pid for s in session.up()]
    context.close()
    assert session.closed
    assert all(_gone(pid) for pid in pids)
