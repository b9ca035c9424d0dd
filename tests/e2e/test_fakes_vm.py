"""The fake VM tools (tests/fakes/{podman,limactl,colima,orb,docker}) against the behaviour of the
real tools they stand for: exit codes, error texts and JSON shapes recorded from podman 4.3,
limactl 0.20, colima 0.6, OrbStack and docker 24. Needs no devx build. Tests that run commands
inside a VM need real podman containers and skip (with the reason) where podman cannot run them.
"""
import base64
import json
import os
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "fakes"))
from vmfake.testing import FakeVmEnv, sandbox_unavailable_reason  # noqa: E402


@pytest.fixture
def fake(tmp_path):
    env = FakeVmEnv(tmp_path, extra={"FAKE_VM_SANDBOX": "none"})
    yield env
    env.cleanup()


@pytest.fixture
def sandboxed(tmp_path):
    reason = sandbox_unavailable_reason()
    if reason:
        pytest.skip(reason)
    env = FakeVmEnv(tmp_path)
    yield env
    env.cleanup()


def ignition_with(units=(), users=(), files=()):
    return json.dumps({"ignition": {"version": "3.4.0"},
                       "passwd": {"users": list(users)},
                       "storage": {"files": list(files)},
                       "systemd": {"units": list(units)}})


READY_UNIT = {"name": "ready.service", "enabled": True,
              "contents": "[Service]\nExecStart=/bin/sh -c '/usr/bin/echo Ready >/dev/vport1p1'\n"}


# -- common ------------------------------------------------------------------------------------

def test_versions_match_the_real_tools(fake):
    assert fake.run("podman", "--version").stdout.startswith("podman version ")
    assert fake.run("limactl", "--version").stdout == "limactl version 0.20.1\n"
    assert fake.run("colima", "--version").stdout == "colima version 0.6.8\n"
    assert fake.run("docker", "--version").stdout == "Docker version 24.0.7, build afdd53b\n"
    assert fake.run("orb", "version").stdout.startswith("Version: ")


def test_every_invocation_is_logged_as_one_json_argv_line(fake):
    fake.run("podman", "machine", "init", "devx-dev", "--cpus", "2")
    fake.run("limactl", "list", "--json")
    assert fake.calls() == [["podman", "machine", "init", "devx-dev", "--cpus", "2"],
                            ["limactl", "list", "--json"]]


def test_without_a_state_directory_vm_commands_refuse(fake):
    result = fake.run("podman", "machine", "list", FAKE_VM_STATE="")
    assert result.code == 125 and "FAKE_VM_STATE" in result.stderr


def test_concurrent_inits_of_one_machine_create_it_once(fake):
    results = []

    def init():
        results.append(fake.run("podman", "machine", "init", "devx-dev"))

    threads = [threading.Thread(target=init) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.code for r in results) == [0, 125, 125, 125]
    assert all("devx-dev: VM already exists" in r.stderr for r in results if r.code)


# -- podman machine ----------------------------------------------------------------------------

def test_podman_init_twice_reports_the_existing_vm(fake):
    assert fake.run("podman", "machine", "init", "devx-dev").code == 0
    again = fake.run("podman", "machine", "init", "devx-dev")
    assert (again.code, again.stderr) == (125, "Error: devx-dev: VM already exists\n")


def test_podman_unknown_machine_is_vm_does_not_exist_125(fake):
    for verb in (["start"], ["stop"], ["rm", "-f"], ["set", "--cpus", "2"], ["inspect"]):
        result = fake.run("podman", "machine", *verb, "ghost")
        assert result.code == 125, verb
        assert result.stderr.endswith("Error: ghost: VM does not exist\n"), verb


