"""`devx butane` and `devx vm ignition` end to end: Butane → Ignition through the CLI, byte for
byte what the library's golden files hold, 0600 output files, and diagnostics as
`file:line:col: error: message` with exit 4."""
import json
import shutil
import stat
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "butane"

DOC = """\
variant: fcos
version: 1.5.0
passwd:
  users:
    - name: core
      ssh_authorized_keys:
        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl e2e
storage:
  files:
    - path: /etc/hostname
      mode: 0644
      contents:
        inline: e2e-host
"""

UNKNOWN_KEY = """\
variant: fcos
version: 1.5.0
storage:
  files:
    - path: /etc/motd
      contnets:
        inline: hi
"""

DECIMAL_MODE = """\
variant: fcos
version: 1.5.0
storage:
  files:
    - path: /etc/motd
      mode: 644
      contents:
        inline: hi
"""

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl e2e@test"


def check_document(ign):
    assert ign["ignition"]["version"] == "3.4.0"
    assert ign["passwd"]["users"][0]["name"] == "core"
    files = {f["path"]: f for f in ign["storage"]["files"]}
    assert files["/etc/hostname"]["mode"] == 0o644
    assert files["/etc/hostname"]["contents"]["source"] == "data:,e2e-host"


def test_compiles_a_file_to_stdout_as_indented_ignition(devx, tmp_path):
    (tmp_path / "c.bu").write_text(DOC)
    r = devx("butane", "c.bu", cwd=tmp_path)
    assert r.code == 0, r.stderr
    check_document(json.loads(r.stdout))
    assert r.stdout.startswith('{\n  "ignition": {\n    "version": "3.4.0"')
    assert r.stdout.endswith("}\n")


def test_compact_output_is_one_line(devx, tmp_path):
    (tmp_path / "c.bu").write_text(DOC)
    r = devx("butane", "--compact", "c.bu", cwd=tmp_path)
    assert r.code == 0, r.stderr
    assert r.stdout.count("\n") == 1
    check_document(json.loads(r.stdout))


def test_reads_standard_input(devx, tmp_path):
    dash = devx("butane", "-", stdin=DOC, cwd=tmp_path)
    assert dash.code == 0, dash.stderr
    check_document(json.loads(dash.stdout))
    bare = devx("butane", stdin=DOC, cwd=tmp_path)
    assert bare.code == 0, bare.stderr
    assert bare.stdout == dash.stdout


def test_output_file_is_written_owner_only_and_matches_stdout(devx, tmp_path):
    (tmp_path / "c.bu").write_text(DOC)
    out = tmp_path / "out" / "c.ign"
    out.parent.mkdir()
    r = devx("butane", "c.bu", "-o", out, cwd=tmp_path)
    assert r.code == 0, r.stderr
    assert r.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() == devx("butane", "c.bu", cwd=tmp_path).stdout
    assert [p.name for p in out.parent.iterdir()] == ["c.ign"]  # no temporary left behind

    # Replacing an existing, world-readable file leaves an owner-only one.
    out.chmod(0o644)
    assert devx("butane", "c.bu", "-o", out, cwd=tmp_path).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_dry_run_with_output_writes_nothing(devx, tmp_path):
    (tmp_path / "c.bu").write_text(DOC)
    r = devx("--dry-run", "butane", "c.bu", "-o", "c.ign", cwd=tmp_path)
    assert r.code == 0, r.stderr
    assert "would write: " in r.stdout
    assert not (tmp_path / "c.ign").exists()


def test_output_is_byte_identical_to_the_library_golden(devx):
    # The corpus of the library's golden test (tests/unit/ignition/butane_golden_test.cpp): strict,
    # --files-dir files/, compact when the document says "# devx-test: compact".
    pairs = sorted((bu, bu.with_suffix(".ign")) for bu in CORPUS.glob("*.bu"))
    assert (CORPUS / "files.bu", CORPUS / "files.ign") in pairs
    for source, golden in pairs:
        args = ["butane", source.name, "--strict", "--files-dir", "files"]
        if "# devx-test: compact" in source.read_text():
            args.append("--compact")
        r = devx(*args, cwd=CORPUS)
        assert r.code == 0, (source, r.stderr)
        assert r.stdout == golden.read_text(), source


