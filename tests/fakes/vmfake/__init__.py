"""Faithful fakes of the VM tools libdevx drives: `podman machine`, `limactl`, `colima`, `orb`
(and `orbctl`), and the `docker` CLI of Docker Desktop / OrbStack. See ../README-vm.md.

Environment:
  FAKE_VM_STATE   directory holding state.json (required by every VM command; flock-guarded)
  FAKE_LOG        when set, every invocation appends its argv as one JSON array line
  FAKE_VM_FAIL    comma-separated failure injections "[tool:]op" (e.g. "start", "podman:start",
                  "lima:create", "docker:info"); state.json's "fail" list works the same way
  FAKE_VM_SANDBOX "container" (default: one real podman container per VM, used by the ssh/shell
                  forms) or "none" (lifecycle only; shell forms fail like an unreachable VM)
  FAKE_VM_CONTAINER_PREFIX  sandbox container name prefix (default "fakevm-")
  FAKE_VM_PLATFORM "linux" (default) or "darwin": which VM types limactl/colima accept

state.json layout:
  {"podman": {"machines": {NAME: {...}}, "connections": {NAME: uri}, "default_connection": str},
   "lima":   {"instances": {NAME: {...}}},
   "colima": {"profiles": {NAME: {...}}},
   "orb":    {"running": bool, "machines": {NAME: {...}}, "default_machine": str},
   "docker": {"running": bool, "backend": "docker-desktop"|"orbstack", "context": str},
   "fail":   ["[tool:]op", ...]}
"""
