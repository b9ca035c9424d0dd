"""Operations: the sync handle, asyncio integration through the event fd, cancellation."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import List

import pytest

import devx


def _fifo_project(tmp_path: Path) -> Path:
    """A devx.yaml that is a FIFO: the load blocks until the test writes it, so cancellation can
    be observed deterministically."""
    fifo = tmp_path / "devx.yaml"
    os.mkfifo(fifo)
    return fifo


def _feed(fifo: Path) -> None:
    with open(fifo, "w") as f:
        f.write("name: late\nservices:\n  - name: a\n    command: ['true']\n")


def test_sync_operation_events_wait_result(ctx: devx.Context, data: Path) -> None:
    op = ctx.start_load(data / "multi", "ci")
    assert op.kind == "project.load"
    events = list(op.events())
    assert events and all(isinstance(e, devx.Event) for e in events)
    assert {e.type for e in events} == {"progress"}
    assert events[0].source == "config"
    assert op.wait(5.0) and op.done()
    project = op.result()
    assert isinstance(project, devx.Project)
    assert project.active_profile == "ci"
    assert op.result_json() == project.to_json()
    assert op.next_event() == ("end", None)


def test_operation_failure_raises_the_typed_error(ctx: devx.Context, data: Path) -> None:
    op = devx.Project.load_start(data / "typo", context=ctx)
    assert op.wait(10.0)
    with pytest.raises(devx.ConfigError) as info:
        op.result()
    assert (info.value.line, info.value.column) == (5, 5)


def test_cancel_makes_the_operation_fail_with_cancelled(ctx: devx.Context, tmp_path: Path) -> None:
    fifo = _fifo_project(tmp_path)
    op = ctx.start_load(fifo)
    assert not op.wait(0.05)
    op.cancel()
    _feed(fifo)
    with pytest.raises(devx.CancelledError) as info:
        op.result()
    assert info.value.code == "cancelled" and info.value.status == 9


def test_load_async(ctx: devx.Context, data: Path) -> None:
    seen: List[devx.Event] = []

    async def main() -> devx.Project:
        return await devx.Project.load_async(data / "multi", "ci", context=ctx,
                                             on_event=seen.append)

    project = asyncio.run(main())
    assert project.name == "shop" and project.active_profile == "ci"
    assert seen and seen[0].type == "progress"


def test_load_async_uses_no_extra_threads(ctx: devx.Context, data: Path) -> None:
    async def main() -> int:
        before = threading.active_count()
        await asyncio.gather(*(devx.load_async(data / "multi", context=ctx) for _ in range(10)))
        return threading.active_count() - before

    assert asyncio.run(main()) == 0


def test_async_iteration_and_concurrent_loads(ctx: devx.Context, data: Path) -> None:
    async def main() -> None:
        op = ctx.start_load(data / "multi")
        events = [e async for e in op]
        assert events
        assert op.result().name == "shop"
        projects = await asyncio.gather(
            devx.Project.load_async(data / "multi", context=ctx),
            devx.Project.load_async(data / "multi", "ci", context=ctx),
            devx.Project.load_async(data / "multi", "local", context=ctx),
        )
        assert [p.active_profile for p in projects] == ["", "ci", "local"]
        with pytest.raises(devx.ConfigError):
            await devx.Project.load_async(data / "dep_cycle", context=ctx)

    asyncio.run(main())


def test_async_task_cancellation_cancels_the_operation(ctx: devx.Context, tmp_path: Path) -> None:
    fifo = _fifo_project(tmp_path)

    async def main() -> devx.Operation[devx.Project]:
        op = ctx.start_load(fifo)
        task = asyncio.ensure_future(op.result_async())
        await asyncio.sleep(0.05)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return op

    op = asyncio.run(main())
    _feed(fifo)  # unblock the worker so it can observe the cancellation
    with pytest.raises(devx.CancelledError):
        op.result()


def test_default_context_is_used_when_none_is_given(data: Path) -> None:
    project = asyncio.run(devx.load_async(data / "multi"))
    assert project.name == "shop"
    assert devx.default_context() is devx.default_context()


def test_context_options_and_close(tmp_path: Path, data: Path) -> None:
    home = tmp_path / "home"
    context = devx.Context(devx_home=home, env={"DEVX_TEST": "1"}, dry_run=True)
    assert context.home == home
    assert context.env == {"DEVX_TEST": "1"}
    assert context.dry_run is True
    assert context.event_fd() >= 0
    context.close()
    context.close()
    assert context.closed
    with pytest.raises(devx.InvalidArgumentError):
        context.start_load(data / "multi")
