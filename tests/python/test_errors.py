"""The exception hierarchy: one class per stable error code, derived from the library's table."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import devx
from devx import _devx

STUB = Path(devx.__file__).with_name("__init__.pyi")


def test_every_code_has_its_subclass() -> None:
    codes = dict((name, status) for status, name in _devx.error_codes())
    assert codes["config_invalid"] == 4 and codes["cancelled"] == 9
    for name, status in codes.items():
        cls = devx.error_class(name)
        assert issubclass(cls, devx.Error) and cls is not devx.Error
        assert cls.code == name and cls.status == status
    assert devx.error_class("config_invalid") is devx.ConfigError is devx.ConfigInvalidError
    assert devx.error_class("config_not_found") is devx.ConfigNotFoundError
    assert devx.error_class("invalid_argument") is devx.InvalidArgumentError
    assert devx.error_class("timeout") is devx.TimeoutError
    assert devx.error_class("cancelled") is devx.CancelledError
    assert devx.error_class("no_such_code") is devx.Error


def test_error_fields_and_str() -> None:
    err = devx.InvalidArgumentError("bad flag", hint="use --json", details={"flag": "x"})
    assert isinstance(err, devx.Error) and isinstance(err, Exception)
    assert err.code == "invalid_argument" and err.status == 2
    assert err.message == "bad flag" and err.hint == "use --json"
    assert err.details == {"flag": "x"}
    assert str(err) == "bad flag (hint: use --json)"


def test_config_error_without_diagnostics_has_no_location() -> None:
    err = devx.ConfigError("broken")
    assert err.diagnostics == [] and err.file is None and err.line is None


def test_stub_declares_every_runtime_error_class() -> None:
    tree = ast.parse(STUB.read_text())
    declared = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    runtime = {devx._class_name(code) for _, code in _devx.error_codes()} - {"ConfigInvalidError"}
    assert runtime <= declared | {"ConfigInvalidError"}
    for name in runtime:
        assert hasattr(devx, name)


def test_stub_declares_every_public_name() -> None:
    tree = ast.parse(STUB.read_text())
    declared = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            declared.add(node.name)
        elif isinstance(node, ast.Assign):
            declared.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
    missing = set(devx.__all__) - declared
    assert not missing, missing


def test_native_errors_are_translated_with_details(data: Path) -> None:
    with pytest.raises(devx.ConfigError) as info:
        devx.Project.load(data / "typo")
    err = info.value
    assert type(err) is devx.ConfigError
    assert err.details["diagnostics"][0]["message"].startswith("unknown key")
    assert "depends_on" in err.hint or "depends_on" in err.diagnostics[0].hint
