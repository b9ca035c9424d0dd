"""The shop worker (python3 standard library only): takes jobs from a Redis list (BRPOP), stores
each item in PostgreSQL and counts it in Redis. Prints "worker: ready" once both answer — the
line its log health check waits for. `--check` exits 0 when Redis and PostgreSQL answer."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import shop  # noqa: E402

NAME = f"worker@{socket.gethostname()}:{os.getpid()}"


def check() -> bool:
    with shop.Redis() as redis:
        return redis.command("PING") == "PONG" and shop.sql("SELECT 1;") == "1"


def store(job: str) -> None:
    name = json.loads(job)["name"]
    row = shop.sql(
        "INSERT INTO items (name, stored_by) VALUES (:'name', :'by') RETURNING id;",
        name=name, by=NAME)
    shop.log("worker", f"stored {name!r} as item {row}")


def main() -> None:
    shop.sql(shop.SCHEMA)
    with shop.Redis() as redis:
        redis.command("PING")
        shop.log("worker", f"ready, waiting for jobs on {shop.QUEUE}")
        while True:
            reply = redis.command("BRPOP", shop.QUEUE, 1)
            if reply is None:
                continue
            try:
                store(reply[1])
                redis.command("INCR", shop.PROCESSED)
            except (RuntimeError, ValueError, KeyError) as e:
                shop.log("worker", f"job {reply[1]!r} failed: {e}")
                time.sleep(0.5)


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(0 if check() else 1)
    main()
