"""Shared fixtures of the Python binding tests (run against the installed `devx` package)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import devx

DATA = Path(__file__).resolve().parents[1] / "data" / "bindings"


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[devx.Context]:
    with devx.Context(devx_home=tmp_path / "devx-home") as context:
        yield context