def test_unknown_key_is_reported_at_its_line_and_column_with_exit_4(devx, tmp_path):
    (tmp_path / "bad.bu").write_text(UNKNOWN_KEY)
    r = devx("butane", "bad.bu", cwd=tmp_path)
    assert r.code == 4
    assert r.stdout == ""
    assert "bad.bu:6:7: error:" in r.stderr
    assert "contnets" in r.stderr


def test_json_error_document_carries_the_diagnostics(devx, tmp_path):
    (tmp_path / "bad.bu").write_text(UNKNOWN_KEY)
    r = devx("--json", "butane", "bad.bu", cwd=tmp_path)
    assert r.code == 4
    error = r.json()["error"]
    assert error["code"] == "config_invalid"
    [diagnostic] = [d for d in error["details"]["diagnostics"] if d["severity"] == "error"]
    assert diagnostic["file"] == "bad.bu"
    assert (diagnostic["line"], diagnostic["column"]) == (6, 7)
    assert "contnets" in diagnostic["message"]


def test_stdin_diagnostics_name_stdin(devx, tmp_path):
    r = devx("butane", stdin=UNKNOWN_KEY, cwd=tmp_path)
    assert r.code == 4
    assert "<stdin>:6:7: error:" in r.stderr


def test_strict_turns_a_warning_into_an_error(devx, tmp_path):
    (tmp_path / "w.bu").write_text(DECIMAL_MODE)
    lenient = devx("butane", "w.bu", cwd=tmp_path)
    assert lenient.code == 0, lenient.stderr
    assert "w.bu:6:13: warning:" in lenient.stderr
    assert json.loads(lenient.stdout)["storage"]["files"][0]["mode"] == 644

    strict = devx("butane", "--strict", "w.bu", cwd=tmp_path)
    assert strict.code == 4
    assert strict.stdout == ""
    assert "w.bu:6:13: error:" in strict.stderr


def test_missing_input_file_is_an_io_error(devx, tmp_path):
    r = devx("butane", "nope.bu", cwd=tmp_path)
    assert r.code == 5
    assert "nope.bu" in r.stderr


def test_vm_ignition_prints_the_dev_machine_config_with_the_key(devx, tmp_path):
    key_file = tmp_path / "id.pub"
    key_file.write_text(KEY + "\n")
    r = devx("vm", "ignition", "--hostname", "test-vm", "--ssh-key", key_file, cwd=tmp_path)
    assert r.code == 0, r.stderr
    ign = json.loads(r.stdout)
    assert ign["ignition"]["version"] == "3.4.0"
    users = {u["name"]: u for u in ign["passwd"]["users"]}
    assert KEY in users["core"]["sshAuthorizedKeys"]
    # Without tunnel or Tailscale values, no secret file is in the config.
    paths = [f["path"] for f in ign.get("storage", {}).get("files", [])]
    assert not any("credentials" in p or "tailscale" in p.lower() for p in paths), paths

    j = devx("--json", "vm", "ignition", "--hostname", "test-vm", "--ssh-key", key_file)
    assert j.code == 0, j.stderr
    doc = j.json()
    assert doc["ignition"] == ign
    assert doc["hostname"] == "test-vm"


def test_vm_ignition_refuses_a_private_key_and_a_bad_hostname(devx, tmp_path):
    private = tmp_path / "id"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
    r = devx("vm", "ignition", "--hostname", "test-vm", "--ssh-key", private)
    assert r.code == 2
    assert "private key" in r.stderr
    assert "AAAA" not in r.stderr

    key_file = tmp_path / "id.pub"
    key_file.write_text(KEY + "\n")
    bad = devx("vm", "ignition", "--hostname", "bad host\nname", "--ssh-key", key_file)
    assert bad.code == 2
    assert bad.stdout == ""


@pytest.mark.skipif(not (shutil.which("podman") or shutil.which("docker")),
                    reason="the host provider needs podman or docker on this machine")
def test_vm_group_options_may_follow_the_subcommand(devx, tmp_path):
    key_file = tmp_path / "id.pub"
    key_file.write_text(KEY + "\n")
    before = devx("vm", "--provider", "host", "--name", "e2e-vm", "ignition", "--ssh-key", key_file)
    after = devx("vm", "ignition", "--ssh-key", key_file, "--provider", "host", "--name", "e2e-vm")
    assert before.code == 0, before.stderr
    assert after.code == 0, after.stderr
    assert before.stdout == after.stdout
    files = {f["path"]: f for f in json.loads(after.stdout)["storage"]["files"]}
    assert files["/etc/hostname"]["contents"]["source"] == "data:,e2e-vm%0A"
