"""Broken configurations: ConfigError with the right file:line:col, and validate() without raising."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

import devx


class Case(NamedTuple):
    name: str
    file: str  # relative to the case directory
    line: int
    column: int
    message: str
    hint: str


CASES = [
    Case("typo", "devx.yaml", 5, 5, "unknown key 'depend_on'", "did you mean 'depends_on'?"),
    Case("bad_type", "devx.yaml", 5, 11, "expected an integer", ""),
    Case("dep_cycle", "devx.yaml", 6, 9, "a -> b -> c -> a", ""),
    Case("include_cycle", "child.yaml", 2, 5, "devx.yaml -> child.yaml -> devx.yaml", ""),
    Case("missing_include", "devx.yaml", 3, 5, "nowhere/devx.yaml", ""),
    Case("duplicate", "other/devx.yaml", 4, 5, "'api' is already defined", "duplicate/devx.yaml:5:5"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_load_raises_config_error_at_the_right_place(data: Path, case: Case) -> None:
    directory = data / case.name
    with pytest.raises(devx.ConfigError) as info:
        devx.Project.load(directory)
    err = info.value
    assert err.code == "config_invalid" and err.status == 4
    assert err.file == str(directory / case.file)
    assert (err.line, err.column) == (case.line, case.column)
    assert len(err.diagnostics) >= 1
    first = err.diagnostics[0]
    assert isinstance(first, devx.Diagnostic)
    assert first.severity == "error"
    assert case.message in first.message
    assert case.hint in first.hint
    assert str(first).startswith(f"{directory / case.file}:{case.line}:{case.column}: error:")
    assert err.details["diagnostics"][0]["line"] == case.line


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_returns_the_same_diagnostics_without_raising(data: Path, case: Case) -> None:
    directory = data / case.name
    diagnostics = devx.validate(directory)
    assert diagnostics == devx.Project.validate(directory)
    errors = [d for d in diagnostics if d.severity == "error"]
    assert errors, diagnostics
    assert (errors[0].file, errors[0].line, errors[0].column) == (
        str(directory / case.file), case.line, case.column)
    with pytest.raises(devx.ConfigError) as info:
        devx.Project.load(directory)
    assert info.value.diagnostics == diagnostics


def test_validate_of_a_good_project_has_no_errors(data: Path) -> None:
    assert [d for d in devx.validate(data / "multi") if d.severity == "error"] == []
    assert [d for d in devx.validate(data / "multi", profile="ci") if d.severity == "error"] == []


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "devx.yaml").write_text(
        "name: many\n"
        "servics: []\n"
        "services:\n"
        "  - name: api\n"
        "    port: 99999\n"
        "    depends_on:\n"
        "      - name: ghost\n"
    )
    diagnostics = devx.validate(tmp_path)
    errors = [d for d in diagnostics if d.severity == "error"]
    assert len(errors) >= 3, diagnostics
    assert errors == sorted(errors, key=lambda d: (d.file, d.line, d.column))
    assert any("servics" in d.message and "services" in d.hint for d in errors)
    assert any("99999" in d.message and "out of range" in d.message for d in errors)
    assert any("ghost" in d.message for d in errors)


def test_validate_without_a_project_raises_config_not_found(tmp_path: Path) -> None:
    with pytest.raises(devx.ConfigNotFoundError):
        devx.validate(tmp_path / "missing")
