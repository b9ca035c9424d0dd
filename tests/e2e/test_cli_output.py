"""Output conventions: one JSON document with --json, colour rules."""
import os
import pty
import select
import subprocess

import pytest

CASES = [
    ["version"],
    ["config", "validate", "-f", "{shop}"],
    ["config", "validate", "-f", "{broken}"],
    ["config", "show", "-f", "{shop}"],
    ["config", "show", "-f", "{broken}"],
    ["map", "-f", "{shop}"],
    ["map", "--format", "dot", "-f", "{shop}"],
    ["map", "-f", "{broken}"],
    ["map", "-f", "{shop}", "-o", "{tmp}/m.md"],
    ["--dry-run", "map", "-f", "{shop}", "-o", "{tmp}/d.md"],
    ["config", "validate", "-f", "{tmp}/missing.yaml"],
    ["no-such-command"],
    ["map", "--no-such-flag"],
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a))
def test_json_stdout_is_exactly_one_document(devx, data, tmp_path, args):
    subst = {"shop": data / "shop" / "devx.yaml", "broken": data / "broken" / "devx.yaml",
             "tmp": tmp_path}
    argv = [a.format(**subst) for a in args]
    r = devx("--json", *argv)
    doc = r.json()  # raises on extra text before/after the document
    assert isinstance(doc, dict)
    assert r.stdout.count("\n") == 1  # one line: nothing else was printed
    if r.code == 0:
        assert "error" not in doc or doc.get("ok") is not None
    else:
        assert doc["error"]["code"]


def _run_on_tty(devx_bin, args, env_extra):
    """Runs devx with stdout and stderr on a pseudo-terminal; returns the combined output."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(env_extra)
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(devx_bin), *map(str, args)], stdout=slave, stderr=slave,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 10)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=30)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode()


def test_colour_on_a_tty(devx_bin, data):
    code, out = _run_on_tty(devx_bin, ["config", "validate", "-f", data / "broken" / "devx.yaml"],
                            {"TERM": "xterm"})
    assert code == 4
    assert "\033[" in out


def test_no_color_env_is_respected(devx_bin, data):
    code, out = _run_on_tty(devx_bin, ["config", "validate", "-f", data / "broken" / "devx.yaml"],
                            {"NO_COLOR": "1", "TERM": "xterm"})
    assert code == 4
    assert "error" in out
    assert "\033[" not in out


def test_no_color_flag_is_respected(devx_bin, data):
    code, out = _run_on_tty(devx_bin, ["--no-color", "config", "validate", "-f",
                                       data / "shop" / "devx.yaml"], {"TERM": "xterm"})
    assert code == 0
    assert "is valid" in out
    assert "\033[" not in out


def test_no_colour_when_piped(devx, data):
    r = devx("config", "validate", "-f", data / "broken" / "devx.yaml")
    assert "\033[" not in r.stderr + r.stdout
