// The Beast side of the edge test fixture: an upstream on one io_context thread, synchronous
// keep-alive clients.
#include "http_fixture.hpp"

#include <openssl/evp.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace devx::edge_test {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::size_t number_parameter(std::string_view target, std::string_view name) {
  const auto at = target.find(name);
  return at == std::string_view::npos ? 0
                                      : std::stoull(std::string(target.substr(at + name.size())));
}

std::size_t bytes_parameter(std::string_view target) { return number_parameter(target, "bytes="); }

template <class Fields>
Headers to_headers(const Fields& fields) {
  Headers out;
  for (const auto& field : fields) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

}  // namespace

std::string header_value(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

bool has_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return true;
  }
  return false;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256 failed");
  }
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    std::array<char, 3> pair{};
    std::snprintf(pair.data(), pair.size(), "%02x", digest[i]);
    hex += pair.data();
  }
  return hex;
}

std::string pattern_bytes(std::size_t size) {
  std::string out(size, '\0');
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (std::size_t i = 0; i < size; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    out[i] = static_cast<char>(state & 0xff);
  }
  return out;
}

std::string basic_authorization(std::string_view user, std::string_view password) {
  const std::string plain = std::string(user) + ":" + std::string(password);
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()),
                                static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

struct Upstream::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  mutable std::mutex mutex;
  std::vector<ReceivedRequest> requests;
  std::atomic<int> connections{0};
  std::thread thread;

  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {  // out of descriptors (the accept-loop test provokes it): try again shortly
        asio::steady_timer pause(io, std::chrono::milliseconds(10));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      ++connections;
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(256 * 1024 * 1024);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec) co_return;
      auto request = parser.release();
      ReceivedRequest seen{std::string(request.method_string()), std::string(request.target()),
                           to_headers(request), request.body().size(),
                           request.body().empty() ? std::string() : sha256_hex(request.body())};
      {
        std::lock_guard lock(mutex);
        requests.push_back(seen);
      }
      const std::string_view target = request.target();
      if (target == "/ws" && websocket::is_upgrade(request)) {
        websocket::stream<beast::tcp_stream> ws(std::move(stream));
        auto [aec] = co_await ws.async_accept(request, use_tuple);
        if (aec) co_return;
        for (;;) {
          beast::flat_buffer message;
          auto [rec, rn] = co_await ws.async_read(message, use_tuple);
          if (rec) co_return;
          ws.text(ws.got_text());
          auto [wec, wn] = co_await ws.async_write(message.data(), use_tuple);
          if (wec) co_return;
        }
      }
      http::response<http::string_body> response{http::status::ok, request.version()};
      response.set(http::field::content_type, "application/octet-stream");
      bool close_after = !request.keep_alive();
      if (target.starts_with("/download")) {
        response.body() = pattern_bytes(bytes_parameter(target));
        response.prepare_payload();
      } else if (target.starts_with("/until-close")) {
        response.body() = pattern_bytes(bytes_parameter(target));
        response.keep_alive(false);
        close_after = true;
      } else if (target.starts_with("/work")) {
        // A single-threaded application's time per request, spent on the CPU as it would be.
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::microseconds(number_parameter(target, "us="));
        while (std::chrono::steady_clock::now() < until) {
        }
        response.body() = "ok " + seen.method + " " + seen.target;
        response.prepare_payload();
      } else if (target.starts_with("/upload")) {
        response.body() = std::to_string(seen.body_bytes) + " " + seen.body_sha256;
        response.prepare_payload();
      } else {
        response.body() = "ok " + seen.method + " " + seen.target;
        response.prepare_payload();
      }
      if (!close_after) response.keep_alive(true);
      auto [wec, wn] = co_await http::async_write(stream, response, use_tuple);
      if (wec || close_after) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
      }
    }
  }
};

Upstream::Upstream() : impl_(std::make_unique<Impl>()) {
  asio::co_spawn(impl_->io, impl_->accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

Upstream::~Upstream() {
  impl_->io.stop();
  impl_->thread.join();
}

int Upstream::port() const { return impl_->acceptor.local_endpoint().port(); }

std::vector<ReceivedRequest> Upstream::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

int Upstream::connections() const { return impl_->connections.load(); }

struct Client::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  beast::flat_buffer buffer;
  bool closed = false;
};

Client::Client(int port) : impl_(std::make_unique<Impl>()) {
  impl_->socket.connect(
      tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)));
  impl_->socket.set_option(tcp::no_delay(true));
}

Client::~Client() = default;

Response Client::request(const std::string& method, const std::string& target,
                         const Headers& headers, const std::string& body) {
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "edge.test");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  request.keep_alive(true);
  const auto sent = SteadyClock::now();
  http::write(impl_->socket, request);

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  if (method == "HEAD") parser.skip(true);
  http::read_header(impl_->socket, impl_->buffer, parser);
  Response response;
  response.status = static_cast<int>(parser.get().result_int());
  response.headers = to_headers(parser.get());
  std::vector<char> chunk(64 * 1024);
  SteadyClock::time_point first{};
  SteadyClock::time_point last = SteadyClock::now();
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::error_code ec;
    http::read_some(impl_->socket, impl_->buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) throw std::runtime_error("reading the response body failed: " + ec.message());
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (got > 0) {
      last = SteadyClock::now();
      if (first == SteadyClock::time_point{}) first = last;
      response.body.append(chunk.data(), got);
    }
  }
  if (first == SteadyClock::time_point{}) first = last;
  response.first_byte_seconds = std::chrono::duration<double>(first - sent).count();
  response.body_seconds = std::chrono::duration<double>(last - first).count();
  impl_->closed = !parser.get().keep_alive();
  return response;
}

bool Client::closed_by_server() {
  if (impl_->closed) return true;
  // A kept-alive connection stays open: a short read sees nothing (or EOF if it was closed).
  impl_->socket.non_blocking(true);
  std::array<char, 1> probe{};
  beast::error_code ec;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  impl_->socket.read_some(asio::buffer(probe), ec);
  impl_->socket.non_blocking(false);
  return ec != asio::error::would_block;
}

std::vector<std::string> websocket_echo(int port, const std::vector<std::string>& messages,
                                        const Headers& headers) {
  asio::io_context io;
  websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect(
      tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)));
  ws.set_option(websocket::stream_base::decorator([&headers](websocket::request_type& request) {
    for (const auto& [name, value] : headers) request.set(name, value);
  }));
  websocket::response_type answer;
  beast::error_code ec;
  ws.handshake(answer, "edge.test", "/ws", ec);
  if (ec) {
    throw std::runtime_error("WebSocket upgrade refused (" + std::to_string(answer.result_int()) +
                             "): " + ec.message());
  }
  std::vector<std::string> echoes;
  for (const auto& message : messages) {
    ws.binary(true);
    ws.write(asio::buffer(message));
    beast::flat_buffer buffer;
    ws.read(buffer);
    echoes.push_back(beast::buffers_to_string(buffer.data()));
  }
  ws.close(websocket::close_code::normal);
  return echoes;
}

}  // namespace devx::edge_test
