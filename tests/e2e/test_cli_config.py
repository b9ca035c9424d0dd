"""devx config validate | show."""
import json
import re

import pytest


def test_validate_good(devx, data):
    r = devx("config", "validate", "-f", data / "shop" / "devx.yaml")
    assert r.code == 0, r.stderr
    assert "✓" in r.stdout
    assert re.search(r"devx\.yaml is valid \(2 services, 2 databases\)", r.stdout)


def test_validate_good_json(devx, data):
    r = devx("--json", "config", "validate", "-f", data / "shop" / "devx.yaml")
    assert r.code == 0, r.stderr
    doc = r.json()
    assert doc["v"] == 1
    assert doc["ok"] is True
    assert doc["file"] == str(data / "shop" / "devx.yaml")
    assert isinstance(doc["diagnostics"], list)
    assert (doc["services"], doc["databases"]) == (2, 2)
    assert "error" not in doc


def test_validate_broken_human(devx, data):
    r = devx("config", "validate", "-f", data / "broken" / "devx.yaml")
    assert r.code == 4
    assert r.stdout == ""
    # file:line:col: error: message, for the unknown key on line 6.
    assert re.search(r"broken/devx\.yaml:6:\d+: error: .*depends_onn", r.stderr), r.stderr
    assert "error:" in r.stderr
    assert "\033[" not in r.stderr  # not a TTY: no colour


def test_validate_broken_json(devx, data):
    r = devx("--json", "config", "validate", "-f", data / "broken" / "devx.yaml")
    assert r.code == 4
    err = r.json()["error"]
    assert err["code"] == "config_invalid"
    assert err["message"]
    diags = err["details"]["diagnostics"]
    assert len(diags) == 2, diags
    for d in diags:
        assert set(d) >= {"severity", "file", "line", "column", "message", "hint"}
        assert d["file"].endswith("broken/devx.yaml")
    assert any(d["line"] == 6 and "depends_onn" in d["message"] for d in diags)
    assert any(d["hint"] == "did you mean 'depends_on'?" for d in diags)


def test_show_broken_json_error_document(devx, data):
    r = devx("config", "show", "--json", "-f", data / "broken" / "devx.yaml")
    assert r.code == 4
    err = r.json()["error"]
    assert err["code"] == "config_invalid"
    assert set(err) >= {"code", "message", "hint", "details"}
    diag = err["details"]["diagnostics"][0]
    assert set(diag) >= {"severity", "file", "line", "column", "message", "hint"}


def test_show_broken_human_prints_diagnostics_and_error(devx, data):
    r = devx("config", "show", "-f", data / "broken" / "devx.yaml")
    assert r.code == 4
    assert r.stdout == ""
    assert re.search(r"devx\.yaml:6:\d+: error:", r.stderr)
    assert re.search(r"^error: ", r.stderr, re.M)


def test_validate_walks_up_from_a_subdirectory(devx, data):
    r = devx("config", "validate", cwd=data / "shop" / "web" / "src")
    assert r.code == 0, r.stderr
    assert "is valid" in r.stdout
    assert "Using devx.yaml from" in r.stderr
    assert str(data / "shop") in r.stderr


def test_no_devx_yaml_is_config_not_found(devx, tmp_path):
    r = devx("--json", "config", "validate", cwd=tmp_path)
    assert r.code == 3
    assert r.json()["error"]["code"] == "config_not_found"


def test_missing_file_flag_is_config_not_found(devx, tmp_path):
    r = devx("config", "validate", "-f", tmp_path / "nope.yaml")
    assert r.code == 3
    assert "nope.yaml" in r.stderr


def test_show_yaml_is_the_default(devx, data):
    r = devx("config", "show", "-f", data / "shop" / "devx.yaml")
    assert r.code == 0, r.stderr
    assert "shop" in r.stdout
    assert "payments" in r.stdout  # from the included file
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.stdout)


def test_show_json_format(devx, data):
    r = devx("config", "show", "--format", "json", "-f", data / "shop" / "devx.yaml")
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["v"] == 1
    assert doc["name"] == "shop"


def test_show_json_flag(devx, data):
    r = devx("--json", "config", "show", "-f", data / "shop" / "devx.yaml")
    assert r.code == 0, r.stderr
    doc = r.json()
    names = {s["name"] for s in doc["services"]}
    assert names == {"web", "payments"}


def test_show_bad_format_is_a_usage_error(devx, data):
    r = devx("--json", "config", "show", "--format", "toml", "-f", data / "shop" / "devx.yaml")
    assert r.code == 2
    assert r.json()["error"]["code"] == "invalid_argument"


def _web_port(doc):
    return next(s for s in doc["services"] if s["name"] == "web")["port"]


def test_profile_applies(devx, data):
    base = devx("--json", "config", "show", "-f", data / "shop" / "devx.yaml").json()
    ci = devx("--json", "config", "show", "--profile", "ci", "-f", data / "shop" / "devx.yaml").json()
    assert _web_port(base) == 8080
    assert _web_port(ci) == 9090


def test_unknown_profile_fails(devx, data):
    r = devx("--json", "config", "validate", "--profile", "nope", "-f", data / "shop" / "devx.yaml")
    assert r.code != 0
    doc = r.json()
    assert "nope" in json.dumps(doc)
