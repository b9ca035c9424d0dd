"""The shop API (python3 standard library only).

  GET  /health  200 once PostgreSQL answers `SELECT 1` and Redis answers PING, else 503
  GET  /items   the items stored in PostgreSQL (newest first)
  POST /items   {"name": "..."}: queues a job on a Redis list for the worker (202)
  GET  /stats   items in PostgreSQL, jobs waiting in Redis, jobs the worker processed

DATABASE_URL and REDIS_URL come from devx (the api depends on the postgres and redis databases);
PORT is the port after shifting. The table is created at startup, before /health says ok.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import shop  # noqa: E402

DEBUG = os.environ.get("LOG_LEVEL") == "debug"


def health() -> dict:
    with shop.Redis() as redis:
        pong = redis.command("PING")
    return {"ok": True, "postgres": shop.sql("SELECT 1;") == "1", "redis": pong}


def stats() -> dict:
    with shop.Redis() as redis:
        queued = redis.command("LLEN", shop.QUEUE)
        processed = int(redis.command("GET", shop.PROCESSED) or 0)
    items = int(shop.sql("SELECT count(*) FROM items;"))
    return {"items": items, "queued": queued, "processed": processed}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        try:
            if self.path == "/health":
                self.reply(200, health())
            elif self.path == "/items":
                self.reply(200, shop.sql_json(
                    "SELECT id, name, stored_by, created_at FROM items ORDER BY id DESC LIMIT 100"))
            elif self.path == "/stats":
                self.reply(200, stats())
            else:
                self.reply(404, {"error": "not found"})
        except (OSError, RuntimeError, shop.RedisError) as e:
            self.reply(503, {"ok": False, "error": str(e)})

    def do_POST(self):
        if self.path != "/items":
            self.reply(404, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            name = str(json.loads(self.rfile.read(length) or b"{}").get("name", "")).strip()
        except (ValueError, AttributeError):
            name = ""
        if not name:
            self.reply(400, {"error": 'expected {"name": "..."}'})
            return
        try:
            with shop.Redis() as redis:
                queued = redis.command("LPUSH", shop.QUEUE, json.dumps({"name": name}))
        except (OSError, shop.RedisError) as e:
            self.reply(503, {"error": str(e)})
            return
        shop.log("api", f"queued {name!r} ({queued} waiting)")
        self.reply(202, {"queued": name})

    def log_message(self, fmt, *args):
        if DEBUG:
            shop.log("api", fmt % args)


if __name__ == "__main__":
    shop.sql(shop.SCHEMA)
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    shop.log("api", f"listening on 127.0.0.1:{port} (schema ready)")
    server.serve_forever()
