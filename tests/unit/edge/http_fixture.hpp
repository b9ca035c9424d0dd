#pragma once
// Real HTTP over loopback for the edge tests and bench: an upstream server (download, upload with
// hashing, WebSocket echo, a body ended by closing the connection) and keep-alive clients. The
// Beast code stays in http_fixture.cpp so the tests compile quickly.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devx::edge_test {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of the first header called `name` (case-insensitive), or "".
std::string header_value(const Headers& headers, std::string_view name);
bool has_header(const Headers& headers, std::string_view name);

std::string sha256_hex(std::string_view data);
// `size` bytes of a fixed pseudo-random pattern (the same for every call).
std::string pattern_bytes(std::size_t size);

struct ReceivedRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::uint64_t body_bytes = 0;
  std::string body_sha256;
};

// The upstream, on its own thread:
//   GET /download?bytes=N  → N pattern bytes (Content-Length)
//   any /upload            → "<bytes> <sha256 hex>" of the request body
//   GET /until-close?bytes=N → N pattern bytes, no length: the body ends when the connection does
//   GET /ws (Upgrade)      → WebSocket echo
//   GET /work?us=N         → "ok …" after N microseconds on the upstream's (only) thread's CPU
//   anything else          → "ok <method> <target>"
class Upstream {
 public:
  Upstream();
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;
  int port() const;
  std::vector<ReceivedRequest> requests() const;
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  double first_byte_seconds = 0;  // request sent → first body byte (or the header, without body)
  double body_seconds = 0;        // first body byte → last body byte
};

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port.
class Client {
 public:
  explicit Client(int port);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // Throws std::runtime_error when the connection fails or closes.
  Response request(const std::string& method, const std::string& target,
                   const Headers& headers = {}, const std::string& body = {});
  // True when the server closed the connection after the last response.
  bool closed_by_server();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Upgrades GET /ws on 127.0.0.1:port (with `headers`), sends each message and returns the echoes.
// Throws std::runtime_error when the upgrade is refused.
std::vector<std::string> websocket_echo(int port, const std::vector<std::string>& messages,
                                        const Headers& headers = {});

// "Basic <base64(user:password)>".
std::string basic_authorization(std::string_view user, std::string_view password);

}  // namespace devx::edge_test
