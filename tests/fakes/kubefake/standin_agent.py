#!/usr/bin/env python3
"""A stand-in for devx-bridge-agent, for tests of the fake cluster itself: takes the agent's
flags, listens on every --port (answering "agent:<service port>\n" to each connection), serves
/readyz and /livez on --health-port, and on SIGTERM restores the Service through the fake API
(the JSON patch guarded by the session annotation) like the real agent's self-heal."""
import json
import os
import signal
import socket
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def listen(port, reply):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)

    def loop():
        while True:
            c, _ = s.accept()
            c.sendall(reply)
            c.close()
    threading.Thread(target=loop, daemon=True).start()


class Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200 if self.path in ("/readyz", "/livez") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def restore():
    sa = os.environ["DEVX_AGENT_SA_DIR"]
    token = open(os.path.join(sa, "token")).read()
    ns, svc = os.environ["DEVX_TARGET_NAMESPACE"], os.environ["DEVX_TARGET_SERVICE"]
    url = "%s/api/v1/namespaces/%s/services/%s" % (os.environ["DEVX_AGENT_API_URL"], ns, svc)
    auth = {"Authorization": "Bearer " + token}
    with urllib.request.urlopen(urllib.request.Request(url, headers=auth)) as r:
        service = json.load(r)
    original = json.loads(service["metadata"]["annotations"]["devx.dev/original-selector"])
    ops = [{"op": "test", "path": "/metadata/annotations/devx.dev~1bridge-session",
            "value": os.environ["DEVX_BRIDGE_SESSION"]},
           {"op": "replace", "path": "/spec/selector", "value": original},
           {"op": "remove", "path": "/metadata/annotations/devx.dev~1bridge-session"},
           {"op": "remove", "path": "/metadata/annotations/devx.dev~1original-selector"}]
    request = urllib.request.Request(url, data=json.dumps(ops).encode(), method="PATCH",
                                     headers=dict(auth, **{"Content-Type": "application/json-patch+json"}))
    urllib.request.urlopen(request).close()


def main():
    for arg in sys.argv[1:]:
        name, _, value = arg.partition("=")
        if name == "--port":
            service_port, listen_port = value.split(":")
            listen(int(listen_port), ("agent:%s\n" % service_port).encode())
        elif name == "--health-port":
            server = ThreadingHTTPServer(("127.0.0.1", int(value)), Health)
            threading.Thread(target=server.serve_forever, daemon=True).start()
    done = threading.Event()

    def on_term(*_):
        try:
            restore()
        except Exception as e:  # noqa: BLE001 - report and end like the agent
            print("restore failed: %s" % e, flush=True)
        done.set()
    signal.signal(signal.SIGTERM, on_term)
    print("token=%d bytes" % len(os.environ.get("DEVX_BRIDGE_TOKEN", "")), flush=True)
    done.wait()


if __name__ == "__main__":
    main()
