"""What the Job controller and the kubelet would do: a pod for an unsuspended Job, the image and
config checks that keep it Pending, and the real agent binary started on this machine with its
ports remapped to free local ports."""
import base64
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from . import state as st

# The distribution reference grammar; the first component is a registry only if it looks like one.
_DC = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_RE = re.compile(
    r"^(?:(?:localhost|%s(?:\.%s)+)(?::[0-9]+)?/|%s:[0-9]+/)?%s(?:/%s)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
    % (_DC, _DC, _DC, _PATH, _PATH))


def valid_image(image):
    return bool(image) and IMAGE_RE.match(image) is not None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError, TypeError):
        return False


# -- PodSecurity "restricted" ------------------------------------------------------------------
def restricted_violations(pod_spec):
    out = []
    psc = pod_spec.get("securityContext") or {}
    for c in pod_spec.get("containers", []):
        sc = c.get("securityContext") or {}
        name = c.get("name", "")
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append('allowPrivilegeEscalation != false (container "%s" must set '
                       'securityContext.allowPrivilegeEscalation=false)' % name)
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append('unrestricted capabilities (container "%s" must set '
                       'securityContext.capabilities.drop=["ALL"])' % name)
        extra = [a for a in (caps.get("add") or []) if a != "NET_BIND_SERVICE"]
        if extra:
            out.append('unrestricted capabilities (container "%s" must not include %s in '
                       'securityContext.capabilities.add)' % (name, ", ".join('"%s"' % a for a in extra)))
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            out.append('runAsNonRoot != true (pod or container "%s" must set '
                       'securityContext.runAsNonRoot=true)' % name)
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append('seccompProfile (pod or container "%s" must set '
                       'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")' % name)
    return out


def _event(s, ns, involved, reason, message, type_="Warning"):
    ev = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "%s.%x" % (involved["metadata"]["name"], random.getrandbits(48)),
                     "namespace": ns},
        "involvedObject": {"kind": involved["kind"], "name": involved["metadata"]["name"],
                           "namespace": ns, "uid": involved["metadata"].get("uid", ""),
                           "apiVersion": involved.get("apiVersion", "")},
        "reason": reason, "message": message, "type": type_, "count": 1,
        "firstTimestamp": st.now(), "lastTimestamp": st.now(),
        "source": {"component": "job-controller"},
    }
    s.put(s.stamp_new(ev))


# -- Job controller ----------------------------------------------------------------------------
def reconcile_job(s, job):
    """Creates the Job's pod once it is not suspended (one pod: backoffLimit 0)."""
    spec = job.get("spec", {})
    status = job.setdefault("status", {})
    if spec.get("suspend") or status.get("startTime"):
        return
    ns = job["metadata"]["namespace"]
    template = spec.get("template", {})
    pod_name = "%s-%s" % (job["metadata"]["name"],
                          "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5)))
    if s.config().get("pod_security", {}).get(ns) == "restricted":
        violations = restricted_violations(template.get("spec", {}))
        if violations:
            _event(s, ns, job, "FailedCreate",
                   'Error creating: pods "%s" is forbidden: violates PodSecurity "restricted:latest": %s'
                   % (pod_name, ", ".join(violations)))
            return
    status["startTime"] = st.now()
    status["active"] = 1
    status["ready"] = 0
    job["metadata"]["resourceVersion"] = s.next_resource_version()
    s.put(job)
    uid = job["metadata"]["uid"]
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job["metadata"]["name"],
                   "controller-uid": uid, "job-name": job["metadata"]["name"]})
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": ns, "labels": labels,
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job["metadata"]["name"],
                                          "uid": uid, "controller": True, "blockOwnerDeletion": True}]},
        "spec": dict(template.get("spec") or {}, nodeName="fake-node"),
        "status": {"phase": "Pending", "startTime": st.now()},
    }
    s.stamp_new(pod)
    start_pod(s, pod)
    s.put(pod)


def _container_waiting(pod, reason, message):
    c = pod["spec"]["containers"][0]
    pod["status"]["containerStatuses"] = [{
        "name": c.get("name", ""), "image": c.get("image", ""), "ready": False, "restartCount": 0,
        "started": False, "state": {"waiting": {"reason": reason, "message": message}}}]


