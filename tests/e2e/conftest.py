"""Shared fixtures for the `devx` CLI end-to-end tests.

The binary comes from $DEVX_BIN (ctest sets it to the built target), else the default preset's
build tree. Every run gets a private DEVX_HOME and NO_COLOR unset unless a test sets it.
"""
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "e2e"
DEFAULT_BIN = REPO / "build" / "default" / "tools" / "devx-cli" / "devx"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        """stdout as exactly one JSON document (json.loads rejects anything around it)."""
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def devx_bin() -> Path:
    path = Path(os.environ.get("DEVX_BIN", DEFAULT_BIN)).resolve()
    if not path.is_file():
        pytest.fail(f"devx binary not found at {path} (set DEVX_BIN)")
    return path


@pytest.fixture(scope="session")
def data() -> Path:
    return DATA


@pytest.fixture
def devx(devx_bin, tmp_path):
    home = tmp_path / "devx-home"

    def run(*args, cwd=None, env=None, stdin=None) -> Result:
        full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "DEVX_HOME")}
        full_env["DEVX_HOME"] = str(home)
        full_env.update(env or {})
        proc = subprocess.run(
            [str(devx_bin), *map(str, args)],
            cwd=str(cwd) if cwd else None,
            env=full_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run