def test_podman_stop_without_a_name_means_podman_machine_default(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    fake.run("podman", "machine", "start", "devx-dev")
    result = fake.run("podman", "machine", "stop")
    assert (result.code, result.stderr) == (125, "Error: podman-machine-default: VM does not "
                                                 "exist\n")
    state = fake.run("podman", "machine", "inspect", "--format", "{{.State}}", "devx-dev")
    assert state.stdout == "running\n"


def test_podman_runs_one_machine_at_a_time(fake):
    for name in ("vm-a", "vm-b"):
        fake.run("podman", "machine", "init", name)
    assert fake.run("podman", "machine", "start", "vm-a").code == 0
    second = fake.run("podman", "machine", "start", "vm-b")
    assert second.code == 125
    assert second.stderr == ("Error: cannot start VM vm-b. VM vm-a is currently running or "
                             "starting: only one VM can be active at a time\n")
    same = fake.run("podman", "machine", "start", "vm-a")
    assert same.stderr == "Error: cannot start VM vm-a: VM already running or starting\n"


def test_podman_set_is_refused_while_running_and_applies_when_stopped(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    fake.run("podman", "machine", "start", "devx-dev")
    refused = fake.run("podman", "machine", "set", "--cpus", "4", "devx-dev")
    assert refused.code == 125
    assert refused.stderr == ("Error: cannot change settings while the vm is running, run "
                              "'podman machine stop devx-dev' first\n")
    fake.run("podman", "machine", "stop", "devx-dev")
    assert fake.run("podman", "machine", "set", "--cpus", "4", "-m", "4096", "devx-dev").code == 0
    info = fake.run("podman", "machine", "inspect", "devx-dev").json()[0]
    assert info["Resources"] == {"CPUs": 4, "DiskSize": 100, "Memory": 4096}
    shrink = fake.run("podman", "machine", "set", "--disk-size", "10", "devx-dev")
    assert shrink.code == 125 and "must be larger than current disk size: 100GB" in shrink.stderr


def test_podman_inspect_json_shape_and_4_3_state_of_a_stopped_machine(fake):
    fake.run("podman", "machine", "init", "devx-dev", "--cpus", "2", "--disk-size", "50")
    info = fake.run("podman", "machine", "inspect", "devx-dev").json()
    assert isinstance(info, list) and len(info) == 1
    assert set(info[0]) == {"ConfigPath", "ConnectionInfo", "Created", "Image", "LastUp", "Name",
                            "Resources", "SSHConfig", "State"}
    assert info[0]["State"] == ""  # podman 4.3: no QMP socket while qemu is not running
    fake.run("podman", "machine", "start", "devx-dev")
    assert fake.run("podman", "machine", "inspect", "devx-dev").json()[0]["State"] == "running"


def test_podman_list_json_and_the_starred_default_in_templates(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    fake.run("podman", "machine", "init", "other")
    listed = fake.run("podman", "machine", "list", "--format", "json").json()
    assert [m["Name"] for m in listed] == ["devx-dev", "other"]
    assert listed[0]["Default"] is True and listed[0]["Memory"] == str(2048 * 1024 * 1024)
    names = fake.run("podman", "machine", "list", "--format", "{{.Name}}").stdout.split()
    assert names == ["devx-dev*", "other"]
    assert fake.run("podman", "machine", "list", "-q").stdout.split() == ["devx-dev", "other"]
    table = fake.run("podman", "machine", "list", "--format", "table {{.Name}}\\t{{.Running}}")
    assert table.stdout.split("\n")[:2] == ["NAME       RUNNING", "devx-dev*  false"]


def test_podman_rm_of_a_running_machine_needs_force(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    fake.run("podman", "machine", "start", "devx-dev")
    refused = fake.run("podman", "machine", "rm", "devx-dev", stdin="y\n")
    assert (refused.code, refused.stderr) == (125, 'Error: running vm "devx-dev" cannot be '
                                                   'destroyed\n')
    assert fake.run("podman", "machine", "rm", "-f", "devx-dev").code == 0
    assert fake.run("podman", "machine", "list", "--format", "json").json() == []


def test_podman_rm_without_force_asks_and_keeps_the_machine_on_no(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    result = fake.run("podman", "machine", "rm", "devx-dev", stdin="n\n")
    assert result.code == 0 and "Are you sure you want to continue? [y/N]" in result.stdout
    assert fake.run("podman", "machine", "inspect", "devx-dev").code == 0


def test_podman_init_with_ignition_copies_it_and_adds_no_connection(fake, tmp_path):
    ign = tmp_path / "dev.ign"
    ign.write_text(ignition_with(units=[READY_UNIT]))
    result = fake.run("podman", "machine", "init", "--rootful", "--ignition-path", ign, "devx-dev")
    assert result.code == 0
    assert "An ignition path was provided.  No SSH connection was added to Podman" in result.stdout
    assert "Machine init complete" not in result.stdout
    copy = fake.state / "podman" / "devx-dev.ign"
    assert copy.read_text() == ign.read_text() and (copy.stat().st_mode & 0o777) == 0o644
    connections = fake.run("podman", "system", "connection", "list", "--format", "json").json()
    assert connections == []
    default = fake.run("podman", "system", "connection", "default", "devx-dev-root")
    assert default.code == 125 and "destination is not defined" in default.stderr


def test_podman_rootful_init_registers_both_connections_root_first(fake):
    fake.run("podman", "machine", "init", "--rootful", "devx-dev")
    connections = fake.run("podman", "system", "connection", "list", "--format", "json").json()
    assert {c["Name"]: c["Default"] for c in connections} == {"devx-dev": False,
                                                              "devx-dev-root": True}
    assert (fake.home / ".ssh" / "devx-dev.pub").exists()


def test_podman_init_with_a_missing_ignition_file_leaves_the_machine_registered(fake, tmp_path):
    result = fake.run("podman", "machine", "init", "--ignition-path", tmp_path / "none.ign", "x")
    assert result.code == 125 and "no such file or directory" in result.stderr
    assert fake.run("podman", "machine", "inspect", "x").code == 0


def test_podman_machine_names_are_limited_to_30_characters(fake):
    result = fake.run("podman", "machine", "init", "a" * 31)
    assert result.code == 125 and "must be 30 characters or less" in result.stderr


def test_podman_injected_start_failure_leaves_a_stopped_machine(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    result = fake.run("podman", "machine", "start", "devx-dev", FAKE_VM_FAIL="podman:start")
    assert result.code == 125 and "qemu exited unexpectedly" in result.stderr
    assert fake.run("podman", "machine", "list", "--format", "json").json()[0]["Running"] is False


def test_podman_failures_can_be_injected_through_the_state_file(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    data = fake.state_data()
    data["fail"] = ["set"]
    fake.write_state(data)
    assert fake.run("podman", "machine", "set", "--cpus", "2", "devx-dev").code == 125


def test_podman_non_machine_commands_reach_the_real_podman(fake):
    result = fake.run("podman", "version", "--format", "{{.Client.Version}}")
    if result.code == 127:
        pytest.skip("no real podman installed")
    assert result.code == 0 and result.stdout.strip()


def test_podman_ssh_of_a_stopped_machine_is_refused(fake):
    fake.run("podman", "machine", "init", "devx-dev")
    result = fake.run("podman", "machine", "ssh", "devx-dev", "true")
    assert (result.code, result.stderr) == (125, 'Error: vm "devx-dev" is not running\n')


def test_podman_ssh_joins_words_for_the_remote_shell_and_passes_stdin_and_exit_code(sandboxed):
    sandboxed.run("podman", "machine", "init", "devx-dev")
    assert sandboxed.run("podman", "machine", "start", "devx-dev").code == 0
    assert sandboxed.container_state("devx-dev") == "running"
    joined = sandboxed.run("podman", "machine", "ssh", "devx-dev", "--", "echo", "a   b", "c")
    assert joined.stdout == "a b c\n"  # ssh re-parses the joined words
    piped = sandboxed.run("podman", "machine", "ssh", "devx-dev", "cat > /tmp/x; cat /tmp/x; "
                          "exit 7", stdin="payload\n")
    assert (piped.code, piped.stdout) == (7, "payload\n")
    shims = sandboxed.run("podman", "machine", "ssh", "devx-dev",
                          "sudo -n systemctl daemon-reload && sysctl --system && "
                          "cat /var/log/fake-systemctl.log /var/log/fake-sysctl.log")
    assert shims.stdout == "daemon-reload\n--system\n"
    sandboxed.run("podman", "machine", "stop", "devx-dev")
    assert sandboxed.container_state("devx-dev") == "exited"
    sandboxed.run("podman", "machine", "rm", "-f", "devx-dev")
    assert sandboxed.container_state("devx-dev") is None


def test_install_shim_writes_modes_like_coreutils(sandboxed):
    sandboxed.run("podman", "machine", "init", "devx-dev")
    sandboxed.run("podman", "machine", "start", "devx-dev")
    data = base64.b64encode(b"secret\n").decode()
    result = sandboxed.run("podman", "machine", "ssh", "devx-dev",
                           f"echo {data} | base64 -d | sudo install -D -m 0600 /dev/stdin "
                           "/etc/devx/a.env && stat -c %a /etc/devx/a.env && cat /etc/devx/a.env")
    assert result.stdout == "600\nsecret\n", result.stderr


def test_podman_first_boot_applies_the_handed_over_ignition(sandboxed, tmp_path):
    key = sandboxed.home / ".ssh" / "devx-dev"
    key.parent.mkdir(parents=True)
    key.write_text("private")
    key.with_suffix(".pub").write_text("ssh-ed25519 AAAAKEY devx\n")
    ign = tmp_path / "dev.ign"
    ign.write_text(ignition_with(
        units=[READY_UNIT, {"name": "tailscaled.service", "enabled": True, "contents": "[Unit]\n"}],
        users=[{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 AAAAKEY devx"]}],
        files=[{"path": "/etc/dev-secrets.env", "mode": 384,
                "contents": {"source": "data:,A%3Db%0A"}}]))
    sandboxed.run("podman", "machine", "init", "--ignition-path", ign, "devx-dev")
    started = sandboxed.run("podman", "machine", "start", "devx-dev")
    assert started.code == 0, started.stderr
    files = sandboxed.container_exec("devx-dev", "sh", "-c",
                                     "stat -c %a /etc/dev-secrets.env; cat /etc/dev-secrets.env; "
                                     "cat /home/core/.ssh/authorized_keys.d/ignition; "
                                     "cat /var/log/fake-systemctl.log")
    assert files.stdout.splitlines() == ["600", "A=b", "ssh-ed25519 AAAAKEY devx",
                                         "enable ready.service (ignition preset)",
                                         "enable tailscaled.service (ignition preset)"]
    assert sandboxed.run("podman", "machine", "ssh", "devx-dev", "echo", "in").stdout == "in\n"


def test_podman_ignition_without_podmans_ready_unit_never_comes_up(sandboxed, tmp_path):
    ign = tmp_path / "dev.ign"
    ign.write_text(ignition_with())
    sandboxed.run("podman", "machine", "init", "--ignition-path", ign, "devx-dev")
    result = sandboxed.run("podman", "machine", "start", "devx-dev")
    assert result.code == 125 and "/dev/vport1p1" in result.stderr


def test_podman_ssh_needs_the_machine_key_authorised_by_the_ignition(sandboxed, tmp_path):
    ign = tmp_path / "dev.ign"
    ign.write_text(ignition_with(units=[READY_UNIT],
                                 users=[{"name": "core", "sshAuthorizedKeys": ["ssh-rsa OTHER"]}]))
    sandboxed.run("podman", "machine", "init", "--ignition-path", ign, "devx-dev")
    sandboxed.run("podman", "machine", "start", "devx-dev")
    result = sandboxed.run("podman", "machine", "ssh", "devx-dev", "true")
    assert result.code == 255 and "Permission denied (publickey)" in result.stderr


# -- limactl -----------------------------------------------------------------------------------

def test_lima_list_json_is_json_lines_with_lima_fields(fake):
    assert fake.run("limactl", "create", "--name=a", "--tty=false", "--cpus=2").code == 0
    fake.run("limactl", "create", "--name=b", "--tty=false", "template://podman-rootful")
    entries = fake.run("limactl", "list", "--json").json_lines()
    assert [(e["name"], e["status"], e["cpus"]) for e in entries] == [("a", "Stopped", 2),
                                                                      ("b", "Stopped", 4)]
    assert {"dir", "vmType", "arch", "memory", "disk", "sshLocalPort"} <= set(entries[0])


def test_lima_without_instances_lists_nothing_and_warns(fake):
    result = fake.run("limactl", "list", "--json")
    assert (result.code, result.stdout) == (0, "")
    assert "No instance found" in result.stderr


def test_lima_refusals_match_limactl(fake):
    fake.run("limactl", "create", "--name=a", "--tty=false")
    exists = fake.run("limactl", "create", "--name=a", "--tty=false")
    assert exists.code == 1 and 'level=fatal msg="instance \\"a\\" already exists' in exists.stderr
    stopped = fake.run("limactl", "stop", "a")
    assert stopped.code == 1 and "expected status \\\"Running\\\", got \\\"Stopped\\\"" in \
        stopped.stderr
    assert "unknown flag: --all" in fake.run("limactl", "stop", "--all").stderr
    vz = fake.run("limactl", "create", "--name=v", "--vm-type=vz", "--tty=false")
    assert vz.code == 1 and "vmType" in vz.stderr
    missing = fake.run("limactl", "delete", "ghost")
    assert missing.code == 0 and "Ignoring non-existent instance" in missing.stderr


def test_lima_start_of_a_missing_instance_creates_it(fake):
    assert fake.run("limactl", "start", "--tty=false", "fresh").code == 0
    assert fake.run("limactl", "list", "--json").json_lines()[0]["status"] == "Running"


def test_lima_edit_takes_yq_and_refuses_a_running_instance(fake):
    fake.run("limactl", "start", "--tty=false", "a")
    running = fake.run("limactl", "edit", "--tty=false", "--set", ".cpus = 2", "a")
    assert running.code == 1 and "cannot edit a running instance" in running.stderr
    fake.run("limactl", "stop", "a")
    yaml_text = fake.run("limactl", "edit", "--set", "cpus: 2\nmemory: 2048MiB\n", "a")
    assert yaml_text.code == 1
    ok = fake.run("limactl", "edit", "--tty=false", "--set", '.cpus = 2 | .memory = "2048MiB"', "a")
    assert ok.code == 0
    entry = fake.run("limactl", "list", "--json").json_lines()[0]
    assert (entry["cpus"], entry["memory"]) == (2, 2048 * 1024 * 1024)


def test_lima_shell_keeps_the_argv_and_exit_code(sandboxed):
    sandboxed.run("limactl", "start", "--tty=false", "a")
    result = sandboxed.run("limactl", "shell", "--workdir", "/", "a", "sh", "-c",
                           'printf "%s|" "$@"; exit 3', "sh", "a  b", "c")
    assert (result.code, result.stdout) == (3, "a  b|c|")


# -- colima ------------------------------------------------------------------------------------

def test_colima_status_exit_codes_and_already_running(fake):
    assert fake.run("colima", "status", "--profile", "p").code == 1
    assert fake.run("colima", "start", "--profile", "p", "--cpu", "2").code == 0
    status = fake.run("colima", "status", "--profile", "p", "--json")
    assert status.code == 0 and status.json()["cpu"] == 2
    again = fake.run("colima", "start", "--profile", "p", "--cpu", "4")
    assert again.code == 0 and "already running, ignoring" in again.stderr
    assert fake.run("colima", "list", "--json").json_lines()[0]["cpus"] == 2
    fake.run("colima", "stop", "--profile", "p")
    stopped_again = fake.run("colima", "stop", "--profile", "p")
    assert stopped_again.code == 0
    fake.run("colima", "start", "--profile", "p")  # the saved --cpu 4 applies now
    assert fake.run("colima", "list", "--json").json_lines()[0]["cpus"] == 4
    fake.run("colima", "stop", "--profile", "p")
    fractional = fake.run("colima", "start", "--profile", "p", "--memory", "1.5")
    assert fractional.code == 1 and "strconv.ParseInt" in fractional.stderr


def test_colima_vz_needs_macos_and_delete_asks_without_force(fake):
    vz = fake.run("colima", "start", "--profile", "p", "--vm-type=vz")
    assert vz.code == 1 and "macOS" in vz.stderr
    fake.run("colima", "start", "--profile", "p")
    asked = fake.run("colima", "delete", "--profile", "p", stdin="n\n")
    assert asked.code == 0 and "[y/N]" in asked.stdout
    assert len(fake.run("colima", "list", "--json").json_lines()) == 1
    assert fake.run("colima", "delete", "--force", "--profile", "p").code == 0
    assert fake.run("colima", "list", "--json").stdout == ""


def test_colima_ssh_runs_in_the_profiles_vm(sandboxed):
    sandboxed.run("colima", "start", "--profile", "p")
    result = sandboxed.run("colima", "ssh", "--profile", "p", "--", "sh", "-c",
                           "hostname; exit 5")
    assert (result.code, result.stdout) == (5, "colima-p\n")


# -- orb / docker ------------------------------------------------------------------------------

def test_orb_status_start_stop_and_docker_follow_the_app(fake):
    fake.write_state({"docker": {"backend": "orbstack", "running": True}})
    assert fake.run("orb", "status").stdout == "Running\n"
    fake.run("orb", "stop")
    stopped = fake.run("orb", "status")
    assert (stopped.code, stopped.stdout) == (1, "Stopped\n")
    info = fake.run("docker", "info", "--format", "{{json .}}")
    assert info.code == 0 and info.json()["ServerVersion"] == ""
    fake.run("orb", "start")
    assert fake.run("docker", "info", "--format", "{{json .}}").json()["Name"] == "orbstack"


def test_orb_runs_commands_in_the_default_machine(sandboxed):
    missing = sandboxed.run("orb", "true")
    assert missing.code == 1 and "orb create" in missing.stderr
    assert sandboxed.run("orb", "create", "ubuntu").code == 0
    result = sandboxed.run("orb", "-u", "root", "sh", "-c", "hostname; exit 2")
    assert (result.code, result.stdout) == (2, "ubuntu\n")


def test_docker_info_when_the_engine_is_down(fake):
    formatted = fake.run("docker", "info", "--format", "{{json .}}", FAKE_VM_FAIL="docker:daemon")
    assert formatted.code == 0
    assert formatted.json()["ServerErrors"][0].startswith("Cannot connect to the Docker daemon")
    plain = fake.run("docker", "info", FAKE_VM_FAIL="docker:daemon")
    assert plain.code == 1 and "Cannot connect to the Docker daemon" in plain.stderr
    ps = fake.run("docker", "ps", FAKE_VM_FAIL="docker:daemon")
    assert ps.code == 1


def test_docker_contexts(fake):
    listed = fake.run("docker", "context", "ls", "--format", "json").json_lines()
    names = [c["Name"] for c in listed]
    assert names == ["default", "desktop-linux"]
    assert fake.run("docker", "context", "use", "desktop-linux").code == 0
    assert fake.run("docker", "context", "show").stdout == "desktop-linux\n"


def test_docker_nsenter_enters_the_engine_vm_not_the_host(sandboxed):
    result = sandboxed.run("docker", "run", "--rm", "-i", "--privileged", "--pid=host",
                           "alpine:latest", "nsenter", "-t", "1", "-m", "-u", "-n", "-i", "sh",
                           "-c", "cat; hostname", stdin="in\n")
    assert (result.code, result.stdout) == (0, "in\ndocker-desktop\n")
    refused = sandboxed.run("docker", "run", "--rm", "--pid=host", "alpine:latest", "ls")
    assert refused.code == 125


def test_cloudflared_stand_in_deletes_recorded_tunnels(fake):
    (fake.state / "cloudflared.json").write_text(json.dumps(
        {"tunnels": [{"id": "6ff42ae2-765d-4adf-8112-31c55c1551ef", "name": "dev-tunnel-me"}]}))
    assert fake.run("cloudflared", "tunnel", "delete", "-f", "dev-tunnel-me").code == 0
    assert fake.run("cloudflared", "tunnel", "list", "--output", "json").json() == []
    assert fake.run("cloudflared", "tunnel", "delete", "-f", "gone").code == 1
    assert os.path.exists(fake.log)
