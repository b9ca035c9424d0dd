"""Placeholder worker: polls the API every few seconds; `--check` is its health probe."""
import os
import sys
import time
import urllib.request

API = os.environ.get("API_URL", "http://localhost:8080")


def poll():
    with urllib.request.urlopen(f"{API}/products", timeout=2) as r:
        return r.status == 200


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(0 if poll() else 1)
    while True:
        try:
            print(f"worker: api ok={poll()}", flush=True)
        except OSError as e:
            print(f"worker: api unreachable: {e}", flush=True)
        time.sleep(5)
