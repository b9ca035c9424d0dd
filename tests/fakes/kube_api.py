#!/usr/bin/env python3
"""A tiny Kubernetes API server over the fake kubectl's state directory (argv[1]), for the agent's
own REST calls: GET and PATCH (json-patch+json, merge-patch+json) of
/api/v1/namespaces/NS/services/NAME, with Bearer tokens the fake handed to agent pods and the RBAC
of their Role. Errors are Status objects with the apiserver's codes and messages. Started by the
fake kubectl (kubefake/api_launcher.py); writes its port to <state>/_api/port; runs until killed."""
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from kubefake import jsonpatch  # noqa: E402
from kubefake import state as st  # noqa: E402

STATE = st.State(sys.argv[1])
SERVICE_PATH = re.compile(r"^/api/v1/namespaces/([a-z0-9-]+)/services/([a-z0-9-]+)$")


def status(code, reason, message, causes=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if causes:
        body["details"] = {"causes": causes}
    return code, body


def allowed(s, identity, verb, ns, name):
    if identity["namespace"] != ns:
        return False
    for binding in s.list(st.kind_info("rolebinding"), ns):
        if not any(sub.get("kind") == "ServiceAccount" and sub.get("name") == identity["serviceaccount"]
                   and sub.get("namespace", ns) == ns for sub in binding.get("subjects") or []):
            continue
        ref = binding.get("roleRef") or {}
        role = s.get(st.kind_info("role"), ns, ref.get("name", "")) if ref.get("kind") == "Role" else None
        for rule in (role or {}).get("rules") or []:
            if ("" in rule.get("apiGroups", []) and "services" in rule.get("resources", [])
                    and verb in rule.get("verbs", [])
                    and (not rule.get("resourceNames") or name in rule["resourceNames"])):
                return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("kube_api: " + (fmt % args) + "\n")

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_request(self, verb, body):
        if self.path in ("/healthz", "/readyz", "/livez"):
            return 200, "ok"
        m = SERVICE_PATH.match(self.path.split("?", 1)[0])
        with STATE as s:
            s.log_call({"api": "%s %s" % (self.command, self.path),
                        "content_type": self.headers.get("Content-Type"),
                        "body": body.decode(errors="replace") if body else None})
            auth = self.headers.get("Authorization", "")
            tokens = s.read_json("_tokens.json", default={}) or {}
            identity = tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
            if identity is None:
                return status(401, "Unauthorized", "Unauthorized")
            if m is None:
                return status(404, "NotFound", "the server could not find the requested resource")
            ns, name = m.groups()
            user = "system:serviceaccount:%s:%s" % (identity["namespace"], identity["serviceaccount"])
            if not allowed(s, identity, verb, ns, name):
                return status(403, "Forbidden",
                              'services "%s" is forbidden: User "%s" cannot %s resource "services" in API '
                              'group "" in the namespace "%s"' % (name, user, verb, ns))
            info = st.kind_info("service")
            obj = s.get(info, ns, name)
            if obj is None:
                return status(404, "NotFound", 'services "%s" not found' % name)
            if verb == "get":
                return 200, obj
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            try:
                patch = json.loads(body or b"null")
            except ValueError as e:
                return status(400, "BadRequest", "error decoding patch: %s" % e)
            try:
                if content_type == "application/json-patch+json":
                    result = jsonpatch.apply_json_patch(obj, patch)
                elif content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                    result = jsonpatch.apply_merge_patch(obj, patch)
                else:
                    return status(415, "UnsupportedMediaType",
                                  'the body of the request was in an unknown format - accepted media types '
                                  'include: application/json-patch+json, application/merge-patch+json, '
                                  'application/apply-patch+yaml')
            except jsonpatch.PatchError as e:
                return status(422, "Invalid", "the server rejected our request due to an error in our request",
                              [{"reason": "UnexpectedServerResponse", "message": str(e)}])
            for key in ("annotations", "labels"):
                if key in result.get("metadata", {}) and not result["metadata"][key]:
                    del result["metadata"][key]
            if result != obj:
                result["metadata"]["resourceVersion"] = s.next_resource_version()
                s.put(result)
            return 200, result

    def do_GET(self):  # noqa: N802 - BaseHTTPRequestHandler's naming
        code, body = self.handle_request("get", b"")
        self.reply(code, body)

    def do_PATCH(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        code, body = self.handle_request("patch", self.rfile.read(length))
        self.reply(code, body)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_file = STATE.path("_api", "port")
    os.makedirs(os.path.dirname(port_file), exist_ok=True)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
