"""State, logging, failure injection and small Go-isms shared by the VM tool fakes."""
import datetime
import fcntl
import json
import os
import re
import sys

FAKES_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
REPO_DIR = os.path.dirname(os.path.dirname(FAKES_DIR))


class Exit(Exception):
    """Ends the fake with an exit code after the message (if any) went to stderr."""

    def __init__(self, code, message=None):
        super().__init__(message)
        self.code = code
        self.message = message


def log_invocation(tool, args):
    path = os.environ.get("FAKE_LOG")
    if not path:
        return
    line = json.dumps([tool, *args]) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def run_main(tool, handler, argv):
    """Logs argv, runs handler(args) and turns Exit into an exit code (stderr message first)."""
    args = argv[1:]
    log_invocation(tool, args)
    try:
        code = handler(args)
    except Exit as e:
        if e.message:
            sys.stderr.write(e.message if e.message.endswith("\n") else e.message + "\n")
        code = e.code
    sys.stdout.flush()
    return code or 0


class State:
    """state.json under $FAKE_VM_STATE, read and written under an exclusive flock.

    Use as `with State() as st:`; st.data is saved on a clean exit of the block (also when the block
    raises Exit, which is how the tools fail after having changed something, like a failed
    start)."""

    def __init__(self):
        root = os.environ.get("FAKE_VM_STATE")
        if not root:
            raise Exit(125, "Error: fake VM tools need FAKE_VM_STATE (a state directory)")
        os.makedirs(root, exist_ok=True)
        self.root = root
        self.path = os.path.join(root, "state.json")
        self._fd = None
        self.data = None

    def __enter__(self):
        self._fd = os.open(os.path.join(self.root, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            with open(self.path) as f:
                self.data = json.load(f)
        except FileNotFoundError:
            self.data = {}
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None or exc_type is Exit:
                tmp = self.path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(self.data, f, indent=2, sort_keys=True)
                os.replace(tmp, self.path)
        finally:
            os.close(self._fd)
            self._fd = None
        return False

    def section(self, name, default):
        return self.data.setdefault(name, default)

    def file(self, *parts):
        path = os.path.join(self.root, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path


def read_state():
    """A snapshot of state.json without keeping the lock (read-only commands)."""
    with State() as st:
        return json.loads(json.dumps(st.data))


def should_fail(state_data, tool, op):
    """True when "op" or "tool:op" is listed in $FAKE_VM_FAIL or the state's "fail" list."""
    entries = [e.strip() for e in os.environ.get("FAKE_VM_FAIL", "").split(",") if e.strip()]
    entries += list((state_data or {}).get("fail", []))
    return op in entries or f"{tool}:{op}" in entries


def platform():
    return os.environ.get("FAKE_VM_PLATFORM", "linux")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def go_time(rfc3339):
    """Go's time.Time JSON form (RFC3339Nano with an offset) from our stored RFC3339 string."""
    return rfc3339.replace("Z", "+00:00") if rfc3339 else "0001-01-01T00:00:00Z"


def human_ago(rfc3339):
    """go-units HumanDuration + " ago", as podman prints CREATED/LAST UP."""
    if not rfc3339:
        return "Never"
    then = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    seconds = (datetime.datetime.now(datetime.timezone.utc) - then).total_seconds()
    if seconds < 1:
        return "Less than a second ago"
    if seconds < 60:
        n = int(seconds)
        return "1 second ago" if n == 1 else f"{n} seconds ago"
    minutes = seconds / 60
    if minutes < 60:
        n = int(minutes)
        return "About a minute ago" if n == 1 else f"{n} minutes ago"
    hours = minutes / 60
    if hours < 48:
        n = round(hours)
        return "About an hour ago" if n == 1 else f"{n} hours ago"
    return f"{int(hours / 24)} days ago"


def human_size(n_bytes):
    """go-units HumanSize (decimal, 4 significant digits): 2147483648 -> 2.147GB."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    value = float(n_bytes)
    i = 0
    while value >= 1000 and i < len(units) - 1:
        value /= 1000
        i += 1
    return f"{value:.4g}{units[i]}"


def go_json_compact(value):
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def unescape_format(fmt):
    """The CLI's --format arrives with literal backslash escapes (\\t, \\n) that Go's report
    package turns into the characters."""
    return fmt.replace("\\t", "\t").replace("\\n", "\n")


_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}")


def _lookup(obj, path):
    value = obj
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise Exit(125, f'Error: template: list:1: can\'t evaluate field {part} in type '
                            f'{type(value).__name__}')
    return value


def go_str(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_str(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def render_template(fmt, obj):
    """The Go text/template subset tools get called with: {{.A.B}}, {{json .}}, {{json .X}},
    {{upper .X}}, literal text."""

    def action(match):
        expr = match.group(1)
        words = expr.split()
        if len(words) == 2 and words[0] == "json":
            return go_json_compact(_lookup(obj, words[1][1:] if words[1] != "." else ""))
        if len(words) == 2 and words[0] in ("upper", "lower"):
            text = go_str(_lookup(obj, words[1][1:]))
            return text.upper() if words[0] == "upper" else text.lower()
        if len(words) == 1 and words[0].startswith("."):
            return go_str(_lookup(obj, words[0][1:]))
        raise Exit(125, f'Error: template: list:1: function "{words[0]}" not defined')

    return _ACTION.sub(action, unescape_format(fmt))


def parse_flags(args, spec, allow_interspersed=True, usage_error=None):
    """A pflag-style parser. spec maps every spelling ("--cpus", "-m") to (key, kind) with kind
    "value", "bool" or "list". Returns (options, positionals). `--` ends the flags. Unknown flags
    raise usage_error(flag)."""
    options = {}
    positionals = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positionals.extend(args[i + 1:])
            break
        if arg.startswith("-") and arg != "-":
            name, eq, inline = arg.partition("=")
            if name not in spec:
                raise usage_error(name)
            key, kind = spec[name]
            if kind == "bool":
                options[key] = (inline.lower() != "false") if eq else True
            else:
                if eq:
                    value = inline
                else:
                    i += 1
                    if i >= len(args):
                        raise usage_error(name, missing_value=True)
                    value = args[i]
                if kind == "list":
                    options.setdefault(key, []).append(value)
                else:
                    options[key] = value
        else:
            positionals.append(arg)
            if not allow_interspersed:
                positionals.extend(args[i + 1:])
                break
        i += 1
    return options, positionals


def find_real_binary(name):
    """`name` on PATH, skipping the fakes' directories (so a fake can wrap the real tool)."""
    own_dirs = {os.path.realpath(FAKES_DIR), os.path.realpath(os.path.dirname(sys.argv[0]))}
    own_file = os.path.realpath(sys.argv[0])
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or os.path.realpath(directory) in own_dirs:
            continue
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK) and \
                os.path.realpath(candidate) not in (own_file,) and \
                not os.path.realpath(candidate).startswith(os.path.realpath(FAKES_DIR) + os.sep):
            return candidate
    return None
