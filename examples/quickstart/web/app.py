"""The shop web front end (python3 standard library only): serves index.html and proxies /api/*
to the API. API_URL comes from devx (web depends on the service `api`: API_URL, API_HOST,
API_PORT); PORT is this service's port after shifting."""
import functools
import os
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

API_URL = os.environ.get("API_URL", "http://127.0.0.1:8080").rstrip("/")
HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(SimpleHTTPRequestHandler):
    def proxy(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        request = urllib.request.Request(
            API_URL + self.path[len("/api"):] or "/", data=body, method=method,
            headers={"Content-Type": self.headers.get("Content-Type", "application/json")})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                status, data, kind = r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            status, data, kind = e.code, e.read(), e.headers.get("Content-Type")
        except OSError as e:
            status, data, kind = 502, f'{{"error": "api unreachable: {e}"}}'.encode(), None
        self.send_response(status)
        self.send_header("Content-Type", kind or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/api/"):
            self.proxy("GET")
        else:
            super().do_GET()

    def do_POST(self):
        if self.path.startswith("/api/"):
            self.proxy("POST")
        else:
            self.send_error(405)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "3000"))
    server = ThreadingHTTPServer(("127.0.0.1", port),
                                 functools.partial(Handler, directory=HERE))
    print(f"web: listening on 127.0.0.1:{port}, proxying /api to {API_URL}", flush=True)
    server.serve_forever()
