"""The fake cluster's state directory (see __init__.py for the layout)."""
import datetime
import fcntl
import json
import os
import uuid

# alias -> (Kind, plural, apiVersion, namespaced)
KINDS = {}
for kind, plural, api_version, namespaced, aliases in [
    ("Service", "services", "v1", True, ["svc"]),
    ("Pod", "pods", "v1", True, ["po"]),
    ("Event", "events", "v1", True, ["ev"]),
    ("ServiceAccount", "serviceaccounts", "v1", True, ["sa"]),
    ("Secret", "secrets", "v1", True, []),
    ("ConfigMap", "configmaps", "v1", True, ["cm"]),
    ("Endpoints", "endpoints", "v1", True, ["ep"]),
    ("Job", "jobs", "batch/v1", True, ["job.batch", "jobs.batch"]),
    ("Role", "roles", "rbac.authorization.k8s.io/v1", True, []),
    ("RoleBinding", "rolebindings", "rbac.authorization.k8s.io/v1", True, []),
    ("EndpointSlice", "endpointslices", "discovery.k8s.io/v1", True, []),
    ("Namespace", "namespaces", "v1", False, ["ns"]),
    ("ClusterRole", "clusterroles", "rbac.authorization.k8s.io/v1", False, []),
    ("ClusterRoleBinding", "clusterrolebindings", "rbac.authorization.k8s.io/v1", False, []),
]:
    info = (kind, plural, api_version, namespaced)
    for alias in [kind.lower(), plural] + aliases:
        KINDS[alias] = info
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    if group:
        KINDS[plural + "." + group] = info
        KINDS[kind.lower() + "." + group] = info


def kind_info(alias):
    return KINDS.get(alias.lower())


def qualified(info):
    """How kubectl names a resource in messages: services, jobs.batch, roles.rbac.authorization.k8s.io."""
    kind, plural, api_version, _ = info
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return plural + ("." + group if group else "")


def short_kind(info):
    """kubectl's `-o name` / apply output prefix: service, job.batch, role.rbac.authorization.k8s.io."""
    kind, plural, api_version, _ = info
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return kind.lower() + ("." + group if group else "")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_json(obj, indent=True):
    """JSON as Go's encoding/json writes it (sorted keys, HTML characters escaped)."""
    if indent:
        text = json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False)
    else:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class State:
    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self._lock_fd = None

    # -- locking --------------------------------------------------------------------------------
    def __enter__(self):
        self._lock_fd = os.open(os.path.join(self.root, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- files ----------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def read_json(self, *parts, default=None):
        try:
            with open(self.path(*parts)) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return default

    def write_json(self, value, *parts):
        path = self.path(*parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(value, f, indent=2, sort_keys=True)
        os.replace(tmp, path)

    def config(self):
        return self.read_json("_config.json", default={}) or {}

    def save_config(self, config):
        self.write_json(config, "_config.json")

    def log_call(self, record):
        with open(self.path("calls.log"), "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")

    # -- objects --------------------------------------------------------------------------------
    def _object_parts(self, info, ns, name):
        kind = info[0].lower()
        return (ns if info[3] else "_cluster", kind, name + ".json")

    def get(self, info, ns, name):
        return self.read_json(*self._object_parts(info, ns, name))

    def put(self, obj):
        info = kind_info(obj["kind"])
        meta = obj["metadata"]
        self.write_json(obj, *self._object_parts(info, meta.get("namespace", ""), meta["name"]))

    def delete_file(self, info, ns, name):
        try:
            os.remove(self.path(*self._object_parts(info, ns, name)))
            return True
        except FileNotFoundError:
            return False

    def list(self, info, ns=None):
        """Objects of a kind in ns (None = every namespace), sorted like the API (ns, name)."""
        kind = info[0].lower()
        namespaces = ["_cluster"] if not info[3] else (
            [ns] if ns is not None else sorted(
                d for d in os.listdir(self.root)
                if not d.startswith(("_", ".")) and os.path.isdir(self.path(d))))
        out = []
        for n in namespaces:
            directory = self.path(n, kind)
            if not os.path.isdir(directory):
                continue
            for file in sorted(os.listdir(directory)):
                if file.endswith(".json"):
                    obj = self.read_json(n, kind, file)
                    if obj is not None:
                        out.append(obj)
        return out

    def all_objects(self):
        out = []
        for info in {v for v in KINDS.values()}:
            out.extend(self.list(info))
        return out

    def next_resource_version(self):
        config = self.config()
        rv = int(config.get("_resource_version", 1000)) + 1
        config["_resource_version"] = rv
        self.save_config(config)
        return str(rv)

    def stamp_new(self, obj):
        meta = obj.setdefault("metadata", {})
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        meta["resourceVersion"] = self.next_resource_version()
        return obj


def label_matches(labels, selector):
    """A kubectl -l selector: k=v, k==v, k!=v, k, !k, comma-separated."""
    labels = labels or {}
    for term in filter(None, (t.strip() for t in (selector or "").split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_matches(obj, selector):
    for term in filter(None, (t.strip() for t in (selector or "").split(","))):
        negate = "!=" in term
        k, v = term.replace("!=", "=").replace("==", "=").split("=", 1)
        node = obj
        for part in k.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if (str(node) if node is not None else "") == v:
            if negate:
                return False
        elif not negate:
            return False
    return True
