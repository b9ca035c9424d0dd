"""The stubs type-check a small usage sample under `mypy --strict` (skipped without mypy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = '''
import asyncio
import devx

def names(path: str) -> list[str]:
    project: devx.Project = devx.Project.load(path, profile="ci")
    ports: list[int | None] = [s.port for s in project.services]
    deps: list[str] = [d.condition for s in project.services for d in s.depends_on]
    return [s.name for s in project.services] + [str(p) for p in ports] + deps

def problems(path: str) -> list[str]:
    try:
        devx.Project.load(path)
    except devx.ConfigError as e:
        return [f"{e.file}:{e.line}:{e.column}"] + [d.message for d in e.diagnostics]
    except devx.Error as e:
        return [e.code, e.hint]
    return [str(d) for d in devx.validate(path)]

async def main(path: str) -> str:
    with devx.Context(devx_home="/tmp/x") as ctx:
        op: devx.Operation[devx.Project] = ctx.start_load(path)
        for ev in op.events():
            print(ev.type, ev.message)
        p = await devx.Project.load_async(path, context=ctx)
        return p.render_map("dot") + op.result().to_json() + devx.config_schema()

def session_states(project: devx.Project) -> list[str]:
    plan: dict[str, object] = devx.plan(project, only=["api"])
    with devx.up(project, keep_going=False) as session:
        statuses: list[devx.ServiceStatus] = session.status()
        restarted: devx.ServiceStatus = session.restart("api")
        for ev in session.events(timeout=0.5):
            print(ev.type, ev.source, ev.message)
        pids: list[int] = [s.pid for s in statuses] + [restarted.pid]
        return [s.state for s in statuses] + [str(p) for p in pids] + [str(plan["v"])]

async def session_async(project: devx.Project) -> int:
    session = devx.up(project)
    statuses = await session.up_async()
    async for ev in session.aevents():
        print(ev.type)
        break
    await session.down_async()
    session.close()
    return len(statuses)

asyncio.run(main("."))
'''


def test_mypy_strict_accepts_a_usage_sample(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    sample = tmp_path / "sample.py"
    sample.write_text(SAMPLE)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version",
         f"{sys.version_info.major}.{sys.version_info.minor}", str(sample)],
        capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
