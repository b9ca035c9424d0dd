#pragma once
// A listening layer of a proxy chain and the Asio pieces the TCP and HTTP layers share. Included
// only by the proxy translation units.
#include <devx/edge.hpp>
#include <devx/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "edge/edge_internal.hpp"

namespace devx::edge {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Layer {
 public:
  virtual ~Layer() = default;
  virtual int port() const = 0;
  // Starts accepting (on the chain's thread once it runs).
  virtual void start() = 0;
  virtual boost::json::object describe() const = 0;
};

// Opens a listening socket; Error(port_in_use) when the port is taken, Error(io) otherwise.
tcp::acceptor listen_on(asio::io_context& io, const std::string& address, int port);

// The target: always 127.0.0.1 (never a name that could resolve to ::1).
tcp::endpoint loopback(int port);

// Accepts connections until the acceptor closes, handing each to `serve`. A failing accept
// (out of descriptors, …) is counted, reported and retried after a growing pause: never a busy
// loop.
// (GCC 12 may destroy temporaries of a co_await expression twice when a suspended coroutine is
// destroyed: callers pass named objects by reference, never temporaries.)
asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ChainSink& sink,
                                  const std::function<void(tcp::socket)>& serve);

// Relays one direction until EOF (passed on as a half-close) or an error (both sockets closed).
asio::awaitable<void> relay_bytes(tcp::socket& from, tcp::socket& to,
                                  std::atomic<std::uint64_t>& counter);

// A plain TCP proxy, optionally throttled (profile == nullopt: a bare relay).
std::shared_ptr<Layer> make_tcp_layer(asio::io_context& io, const std::string& bind,
                                      int listen_port, int target_port,
                                      std::optional<ThrottleProfile> profile,
                                      std::shared_ptr<ChainSink> sink);

struct HttpLayerOptions {
  std::optional<BasicAuthCredentials> basic_auth;
  std::shared_ptr<CaptureWriter> capture;  // null: no inspection
};

// The HTTP/1.1 reverse proxy (basic auth and/or the inspector).
std::shared_ptr<Layer> make_http_layer(asio::io_context& io, const std::string& bind,
                                       int listen_port, int target_port, HttpLayerOptions options,
                                       std::shared_ptr<ChainSink> sink);

}  // namespace devx::edge
