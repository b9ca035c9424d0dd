#pragma once
// The small servers behind the webhook and mail catchers, with no Asio or Beast type in sight:
// an event loop that runs on the caller's thread until stopped, an HTTP/1.1 listener that hands
// each complete request to a handler, and (in lib/mail) an SMTP listener on the same loop. All
// handlers run on the thread calling EventLoop::run.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace devx::net {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Serves until `stop` is requested; returns promptly then. Pending connections are dropped.
  void run(std::stop_token stop);

  struct Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpServerRequest {
  std::string method;
  std::string target;         // path + query as sent
  HeaderList headers;         // order, spelling and repeats as received
  std::string body;           // at most the listener's body limit
  std::size_t body_size = 0;  // the full size (the rest was read and discarded)
  bool truncated = false;
  std::string remote;                             // "ip:port"
  std::chrono::steady_clock::time_point started;  // first byte of the request seen
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Binds `address`:`port` (0 = ephemeral) at construction: Error(port_in_use) when taken,
// Error(invalid_argument) for an address that is not an IP literal.
class HttpListener {
 public:
  using Handler = std::function<HttpServerResponse(const HttpServerRequest&)>;
  HttpListener(EventLoop& loop, const std::string& address, int port, std::size_t body_limit,
               Handler handler);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;
  int port() const noexcept;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace devx::net
