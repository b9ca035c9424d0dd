#!/usr/bin/env python3
"""A fake Cloudflare API v4 on loopback, for the tunnel and sites tests.

    cloudflare_api.py --state STATE.json [--port 0] [--url-file F] [--token T] [--zone NAME]...

Prints its base URL ("http://127.0.0.1:PORT/client/v4") on stdout (and writes it to --url-file),
then serves until SIGTERM/SIGINT. All state lives in the JSON file STATE (read before and written
after every request under a lock), so tests can seed it and inspect it: accounts, tokens, zones,
dns_records, tunnels, configurations, connectors, "requests" (the log of every call: method, path,
query, body) and "fail" (injected failures).

Faithful to the real API where devx depends on it: `Authorization: Bearer` (missing → 400 code
6003 with error_chain 6111; unknown token → 403 code 10000 "Authentication error"), the envelope
{"success","errors","messages","result","result_info"}, pagination (page ≥ 1, per_page capped by
the state's "max_per_page", default 50; result_info {page,per_page,count,total_count,
total_pages}), exact-name filters on zones, dns_records and cfd_tunnel (URL-decoded), body
validation (type, name inside the zone, content, ttl, proxied; tunnel config_src; ingress whose
last rule is the catch-all), 81053 when an A/AAAA/CNAME of that name exists, 7003/7000 for unknown
routes and objects. Injected failures: {"method","path" (regex),"status","errors":[…] or "raw",
"content_type","times","retry_after"} entries in state["fail"]; "raw" serves a non-JSON body (a
502 page); "retry_after" adds a Retry-After header (seconds). A 429 without "errors" answers as
Cloudflare's rate limiter does: code 971 "Please wait and consider throttling your request speed"
(with Retry-After when the rule gives one). An injected failure is logged in "requests" like any
other call, so tests count attempts there.

Connector endpoints for tests/fakes/cloudflared (not part of the real API): POST
/__fake/connectors {"token","edge","pid"} registers a connection (the tunnel becomes "healthy"),
DELETE /__fake/connectors/<id> ends it, GET /__fake/ingress with header `Tunnel-Token` returns
the tunnel's current remote ingress.
"""
import argparse
import base64
import datetime
import fcntl
import json
import os
import re
import secrets
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

PREFIX = "/client/v4"
LOCK = threading.Lock()


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def hex_id():
    return secrets.token_hex(16)


class ApiError(Exception):
    def __init__(self, status, errors=None, raw=None, content_type="text/html", headers=None):
        super().__init__(status)
        self.status = status
        self.errors = errors or []
        self.raw = raw
        self.content_type = content_type
        self.headers = headers or {}


def err(status, code, message, chain=None):
    e = {"code": code, "message": message}
    if chain:
        e["error_chain"] = chain
    return ApiError(status, [e])


class Store:
    def __init__(self, path, tokens, zones):
        self.path = path
        if not os.path.exists(path):
            account = {"id": hex_id(), "name": "Dev Account"}
            data = {"accounts": [account], "tokens": tokens or ["test-token"], "zones": [],
                    "dns_records": {}, "tunnels": [], "configurations": {}, "connectors": [],
                    "requests": [], "fail": [], "max_per_page": 50}
            for name in zones:
                data["zones"].append(new_zone(name, account))
            self.save(data)

    def load(self):
        with open(self.path) as f:
            return json.load(f)

    def save(self, data):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, self.path)

    def __enter__(self):
        LOCK.acquire()
        self._fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.data = self.load()
        return self.data

    def __exit__(self, *exc):
        try:
            self.save(self.data)
        finally:
            os.close(self._fd)
            LOCK.release()
        return False


def new_zone(name, account):
    return {"id": hex_id(), "name": name, "status": "active", "paused": False, "type": "full",
            "account": {"id": account["id"], "name": account["name"]},
            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            "created_on": now(), "modified_on": now()}


