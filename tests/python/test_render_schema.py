"""Map rendering and the JSON Schema of devx.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import devx


def test_render_map_formats(data: Path) -> None:
    p = devx.Project.load(data / "multi", profile="ci")
    mermaid = p.render_map()
    assert mermaid == p.render_map("mermaid")
    assert mermaid.startswith("flowchart")
    assert "api" in mermaid and "payments" in mermaid and "redis" in mermaid
    dot = p.render_map("dot")
    assert dot.lstrip().startswith("digraph")
    graph = json.loads(p.render_map("json"))
    assert isinstance(graph, dict)
    assert "shop" in p.render_map_document()


def test_render_map_rejects_unknown_formats(data: Path) -> None:
    p = devx.Project.load(data / "multi")
    with pytest.raises(devx.InvalidArgumentError) as info:
        p.render_map("svg")
    assert "svg" in info.value.message
    assert "mermaid" in info.value.hint


def test_config_schema_is_json_schema_of_devx_yaml() -> None:
    schema = json.loads(devx.config_schema())
    assert "$schema" in schema
    assert "services" in schema["properties"]
    assert devx.config_schema() == devx.config_schema()
