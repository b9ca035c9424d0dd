"""What the quickstart services share, written for Debian's python3 standard library only.

* `Redis`: a minimal RESP2 client over a socket, configured from REDIS_URL.
* `sql()`: runs SQL through the `psql` client, connected from DATABASE_URL. The URL is split into
  PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for the child's environment, so the password never
  appears in a command line.
"""
import json
import os
import socket
import subprocess
import urllib.parse

QUEUE = os.environ.get("JOBS_QUEUE", "quickstart:jobs")
PROCESSED = "quickstart:processed"

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id         serial PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    stored_by  text NOT NULL
);
"""


def log(service: str, message: str) -> None:
    print(f"{service}: {message}", flush=True)


class RedisError(Exception):
    pass


class Redis:
    def __init__(self, url: str | None = None, timeout: float = 5.0):
        parts = urllib.parse.urlsplit(url or os.environ["REDIS_URL"])
        self.sock = socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout
        )
        self.reader = self.sock.makefile("rb")
        if parts.password:
            self.command("AUTH", urllib.parse.unquote(parts.password))
        db = (parts.path or "/").lstrip("/")
        if db and db != "0":
            self.command("SELECT", db)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def command(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))
        return self._reply()

    def _reply(self):
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.reader.read(size + 2)[:-2].decode()
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._reply() for _ in range(size)]
        raise RedisError(f"unexpected reply {line!r}")


def _pg_env() -> dict:
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env = dict(os.environ)
    env.update(
        PGHOST=url.hostname or "127.0.0.1",
        PGPORT=str(url.port or 5432),
        PGUSER=urllib.parse.unquote(url.username or ""),
        PGPASSWORD=urllib.parse.unquote(url.password or ""),
        PGDATABASE=url.path.lstrip("/") or "postgres",
        PGCONNECT_TIMEOUT="5",
    )
    env.pop("DATABASE_URL", None)
    return env


def sql(query: str, **variables) -> str:
    """Runs `query` (psql variables :'name' come from `variables`); returns psql's unaligned,
    tuples-only output without the trailing newline. Raises RuntimeError with psql's error."""
    argv = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    argv += [f"--set={name}={value}" for name, value in variables.items()]
    done = subprocess.run(
        argv, input=query, env=_pg_env(), capture_output=True, text=True, timeout=15
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql: {done.stderr.strip()}")
    return done.stdout.rstrip("\n")


def sql_json(query: str, **variables):
    """Rows of `query` as a list of JSON objects."""
    text = sql(f"SELECT coalesce(json_agg(t), '[]') FROM ({query}) t;", **variables)
    return json.loads(text or "[]")