def paginate(items, query, data, default_per_page):
    try:
        page = int(query.get("page", "1"))
        per_page = int(query.get("per_page", str(default_per_page)))
    except ValueError:
        raise err(400, 1001, "Invalid page or per_page value")
    if page < 1 or per_page < 1:
        raise err(400, 1001, "page and per_page must be positive")
    per_page = min(per_page, int(data.get("max_per_page", 50)))
    total = len(items)
    pages = max(1, -(-total // per_page))
    chunk = items[(page - 1) * per_page: page * per_page]
    return chunk, {"page": page, "per_page": per_page, "count": len(chunk),
                   "total_count": total, "total_pages": pages}


def public_tunnel(t):
    return {k: t[k] for k in ("id", "account_tag", "created_at", "deleted_at", "name",
                              "connections", "conns_active_at", "conns_inactive_at", "tun_type",
                              "metadata", "status", "remote_config")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def reply(self, status, body, content_type="application/json", headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            with self.store as data:
                if split.path.startswith("/__fake/"):
                    status, result = self.fake_route(data, split.path, raw_body)
                    self.reply(status, result)
                    return
                data["requests"].append({"method": self.command, "path": split.path,
                                         "query": query, "raw_query": split.query,
                                         "body": raw_body.decode(errors="replace")})
                self.inject_failure(data, split.path)
                self.authenticate(data)
                body = None
                if self.command in ("POST", "PUT", "PATCH") and raw_body:
                    try:
                        body = json.loads(raw_body)
                    except ValueError:
                        raise err(400, 9207, "Request body is invalid.")
                status, result, info = self.route(data, split.path, query, body)
            envelope = {"success": True, "errors": [], "messages": [], "result": result}
            if info is not None:
                envelope["result_info"] = info
            self.reply(status, envelope)
        except ApiError as e:
            if e.raw is not None:
                self.reply(e.status, e.raw.encode(), e.content_type, e.headers)
            else:
                self.reply(e.status, {"success": False, "errors": e.errors, "messages": [],
                                      "result": None}, headers=e.headers)

    def inject_failure(self, data, path):
        for rule in data.get("fail", []):
            if rule.get("method", self.command) != self.command:
                continue
            if not re.search(rule.get("path", ""), path[len(PREFIX):]):
                continue
            if rule.get("times", 1) <= 0:
                continue
            rule["times"] = rule.get("times", 1) - 1
            headers = {}
            if "retry_after" in rule:
                headers["Retry-After"] = str(rule["retry_after"])
            if "raw" in rule:
                raise ApiError(rule.get("status", 502), raw=rule["raw"],
                               content_type=rule.get("content_type", "text/html"),
                               headers=headers)
            status = rule.get("status", 400)
            errors = rule.get("errors")
            if errors is None and status == 429:
                errors = [{"code": 971,
                           "message": "Please wait and consider throttling your request speed"}]
            raise ApiError(status, errors or [], headers=headers)

    def authenticate(self, data):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise err(400, 6003, "Invalid request headers",
                      [{"code": 6111, "message": "Invalid format for Authorization header"}])
        if header[7:] not in data["tokens"]:
            raise err(403, 10000, "Authentication error")

    # -- the API ---------------------------------------------------------------------------------
    def route(self, data, path, query, body):
        if not path.startswith(PREFIX + "/"):
            raise err(400, 7000, "No route for that URI")
        parts = [unquote(p) for p in path[len(PREFIX) + 1:].split("/")]
        method = self.command
        if parts == ["accounts"] and method == "GET":
            chunk, info = paginate(data["accounts"], query, data, 20)
            return 200, chunk, info
        if parts == ["zones"] and method == "GET":
            zones = [z for z in data["zones"]
                     if (not query.get("name") or z["name"] == query["name"])
                     and (not query.get("status") or z["status"] == query["status"])]
            chunk, info = paginate(zones, query, data, 20)
            return 200, chunk, info
        if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
            zone = next((z for z in data["zones"] if z["id"] == parts[1]), None)
            if zone is None:
                raise err(404, 7003, f"Could not route to {path}, perhaps your object identifier "
                                     "is invalid?")
            return self.dns(data, zone, parts[3:], method, query, body)
        if len(parts) >= 3 and parts[0] == "accounts" and parts[2] == "cfd_tunnel":
            if not any(a["id"] == parts[1] for a in data["accounts"]):
                raise err(404, 7003, f"Could not route to {path}, perhaps your object identifier "
                                     "is invalid?")
            return self.tunnels(data, parts[1], parts[3:], method, query, body, path)
        raise err(400, 7000, "No route for that URI")

    def dns(self, data, zone, rest, method, query, body):
        records = data["dns_records"].setdefault(zone["id"], [])
        if not rest:
            if method == "GET":
                found = [r for r in records
                         if (not query.get("type") or r["type"] == query["type"])
                         and (not query.get("name") or r["name"] == query["name"])]
                chunk, info = paginate(found, query, data, 100)
                return 200, chunk, info
            if method == "POST":
                record = self.valid_record(zone, body)
                same = [r for r in records if r["name"] == record["name"]]
                if record["type"] == "CNAME" and same or \
                        any(r["type"] == "CNAME" for r in same) and record["type"] in ("A", "AAAA"):
                    raise err(400, 81053, "An A, AAAA, or CNAME record with that host already "
                                          "exists. For more details, refer to <https://developers."
                                          "cloudflare.com/dns/manage-dns-records/troubleshooting/"
                                          "records-with-same-name/>.")
                if any(r["type"] == record["type"] and r["content"] == record["content"]
                       for r in same):
                    raise err(400, 81058, "An identical record already exists.")
                record.update({"id": hex_id(), "zone_id": zone["id"], "zone_name": zone["name"],
                               "proxiable": True, "locked": False, "meta": {},
                               "created_on": now(), "modified_on": now()})
                records.append(record)
                return 200, record, None
            raise err(405, 10405, "Method not allowed")
        record = next((r for r in records if r["id"] == rest[0]), None)
        if record is None or len(rest) > 1:
            raise err(404, 81044, "Record does not exist.")
        if method == "GET":
            return 200, record, None
        if method in ("PUT", "PATCH"):
            merged = dict(record) if method == "PATCH" else {}
            merged.update(body or {})
            valid = self.valid_record(zone, merged)
            record.update(valid)
            record["modified_on"] = now()
            return 200, record, None
        if method == "DELETE":
            records.remove(record)
            return 200, {"id": record["id"]}, None
        raise err(405, 10405, "Method not allowed")

    def valid_record(self, zone, body):
        if not isinstance(body, dict):
            raise err(400, 9207, "Request body is invalid.")
        kind = body.get("type")
        if kind not in ("A", "AAAA", "CNAME", "TXT", "MX", "NS"):
            raise err(400, 9004, "DNS record type is invalid.")
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise err(400, 9005, "DNS name is invalid.")
        if name == "@":
            name = zone["name"]
        elif name != zone["name"] and not name.endswith("." + zone["name"]):
            name = name + "." + zone["name"]
        if not re.fullmatch(r"(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9-]+", name):
            raise err(400, 9005, f"DNS name is invalid. ({name})")
        content = body.get("content")
        if not isinstance(content, str) or not content:
            raise err(400, 9006, "Content for DNS record is invalid.")
        ttl = body.get("ttl", 1)
        if not isinstance(ttl, int) or not (ttl == 1 or 60 <= ttl <= 86400):
            raise err(400, 9021, "Invalid TTL. Must be between 60 and 86400, or 1 for automatic.")
        proxied = body.get("proxied", False)
        if not isinstance(proxied, bool):
            raise err(400, 9003, "Invalid 'proxied' value, must be a boolean")
        out = {"type": kind, "name": name, "content": content, "ttl": ttl, "proxied": proxied,
               "comment": body.get("comment"), "tags": body.get("tags", [])}
        return out

    def tunnels(self, data, account, rest, method, query, body, path):
        mine = [t for t in data["tunnels"] if t["account_tag"] == account]
        if not rest:
            if method == "GET":
                deleted = query.get("is_deleted")
                found = [t for t in mine
                         if (not query.get("name") or t["name"] == query["name"])
                         and (deleted != "false" or t["deleted_at"] is None)
                         and (deleted != "true" or t["deleted_at"] is not None)]
                chunk, info = paginate([public_tunnel(t) for t in found], query, data, 20)
                return 200, chunk, info
            if method == "POST":
                if not isinstance(body, dict) or not isinstance(body.get("name"), str) \
                        or not body["name"]:
                    raise err(400, 1003, "Missing or invalid tunnel name")
                if body.get("config_src", "local") not in ("local", "cloudflare"):
                    raise err(400, 1003, "config_src must be 'local' or 'cloudflare'")
                if any(t["name"] == body["name"] and t["deleted_at"] is None for t in mine):
                    raise err(409, 1013, "You already have a tunnel with this name")
                tunnel = {"id": str(uuid.uuid4()), "account_tag": account, "created_at": now(),
                          "deleted_at": None, "name": body["name"], "connections": [],
                          "conns_active_at": None, "conns_inactive_at": now(),
                          "tun_type": "cfd_tunnel", "metadata": {}, "status": "inactive",
                          "remote_config": body.get("config_src") == "cloudflare",
                          "secret": body.get("tunnel_secret") or base64.b64encode(
                              secrets.token_bytes(32)).decode()}
                data["tunnels"].append(tunnel)
                return 200, public_tunnel(tunnel), None
            raise err(405, 10405, "Method not allowed")
        tunnel = next((t for t in mine if t["id"] == rest[0] and t["deleted_at"] is None), None)
        if tunnel is None:
            raise err(404, 1003, "Tunnel not found") if method != "GET" or len(rest) > 1 else \
                err(404, 1003, "Tunnel not found")
        if rest[1:] == [] and method == "GET":
            return 200, public_tunnel(tunnel), None
        if rest[1:] == [] and method == "DELETE":
            if tunnel["connections"] and query.get("cascade") != "true":
                raise err(400, 1022, "Cannot delete tunnel because it has active connections")
            tunnel["deleted_at"] = now()
            data["configurations"].pop(tunnel["id"], None)
            return 200, public_tunnel(tunnel), None
        if rest[1:] == ["token"] and method == "GET":
            token = json.dumps({"a": account, "t": tunnel["id"], "s": tunnel["secret"]})
            return 200, base64.b64encode(token.encode()).decode(), None
        if rest[1:] == ["configurations"]:
            if method == "GET":
                config = data["configurations"].get(tunnel["id"])
                return 200, {"tunnel_id": tunnel["id"], "version": config["version"] if config
                             else 0, "config": config["config"] if config else None,
                             "source": "cloudflare", "created_at": now()}, None
            if method == "PUT":
                config = self.valid_config(body)
                previous = data["configurations"].get(tunnel["id"], {"version": 0})
                data["configurations"][tunnel["id"]] = {"version": previous["version"] + 1,
                                                        "config": config}
                return 200, {"tunnel_id": tunnel["id"], "version": previous["version"] + 1,
                             "config": config, "source": "cloudflare",
                             "created_at": now()}, None
        raise err(404, 7003, f"Could not route to {path}, perhaps your object identifier is "
                             "invalid?")

    def valid_config(self, body):
        config = body.get("config") if isinstance(body, dict) else None
        ingress = config.get("ingress") if isinstance(config, dict) else None
        if not isinstance(ingress, list) or not ingress:
            raise err(400, 1055, "Validation failed: config.ingress is required")
        for i, rule in enumerate(ingress):
            if not isinstance(rule, dict) or not isinstance(rule.get("service"), str):
                raise err(400, 1055, f"Validation failed: ingress rule {i + 1} has no service")
            service = rule["service"]
            if not re.match(r"(https?|tcp|ssh|rdp|unix|http_status):", service):
                raise err(400, 1055, f"Validation failed: ingress rule {i + 1}: service "
                                     f"'{service}' is invalid")
            last = i == len(ingress) - 1
            if last and (rule.get("hostname") or rule.get("path")):
                raise err(400, 1056, "Validation failed: The last ingress rule must match all "
                                     "URLs (i.e. it should not have a hostname or path filter)")
            if not last and not rule.get("hostname"):
                raise err(400, 1056, f"Validation failed: Rule #{i + 1} is matching all URLs, "
                                     "but it is not the last rule")
        return config

    # -- the connector side (tests/fakes/cloudflared) --------------------------------------------
    def fake_route(self, data, path, raw_body):
        def tunnel_of(token):
            try:
                claims = json.loads(base64.b64decode(token))
            except (ValueError, TypeError):
                raise err(401, 1000, "Invalid tunnel token")
            tunnel = next((t for t in data["tunnels"] if t["id"] == claims.get("t")
                           and t["deleted_at"] is None), None)
            if tunnel is None or tunnel["secret"] != claims.get("s") \
                    or tunnel["account_tag"] != claims.get("a"):
                raise err(401, 1000, "Invalid tunnel token")
            return tunnel

        try:
            if path == "/__fake/connectors" and self.command == "POST":
                body = json.loads(raw_body)
                tunnel = tunnel_of(body.get("token", ""))
                conn = {"id": str(uuid.uuid4()), "tunnel_id": tunnel["id"],
                        "edge": body.get("edge"), "pid": body.get("pid"), "opened_at": now()}
                data["connectors"].append(conn)
                tunnel["connections"].append({"id": conn["id"], "colo_name": "ams08",
                                              "is_pending_reconnect": False,
                                              "opened_at": conn["opened_at"],
                                              "origin_ip": "127.0.0.1"})
                tunnel["status"] = "healthy"
                tunnel["conns_active_at"] = now()
                return 200, conn
            if path.startswith("/__fake/connectors/") and self.command == "DELETE":
                conn_id = path.rsplit("/", 1)[1]
                data["connectors"] = [c for c in data["connectors"] if c["id"] != conn_id]
                for t in data["tunnels"]:
                    t["connections"] = [c for c in t["connections"] if c["id"] != conn_id]
                    if not t["connections"] and t["status"] == "healthy":
                        t["status"] = "down"
                        t["conns_inactive_at"] = now()
                return 200, {"id": conn_id}
            if path == "/__fake/ingress" and self.command == "GET":
                tunnel = tunnel_of(self.headers.get("Tunnel-Token", ""))
                config = data["configurations"].get(tunnel["id"])
                return 200, {"tunnel_id": tunnel["id"],
                             "ingress": (config or {}).get("config", {}).get("ingress", [])}
        except ApiError as e:
            return e.status, {"errors": e.errors}
        return 404, {"errors": [{"code": 7000, "message": "No route for that URI"}]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--url-file")
    parser.add_argument("--token", action="append", default=[])
    parser.add_argument("--zone", action="append", default=[])
    args = parser.parse_args()
    Handler.store = Store(args.state, args.token, args.zone)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    if args.url_file:
        tmp = args.url_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, args.url_file)
    print(url, flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