def _resolve_env(s, ns, container):
    env = {}
    for e in container.get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
            continue
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref is None:
            continue
        secret = s.get(st.kind_info("secret"), ns, ref.get("name", ""))
        if secret is None:
            raise LookupError('secret "%s" not found' % ref.get("name", ""))
        data = secret.get("data") or {}
        if ref.get("key") not in data:
            raise LookupError("couldn't find key %s in Secret %s/%s" % (ref.get("key"), ns, ref.get("name")))
        env[e["name"]] = base64.b64decode(data[ref["key"]]).decode()
    return env


def start_pod(s, pod):
    """The kubelet: image checks, config checks, then the agent process (or a pretend container)."""
    ns = pod["metadata"]["namespace"]
    container = pod["spec"]["containers"][0]
    image = container.get("image", "")
    if not valid_image(image):
        detail = "repository name must be lowercase" if image.lower() != image else "invalid reference format"
        _container_waiting(pod, "InvalidImageName",
                           'Failed to apply default image tag "%s": couldn\'t parse image name "%s": '
                           "invalid reference format: %s" % (image, image, detail))
        return
    if image in (s.config().get("missing_images") or []):
        _container_waiting(pod, "ErrImagePull",
                           'rpc error: code = NotFound desc = failed to pull and unpack image "%s": '
                           'failed to resolve reference "%s": %s: not found' % (image, image, image))
        return
    try:
        env = _resolve_env(s, ns, container)
    except LookupError as e:
        _container_waiting(pod, "CreateContainerConfigError", str(e))
        return
    agent = os.environ.get("FAKE_KUBE_AGENT_BIN", "")
    record = {"ports": {}, "started_at": time.time()}
    if agent:
        args, ports = [], {}
        for arg in container.get("args") or []:
            m = re.match(r"^--port=(\d+):(\d+)$", arg)
            if m:
                ports.setdefault(m.group(2), free_port())
                args.append("--port=%s:%d" % (m.group(1), ports[m.group(2)]))
                continue
            m = re.match(r"^--(control-port|health-port)=(\d+)$", arg)
            if m:
                ports.setdefault(m.group(2), free_port())
                args.append("--%s=%d" % (m.group(1), ports[m.group(2)]))
                continue
            args.append(arg)
        record["ports"] = ports
        sa_dir = s.path("_sa", ns, pod["metadata"]["name"])
        os.makedirs(sa_dir, exist_ok=True)
        token = secrets.token_hex(16)
        with open(os.path.join(sa_dir, "token"), "w") as f:
            f.write(token)
        with open(os.path.join(sa_dir, "namespace"), "w") as f:
            f.write(ns)
        tokens = s.read_json("_tokens.json", default={}) or {}
        tokens[token] = {"namespace": ns, "serviceaccount": pod["spec"].get("serviceAccountName", "default"),
                         "pod": pod["metadata"]["name"]}
        s.write_json(tokens, "_tokens.json")
        from . import api_launcher
        env.update({"DEVX_AGENT_API_URL": "http://127.0.0.1:%d" % api_launcher.ensure_api(s),
                    "DEVX_AGENT_SA_DIR": sa_dir, "HOSTNAME": pod["metadata"]["name"]})
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ", "ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")}
        base.update(env)
        run_dir = s.path("_agents", ns)
        os.makedirs(run_dir, exist_ok=True)
        stem = os.path.join(run_dir, pod["metadata"]["name"])
        for suffix in (".pid", ".exit"):
            if os.path.exists(stem + suffix):
                os.remove(stem + suffix)
        log = open(stem + ".log", "ab")
        subprocess.Popen(
            ["/bin/sh", "-c", '"$0" "$@" & echo $! > "%s.pid"; wait $!; echo $? > "%s.exit"' % (stem, stem),
             agent] + args,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=base,
            start_new_session=True, close_fds=True)
        log.close()
        deadline = time.time() + 5
        while not os.path.exists(stem + ".pid") and time.time() < deadline:
            time.sleep(0.01)
        with open(stem + ".pid") as f:
            record["pid"] = int(f.read().strip() or 0)
        record.update({"exit_file": stem + ".exit", "log": stem + ".log", "sa_dir": sa_dir})
    s.write_json(record, "_agents", ns, pod["metadata"]["name"] + ".json")
    pod["status"].update({"phase": "Running", "podIP": "10.244.0.%d" % random.randint(2, 250)})
    refresh_pod(s, pod)


