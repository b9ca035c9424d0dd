"""devx map."""
import json
import os

import pytest


@pytest.fixture
def shop(data):
    return data / "shop" / "devx.yaml"


def test_map_mermaid_default(devx, shop):
    r = devx("map", "-f", shop)
    assert r.code == 0, r.stderr
    assert r.stdout.startswith("flowchart")
    assert "web" in r.stdout and "payments" in r.stdout


def test_map_dot(devx, shop):
    r = devx("map", "--format", "dot", "-f", shop)
    assert r.code == 0, r.stderr
    assert "digraph" in r.stdout
    assert "->" in r.stdout


def test_map_json_format(devx, shop):
    r = devx("map", "--format", "json", "-f", shop)
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert isinstance(doc, dict)


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "json"])
def test_map_json_flag(devx, shop, fmt):
    r = devx("--json", "map", "--format", fmt, "-f", shop)
    assert r.code == 0, r.stderr
    doc = r.json()
    assert doc["v"] == 1
    assert doc["format"] == fmt
    if fmt == "json":
        assert isinstance(doc["map"], dict)
    else:
        assert isinstance(doc["map"], str) and "web" in doc["map"]


def test_map_bad_format(devx, shop):
    r = devx("map", "--format", "svg", "-f", shop)
    assert r.code == 2
    r = devx("--json", "map", "--format", "svg", "-f", shop)
    assert r.code == 2
    assert r.json()["error"]["code"] == "invalid_argument"


def test_map_walks_up(devx, data):
    r = devx("map", cwd=data / "shop" / "web")
    assert r.code == 0, r.stderr
    assert "payments" in r.stdout


def test_map_output_file(devx, shop, tmp_path):
    out = tmp_path / "TOPOLOGY.md"
    r = devx("map", "-f", shop, "-o", out)
    assert r.code == 0, r.stderr
    assert r.stdout == ""
    assert f"Topology written to {out}" in r.stderr
    text = out.read_text()
    assert text.startswith("# shop — Architecture Topology")
    assert "```mermaid" in text
    # Nothing but the document is left in the directory (the write went through a temp file).
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "devx-home") == ["TOPOLOGY.md"]


def test_map_output_relative_path_is_reported_absolute(devx, shop, tmp_path):
    r = devx("map", "-f", shop, "-o", "map.md", cwd=tmp_path)
    assert r.code == 0, r.stderr
    assert f"Topology written to {tmp_path / 'map.md'}" in r.stderr


def test_map_output_dot_is_raw(devx, shop, tmp_path):
    out = tmp_path / "map.dot"
    r = devx("map", "--format", "dot", "-f", shop, "-o", out)
    assert r.code == 0, r.stderr
    assert out.read_text().lstrip().startswith("digraph")


def test_map_output_replaces_existing_file(devx, shop, tmp_path):
    out = tmp_path / "TOPOLOGY.md"
    out.write_text("old")
    assert devx("map", "-f", shop, "-o", out).code == 0
    assert out.read_text().startswith("# shop")


def test_map_output_json(devx, shop, tmp_path):
    out = tmp_path / "TOPOLOGY.md"
    r = devx("--json", "map", "-f", shop, "-o", out)
    assert r.code == 0, r.stderr
    assert r.json() == {"v": 1, "written": str(out)}
    assert out.exists()


def test_map_output_dry_run_writes_nothing(devx, shop, tmp_path):
    out = tmp_path / "TOPOLOGY.md"
    r = devx("--dry-run", "map", "-f", shop, "-o", out)
    assert r.code == 0, r.stderr
    assert not out.exists()
    assert str(out) in r.stderr
    assert "would write" in r.stderr.lower()
    r = devx("--dry-run", "--json", "map", "-f", shop, "-o", out)
    assert r.code == 0, r.stderr
    doc = r.json()
    assert doc["dry_run"] is True
    assert doc["would_write"] == str(out)
    assert not out.exists()


def test_map_output_into_missing_directory_is_io_error(devx, shop, tmp_path):
    r = devx("--json", "map", "-f", shop, "-o", tmp_path / "no" / "such" / "dir" / "m.md")
    assert r.code == 5
    assert r.json()["error"]["code"] == "io"


def test_map_broken_config(devx, data):
    r = devx("--json", "map", "-f", data / "broken" / "devx.yaml")
    assert r.code == 4
    assert r.json()["error"]["details"]["diagnostics"]


def test_map_quiet_suppresses_status(devx, shop, tmp_path):
    out = tmp_path / "m.md"
    r = devx("--quiet", "map", "-f", shop, "-o", out)
    assert r.code == 0
    assert r.stderr == ""
    assert out.exists()
