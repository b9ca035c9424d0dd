// The HTTP/1.1 listener of the webhook catcher and the mail catcher's JSON view (Boost.Beast,
// C++20 coroutines on a single-threaded io_context). Bodies of any size are read in chunks so a
// huge upload is measured and truncated rather than refused.
#include <devx/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <mutex>
#include <stop_token>

#include "webhook/asio_loop.hpp"

namespace devx::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(60);

}  // namespace

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}
EventLoop::~EventLoop() = default;

void EventLoop::run(std::stop_token stop) {
  auto& io = impl_->io;
  std::stop_callback on_stop(stop, [&io] { io.stop(); });
  if (stop.stop_requested()) return;
  io.restart();
  io.run();
}

tcp::acceptor listen_on(asio::io_context& io, const std::string& address, int port) {
  if (port < 0 || port > 65535)
    throw Error(ErrorCode::invalid_argument, "port " + std::to_string(port) + " is out of range",
                "use 0..65535 (0 picks a free port)");
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec)
    throw Error(ErrorCode::invalid_argument, "'" + address + "' is not an IP address",
                "bind to an address such as 127.0.0.1");
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec == asio::error::address_in_use)
    throw Error(ErrorCode::port_in_use,
                "port " + std::to_string(port) + " on " + address + " is already in use",
                "choose another port, or 0 for a free one");
  if (ec)
    throw Error(ErrorCode::io,
                "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  return acceptor;
}

struct HttpListener::Impl : std::enable_shared_from_this<HttpListener::Impl> {
  tcp::acceptor acceptor;
  std::size_t body_limit;
  Handler handler;

  Impl(tcp::acceptor a, std::size_t limit, Handler h)
      : acceptor(std::move(a)), body_limit(limit), handler(std::move(h)) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;  // a connection reset before accept: keep serving the others
      asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    const std::string remote =
        ec ? std::string() : peer.address().to_string() + ":" + std::to_string(peer.port());
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      stream.expires_after(kIdleTimeout);
      http::request_parser<http::buffer_body> parser;
      parser.body_limit(boost::none);  // the whole body is read; only body_limit bytes are kept
      parser.header_limit(64 * 1024);
      auto [header_ec, header_bytes] = co_await http::async_read_header(
          stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (header_ec) co_return;  // closed, idle or malformed: nothing to answer to
      HttpServerRequest request;
      request.started = std::chrono::steady_clock::now();
      request.remote = remote;
      const auto& head = parser.get();
      request.method = std::string(head.method_string());
      request.target = std::string(head.target());
      for (const auto& field : head)
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));

      std::array<char, 64 * 1024> chunk;
      while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        stream.expires_after(kIdleTimeout);
        auto [body_ec, n] =
            co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (body_ec && body_ec != http::error::need_buffer) co_return;
        const std::size_t got = chunk.size() - parser.get().body().size;
        request.body_size += got;
        const std::size_t room = body_limit - std::min(body_limit, request.body.size());
        request.body.append(chunk.data(), std::min(got, room));
        if (got > room) request.truncated = true;
      }

      HttpServerResponse reply;
      try {
        reply = handler(request);
      } catch (const Error& e) {
        reply = {500, "application/json", e.to_json()};
      } catch (const std::exception& e) {
        reply = {500, "text/plain; charset=utf-8", e.what()};
      }
      http::response<http::string_body> response;
      response.version(head.version());
      response.result(static_cast<unsigned>(reply.status));
      response.set(http::field::server, "devx");
      response.set(http::field::content_type, reply.content_type);
      response.keep_alive(parser.keep_alive());
      response.body() = std::move(reply.body);
      response.prepare_payload();
      // A HEAD answer announces the length of the body it does not carry.
      if (head.method() == http::verb::head) response.body().clear();
      stream.expires_after(kIdleTimeout);
      auto [write_ec, written] =
          co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
      if (write_ec || !response.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
};

HttpListener::HttpListener(EventLoop& loop, const std::string& address, int port,
                           std::size_t body_limit, Handler handler)
    : impl_(std::make_shared<Impl>(listen_on(loop.impl().io, address, port), body_limit,
                                   std::move(handler))) {
  asio::co_spawn(loop.impl().io, impl_->accept_loop(), asio::detached);
}

HttpListener::~HttpListener() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

int HttpListener::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }

}  // namespace devx::net