def refresh_pod(s, pod):
    """Phase and readiness as the kubelet would report them now (readiness = GET /readyz)."""
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    record = s.read_json("_agents", ns, name + ".json")
    if record is None or pod["status"].get("phase") not in ("Running",):
        return pod
    container = pod["spec"]["containers"][0]
    health = None
    probe = (container.get("readinessProbe") or {}).get("httpGet") or {}
    port = probe.get("port")
    if isinstance(port, str):
        for p in container.get("ports") or []:
            if p.get("name") == port:
                port = p.get("containerPort")
    if port is not None:
        health = record.get("ports", {}).get(str(port))
    exit_code = None
    if record.get("exit_file") and os.path.exists(record["exit_file"]):
        with open(record["exit_file"]) as f:
            text = f.read().strip()
        exit_code = int(text) if text.lstrip("-").isdigit() else 1
    elif record.get("pid") and not pid_alive(record["pid"]):
        exit_code = 137
    cs = {"name": container.get("name", ""), "image": container.get("image", ""), "restartCount": 0}
    if exit_code is not None:
        phase = "Succeeded" if exit_code == 0 else "Failed"
        pod["status"]["phase"] = phase
        cs.update({"ready": False, "started": False,
                   "state": {"terminated": {"exitCode": exit_code,
                                            "reason": "Completed" if exit_code == 0 else "Error"}}})
        ready = False
    else:
        if health is None:
            ready = not record.get("pid")
        else:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d%s" % (health, probe.get("path", "/")),
                                            timeout=0.5) as r:
                    ready = 200 <= r.status < 400
            except Exception:  # noqa: BLE001 - a failed probe is "not ready"
                ready = False
        cs.update({"ready": ready, "started": True, "state": {"running": {"startedAt": pod["status"].get("startTime")}}})
    pod["status"]["containerStatuses"] = [cs]
    flag = "True" if ready else "False"
    pod["status"]["conditions"] = [
        {"type": "Initialized", "status": "True"},
        {"type": "Ready", "status": flag},
        {"type": "ContainersReady", "status": flag},
        {"type": "PodScheduled", "status": "True"},
    ]
    return pod


def refresh_job(s, job):
    """Job status from its pod: Complete / Failed once the pod ended."""
    ns = job["metadata"]["namespace"]
    for pod in s.list(st.kind_info("pod"), ns):
        if not any(o.get("uid") == job["metadata"].get("uid") for o in pod["metadata"].get("ownerReferences", [])):
            continue
        refresh_pod(s, pod)
        phase = pod["status"].get("phase")
        status = job.setdefault("status", {})
        if phase in ("Succeeded", "Failed") and not status.get("conditions"):
            status.pop("active", None)
            ok = phase == "Succeeded"
            status["succeeded" if ok else "failed"] = 1
            status["conditions"] = [{"type": "Complete" if ok else "Failed", "status": "True",
                                     "reason": "" if ok else "BackoffLimitExceeded",
                                     "message": "" if ok else "Job has reached the specified backoff limit"}]
        elif phase == "Running":
            status["ready"] = 1 if any(c.get("type") == "Ready" and c.get("status") == "True"
                                       for c in pod["status"].get("conditions", [])) else 0
    return job


def stop_agent(s, ns, pod_name):
    """The kubelet's SIGTERM to a deleted pod's container."""
    record = s.read_json("_agents", ns, pod_name + ".json")
    if record and record.get("pid") and pid_alive(record["pid"]):
        try:
            os.kill(record["pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass


def collect_garbage(s, deleted_uid):
    """Deletes every object owned by deleted_uid, recursively (background propagation)."""
    pending = [deleted_uid]
    while pending:
        uid = pending.pop()
        for obj in s.all_objects():
            owners = obj.get("metadata", {}).get("ownerReferences") or []
            if any(o.get("uid") == uid for o in owners):
                info = st.kind_info(obj["kind"])
                meta = obj["metadata"]
                if obj["kind"] == "Pod":
                    stop_agent(s, meta.get("namespace"), meta["name"])
                s.delete_file(info, meta.get("namespace", ""), meta["name"])
                pending.append(meta.get("uid"))


def shutdown(s):
    """Test teardown: SIGTERM every agent and the API server."""
    agents = s.path("_agents")
    if os.path.isdir(agents):
        for ns in os.listdir(agents):
            for file in os.listdir(os.path.join(agents, ns)):
                if file.endswith(".json"):
                    stop_agent(s, ns, file[:-5])
    pid = s.read_json("_api", "pid.json")
    if pid and pid_alive(pid.get("pid")):
        os.kill(pid["pid"], signal.SIGTERM)
    print("fake cluster stopped", file=sys.stderr)
