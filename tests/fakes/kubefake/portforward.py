"""kubectl port-forward: binds the local port (or lets the kernel pick one), prints kubectl's
"Forwarding from" line and relays every accepted connection to the pod behind the target — an agent
started by this fake (its remapped port) or, for a Service not backed by such a pod, the address a
test configured in _forward/<ns>/<service>.json. Faults come from _config.json "port_forward"."""
import errno
import os
import signal
import socket
import sys
import threading
import time

from . import state as st
from .cli import Exit, check_allowed, check_server, fail, not_found, resolve_kind
from . import pods


def _pod_port_map(s, pod):
    record = s.read_json("_agents", pod["metadata"]["namespace"], pod["metadata"]["name"] + ".json") or {}
    return {int(k): ("127.0.0.1", v) for k, v in (record.get("ports") or {}).items()}


def _container_port(pod, name):
    for c in pod["spec"].get("containers", []):
        for p in c.get("ports") or []:
            if p.get("name") == name:
                return p.get("containerPort")
    return None


def _resolve(s, flags, target, remote):
    """(description, (host, port) or None) for the connection target, as kubectl resolves once."""
    config = s.config()
    check_server(s, config)
    ns = flags.get("-n", "default")
    kind, _, name = target.rpartition("/")
    info = resolve_kind(kind or "pod")
    if info[0] == "Service":
        check_allowed(config, "get", info, ns, name)
        svc = s.get(info, ns, name)
        if svc is None:
            fail(not_found(info, name))
        port = next((p for p in svc["spec"].get("ports", []) if p.get("port") == remote), None)
        if port is None:
            fail("error: Service %s does not have a service port %d" % (name, remote))
        selector = svc["spec"].get("selector") or {}
        check_allowed(config, "list", st.kind_info("pod"), ns)
        for pod in s.list(st.kind_info("pod"), ns):
            labels = pod["metadata"].get("labels") or {}
            if not selector or any(labels.get(k) != v for k, v in selector.items()):
                continue
            pods.refresh_pod(s, pod)
            if pod["status"].get("phase") != "Running":
                continue
            target_port = port.get("targetPort", remote)
            if isinstance(target_port, str):
                target_port = _container_port(pod, target_port)
            mapping = _pod_port_map(s, pod)
            if target_port in mapping:
                check_allowed(config, "create", st.kind_info("pod"), ns, pod["metadata"]["name"], "portforward")
                return mapping[target_port]
        fixture = s.read_json("_forward", ns, name + ".json") or {}
        address = fixture.get(str(remote))
        if address is None:
            fail("error: timed out waiting for the condition")
        check_allowed(config, "create", st.kind_info("pod"), ns, name + "-pod", "portforward")
        host, _, port_text = address.rpartition(":")
        return (host or "127.0.0.1", int(port_text))
    if info[0] != "Pod":
        fail('error: cannot attach to %s: selector for %s not implemented' % (info[0], info[0]))
    check_allowed(config, "get", info, ns, name)
    pod = s.get(info, ns, name)
    if pod is None:
        fail(not_found(info, name))
    pods.refresh_pod(s, pod)
    if pod["status"].get("phase") != "Running":
        fail("error: unable to forward port because pod is not running. Current status=%s"
             % pod["status"].get("phase", "Pending"))
    check_allowed(config, "create", info, ns, name, "portforward")
    return _pod_port_map(s, pod).get(remote)


def _pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)  # half-close, as the SPDY stream does
        except OSError:
            pass


def _relay(client, address, local, remote, drop):
    if drop:
        client.close()
        return
    try:
        upstream = socket.create_connection(address, timeout=5) if address else None
        if upstream is None:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "connection refused")
        upstream.settimeout(None)
    except OSError as e:
        sys.stderr.write('E1128 15:26:01.123456   12345 portforward.go:424] "Unhandled Error" err="an error '
                         'occurred forwarding %d -> %d: error forwarding port %d to pod: dial tcp4 '
                         '127.0.0.1:%d: connect: %s"\n' % (local, remote, remote, remote, e.strerror or e))
        sys.stderr.flush()
        client.close()
        return
    a = threading.Thread(target=_pipe, args=(client, upstream), daemon=True)
    b = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    client.close()
    upstream.close()


def run(s, flags, args):
    try:
        if len(args) < 2:
            fail("error: TYPE/NAME and list of ports are required for port-forward")
        target, spec = args[0], args[1]
        local_text, _, remote_text = spec.rpartition(":") if ":" in spec else (spec, ":", spec)
        remote = int(remote_text)
        local = int(local_text) if local_text else 0
        with s:
            config = s.config()
            faults = config.get("port_forward") or {}
            attempts = int(config.get("_port_forward_attempts", 0)) + 1
            config["_port_forward_attempts"] = attempts
            s.save_config(config)
            address = _resolve(s, flags, target, remote)
        if attempts <= int(faults.get("fail_first", 0)):
            fail("error: error upgrading connection: unable to upgrade connection: pod does not exist")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bind_host = flags.get("--address", "localhost")
        bind_host = "127.0.0.1" if bind_host == "localhost" else bind_host
        try:
            listener.bind((bind_host, local))
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            fail("Unable to listen on port %d: Listeners failed to create with the following errors: "
                 "[unable to create listener: Error listen tcp4 %s:%d: bind: address already in use]\n"
                 "error: unable to listen on any of the requested ports: [{%d %d}]"
                 % (local, bind_host, local, local, remote))
        listener.listen(64)
        port = listener.getsockname()[1]
        sys.stdout.write("Forwarding from %s:%d -> %d\n" % (bind_host, port, remote))
        sys.stdout.flush()
    except Exit as e:
        sys.stderr.write(e.stderr.rstrip("\n") + "\n")
        return e.code

    exit_after = faults.get("exit_after")
    if exit_after is not None:
        code = int(faults.get("exit_code", 0))

        def expire():
            time.sleep(float(exit_after))
            if code != 0:
                sys.stderr.write("error: lost connection to pod\n")
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(code)
        threading.Thread(target=expire, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    drop = bool(faults.get("drop_connections"))
    while True:
        client, _ = listener.accept()
        sys.stdout.write("Handling connection for %d\n" % port)
        sys.stdout.flush()
        threading.Thread(target=_relay, args=(client, address, port, remote, drop), daemon=True).start()
