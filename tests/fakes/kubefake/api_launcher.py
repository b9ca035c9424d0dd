"""Starts tests/fakes/kube_api.py once per state directory; it lives until killed."""
import os
import subprocess
import sys
import time

from .pods import pid_alive


def ensure_api(s):
    """The port of the running fake API server (started now if needed). Caller holds the lock."""
    record = s.read_json("_api", "pid.json")
    if record and pid_alive(record.get("pid")) and record.get("port"):
        return record["port"]
    os.makedirs(s.path("_api"), exist_ok=True)
    port_file = s.path("_api", "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kube_api.py")
    log = open(s.path("_api", "log"), "ab")
    proc = subprocess.Popen([sys.executable, script, s.root], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    log.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                text = f.read().strip()
            if text:
                port = int(text)
                s.write_json({"pid": proc.pid, "port": port}, "_api", "pid.json")
                return port
        time.sleep(0.01)
    raise RuntimeError("fake API server did not start (see %s)" % s.path("_api", "log"))
