"""Placeholder web front end: serves index.html from this folder (stdlib only)."""
import argparse
import functools
import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=here)
    print(f"web listening on :{args.port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), handler).serve_forever()
