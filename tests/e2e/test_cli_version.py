"""devx version, global flags and usage errors."""
import re


def test_version_human(devx):
    r = devx("version")
    assert r.code == 0, r.stderr
    assert re.fullmatch(r"devx \d+\.\d+\.\d+ \(abi \d+\)\n", r.stdout)


def test_version_json(devx):
    r = devx("--json", "version")
    assert r.code == 0, r.stderr
    doc = r.json()
    assert doc["v"] == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+", doc["version"])
    assert isinstance(doc["abi_version"], int) and doc["abi_version"] >= 1
    assert doc["cli_version"] == doc["version"]


def test_json_flag_after_the_command(devx):
    r = devx("version", "--json")
    assert r.code == 0, r.stderr
    assert r.json()["v"] == 1


def test_version_flag_matches_command(devx):
    assert devx("--version").stdout == devx("version").stdout


def test_unknown_command_is_a_usage_error(devx):
    r = devx("frobnicate")
    assert r.code == 2
    assert r.stdout == ""
    assert "error:" in r.stderr


def test_unknown_command_json_error(devx):
    r = devx("--json", "frobnicate")
    assert r.code == 2
    err = r.json()["error"]
    assert err["code"] == "invalid_argument"
    assert err["message"]
    assert "--help" in err["hint"]
    assert err["details"] == {}


def test_unknown_flag_json_error(devx):
    r = devx("version", "--bogus", "--json")
    assert r.code == 2
    assert r.json()["error"]["code"] == "invalid_argument"


def test_missing_subcommand_is_a_usage_error(devx):
    assert devx().code == 2
    r = devx("--json", "config")
    assert r.code == 2
    assert r.json()["error"]["code"] == "invalid_argument"


def test_help_exits_zero(devx):
    r = devx("--help")
    assert r.code == 0
    assert "config" in r.stdout and "map" in r.stdout
