// The HTTP layer: an HTTP/1.1 reverse proxy that checks basic auth and/or records exchanges for
// the inspector. Bodies are streamed through a fixed buffer (any size, bounded memory); each
// client connection keeps one upstream connection alive for its requests; a 101 Switching
// Protocols answer to an Upgrade request turns the connection into a byte relay (WebSockets).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "core/json.hpp"
#include "edge/proxy_layer.hpp"

namespace devx::edge {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace boost::asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kBodyBuffer = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(120);

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string> comma_tokens(std::string_view list) {
  std::vector<std::string> tokens;
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto token = list.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty()) tokens.push_back(lower(token));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return tokens;
}

template <class Fields>
HeaderList header_list(const Fields& fields) {
  HeaderList out;
  for (const auto& field : fields) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

// Removes the hop-by-hop headers, including every header the Connection header names.
template <class Fields>
void strip_hop_by_hop(Fields& fields) {
  for (const auto& name : comma_tokens(fields[http::field::connection])) {
    if (name != "close" && name != "keep-alive") fields.erase(name);
  }
  std::vector<std::string> doomed;
  for (const auto& field : fields) {
    const std::string name = lower(field.name_string());
    if (is_hop_by_hop(name)) doomed.push_back(name);
  }
  for (const auto& name : doomed) fields.erase(name);
}

template <class Message>
bool asks_for_upgrade(const Message& message) {
  if (message[http::field::upgrade].empty()) return false;
  const auto tokens = comma_tokens(message[http::field::connection]);
  return std::find(tokens.begin(), tokens.end(), "upgrade") != tokens.end();
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void capture_bytes(CapturedMessage* capture, std::size_t limit, const char* data,
                   std::size_t size) {
  if (capture == nullptr) return;
  capture->body_bytes += size;
  const std::size_t room = limit > capture->body.size() ? limit - capture->body.size() : 0;
  capture->body.append(data, std::min(room, size));
  if (size > room) capture->body_truncated = true;
}

// Which side of a relay failed.
struct RelayResult {
  error_code ec;
  bool read_failed = false;  // false: the write side failed (or no failure)
};

// Writes the parsed message's header to `to`, then streams its body from `from` as it arrives.
template <bool isRequest, class From, class To>
asio::awaitable<RelayResult> relay_message(http::parser<isRequest, http::buffer_body>& parser,
                                           From& from, beast::flat_buffer& from_buffer, To& to,
                                           std::vector<char>& buffer, CapturedMessage* capture,
                                           std::size_t capture_limit,
                                           std::atomic<std::uint64_t>& counter) {
  http::serializer<isRequest, http::buffer_body> serializer{parser.get()};
  // The header goes out on its own only when no body bytes are at hand (a stream that starts
  // later must not hold it back); otherwise it shares one write with the first body bytes.
  if (!parser.is_done() && from_buffer.size() == 0) {
    auto [ec, n] = co_await http::async_write_header(to, serializer, use_tuple);
    if (ec) co_return RelayResult{ec, false};
  }
  for (;;) {
    auto& body = parser.get().body();
    if (!parser.is_done()) {
      body.data = buffer.data();
      body.size = buffer.size();
      auto [ec, n] = co_await http::async_read_some(from, from_buffer, parser, use_tuple);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return RelayResult{ec, true};
      const std::size_t got = buffer.size() - body.size;
      capture_bytes(capture, capture_limit, buffer.data(), got);
      counter += got;
      if (got == 0 && !parser.is_done()) continue;
      // No data is nullptr, not an empty buffer: that would go out as an empty (= last) chunk.
      body.data = got == 0 ? nullptr : buffer.data();
      body.size = got;
      body.more = !parser.is_done();
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    auto [ec, n] = co_await http::async_write(to, serializer, use_tuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return RelayResult{ec, false};
    if (serializer.is_done()) co_return RelayResult{};
  }
}

template <class Stream>
asio::awaitable<error_code> send_plain(Stream& stream, unsigned version, http::status status,
                                       std::string_view body, bool keep_alive,
                                       std::string_view authenticate = {}) {
  http::response<http::string_body> response{status, version};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set("X-Content-Type-Options", "nosniff");
  if (!authenticate.empty()) response.set(http::field::www_authenticate, authenticate);
  response.body() = std::string(body);
  response.prepare_payload();
  response.keep_alive(keep_alive);
  auto [ec, n] = co_await http::async_write(stream, response, use_tuple);
  co_return ec;
}

class HttpLayer final : public Layer, public std::enable_shared_from_this<HttpLayer> {
 public:
  HttpLayer(asio::io_context& io, const std::string& bind, int listen_port, int target_port,
            HttpLayerOptions options, std::shared_ptr<ChainSink> sink)
      : io_(io),
        acceptor_(listen_on(io, bind, listen_port)),
        target_port_(target_port),
        options_(std::move(options)),
        sink_(std::move(sink)) {}

  int port() const override { return acceptor_.local_endpoint().port(); }

  void start() override { asio::co_spawn(io_, accept_forever(shared_from_this()), asio::detached); }

  boost::json::object describe() const override {
    boost::json::object out;
    out["kind"] = "http";
    out["port"] = port();
    out["target_port"] = target_port_;
    out["basic_auth"] = options_.basic_auth.has_value();
    out["inspect"] = options_.capture != nullptr;
    return out;
  }

 private:
  struct Connection {
    explicit Connection(tcp::socket socket) : client(std::move(socket)), body(kBodyBuffer) {}
    beast::tcp_stream client;
    beast::flat_buffer client_buffer;
    std::optional<tcp::socket> upstream;
    beast::flat_buffer upstream_buffer;
    std::vector<char> body;
    std::string peer;
  };

  static asio::awaitable<void> accept_forever(std::shared_ptr<HttpLayer> self) {
    const std::function<void(tcp::socket)> serve_one = [self](tcp::socket socket) {
      asio::co_spawn(self->io_, serve(self, std::move(socket)), asio::detached);
    };
    co_await accept_loop(self->acceptor_, *self->sink_, serve_one);
  }

  static asio::awaitable<void> serve(std::shared_ptr<HttpLayer> self, tcp::socket socket) {
    ++self->sink_->stats->connections;
    ++self->sink_->stats->active;
    struct Active {
      ProxyStats& stats;
      ~Active() { --stats.active; }
    } active{*self->sink_->stats};
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    const auto remote = socket.remote_endpoint(ec);
    Connection connection(std::move(socket));
    connection.peer = ec ? std::string() : remote.address().to_string();
    while (co_await self->exchange(connection)) {
    }
    connection.client.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::awaitable<bool> connect_upstream(Connection& c) {
    tcp::socket upstream(io_);
    auto [ec] = co_await upstream.async_connect(loopback(target_port_), use_tuple);
    if (ec) co_return false;
    error_code ignored;
    upstream.set_option(tcp::no_delay(true), ignored);
    c.upstream.emplace(std::move(upstream));
    c.upstream_buffer.clear();
    co_return true;
  }

  void drop_upstream(Connection& c) {
    if (!c.upstream) return;
    error_code ignored;
    c.upstream->close(ignored);
    c.upstream.reset();
  }

  void record(Exchange& exchange) {
    if (!options_.capture) return;
    Event event;
    try {
      const auto summary = options_.capture->record(exchange);
      event.type = EventType::state;
      event.source = "inspect";
      event.message = exchange.method + " " + exchange.url + " → " +
                      (exchange.status != 0 ? std::to_string(exchange.status) : exchange.error);
      boost::json::object data = summary;
      data["state"] = "exchange";
      data["session"] = options_.capture->session();
      event.data_json = core::to_json_string(data);
    } catch (const Error& error) {
      event.type = EventType::warning;
      event.source = "inspect";
      event.level = LogLevel::warn;
      event.message = "could not record exchange " + exchange.id + ": " + error.message();
    }
    if (sink_->emit) sink_->emit(std::move(event));
  }

  // Handles one request on the client connection; false when the connection is finished.
  asio::awaitable<bool> exchange(Connection& c) {
    auto& stats = *sink_->stats;
    http::request_parser<http::buffer_body> request_parser;
    request_parser.body_limit(boost::none);
    request_parser.header_limit(kHeaderLimit);
    c.client.expires_after(kIdleTimeout);
    {
      auto [ec, n] =
          co_await http::async_read_header(c.client, c.client_buffer, request_parser, use_tuple);
      if (ec) {
        const bool quiet = ec == http::error::end_of_stream || ec == asio::error::eof ||
                           ec == beast::error::timeout || ec == asio::error::operation_aborted ||
                           ec == asio::error::connection_reset;
        if (!quiet) {
          co_await send_plain(c.client, 11, http::status::bad_request, "Bad Request\n", false);
        }
        co_return false;
      }
    }
    c.client.expires_never();
    const auto started = Clock::now();
    ++stats.requests;
    auto& request = request_parser.get();
    const unsigned version = request.version();
    const bool client_keep_alive = request.keep_alive();
    const bool has_body = !request_parser.is_done();

    if (options_.basic_auth) {
      const auto authorization = request[http::field::authorization];
      if (!basic_auth_matches(*options_.basic_auth, authorization)) {
        ++stats.rejected;
        // An unread body would be taken for the next request: close instead.
        const bool keep = client_keep_alive && !has_body;
        const auto ec =
            co_await send_plain(c.client, version, http::status::unauthorized, "Unauthorized\n",
                                keep, "Basic realm=\"devx\", charset=\"UTF-8\"");
        co_return keep && !ec;
      }
      // The credentials are for this proxy: the application never sees them.
      request.erase(http::field::authorization);
    }

    Exchange exchange;
    const bool inspecting = options_.capture != nullptr;
    const std::size_t limit = inspecting ? options_.capture->body_limit() : 0;
    if (inspecting) {
      exchange.id = options_.capture->next_id();
      exchange.started_ms = unix_ms_now();
      exchange.method = std::string(request.method_string());
      exchange.url = std::string(request.target());
      exchange.host = std::string(request[http::field::host]);
      exchange.http_version = std::to_string(version / 10) + "." + std::to_string(version % 10);
      exchange.request.headers = header_list(request);
    }
    auto finish = [&](std::string error) {
      exchange.error = std::move(error);
      exchange.duration_ms = ms_since(started);
      record(exchange);
    };

    const bool upgrade = asks_for_upgrade(request);
    const std::string upgrade_to(request[http::field::upgrade]);
    const bool expect_continue = lower(request[http::field::expect]) == "100-continue";
    strip_hop_by_hop(request);
    if (expect_continue) request.erase(http::field::expect);
    const std::string forwarded_for(request["X-Forwarded-For"]);
    if (!c.peer.empty()) {
      request.set("X-Forwarded-For",
                  forwarded_for.empty() ? c.peer : forwarded_for + ", " + c.peer);
    }
    if (request["X-Forwarded-Proto"].empty()) request.set("X-Forwarded-Proto", "http");
    request.version(11);
    if (upgrade) {
      request.set(http::field::connection, "Upgrade");
      request.set(http::field::upgrade, upgrade_to);
    }

    // A kept-alive upstream connection may have been closed by the target meanwhile; a request
    // without a body is then simply sent again on a new connection.
    std::optional<http::response_parser<http::buffer_body>> response_parser;
    for (int attempt = 0;; ++attempt) {
      const bool reused = c.upstream.has_value();
      if (!reused && !co_await connect_upstream(c)) {
        ++stats.upstream_errors;
        const std::string why = "cannot connect to 127.0.0.1:" + std::to_string(target_port_);
        const bool keep = client_keep_alive && !has_body;
        const std::string text = "Bad Gateway: " + why + "\n";
        co_await send_plain(c.client, version, http::status::bad_gateway, text, keep);
        finish(why);
        co_return keep;
      }
      if (expect_continue && has_body && attempt == 0) {
        const auto ec = co_await send_interim_continue(c, version);
        if (ec) co_return false;
      }
      const auto sent =
          co_await relay_message(request_parser, c.client, c.client_buffer, *c.upstream, c.body,
                                 inspecting ? &exchange.request : nullptr, limit, stats.bytes_up);
      if (sent.ec && sent.read_failed) {  // the client went away mid-request
        drop_upstream(c);
        finish("client closed the connection during the request: " + sent.ec.message());
        co_return false;
      }
      response_parser.emplace();
      auto& parser = *response_parser;
      parser.body_limit(boost::none);
      parser.header_limit(kHeaderLimit);
      if (request.method() == http::verb::head) parser.skip(true);
      // After a failed write the target may still have answered (413 …): read what it said.
      auto [ec, n] =
          co_await http::async_read_header(*c.upstream, c.upstream_buffer, parser, use_tuple);
      if (!ec) {
        // 1xx interim answers (103 Early Hints …) go to the client; the final one follows.
        while (!ec && parser.get().result_int() / 100 == 1 && parser.get().result_int() != 101) {
          auto& interim = parser.get();
          strip_hop_by_hop(interim);
          const auto forwarded =
              co_await relay_message(parser, *c.upstream, c.upstream_buffer, c.client.socket(),
                                     c.body, nullptr, 0, stats.bytes_down);
          if (forwarded.ec) {
            drop_upstream(c);
            co_return false;
          }
          response_parser.emplace();
          response_parser->body_limit(boost::none);
          response_parser->header_limit(kHeaderLimit);
          if (request.method() == http::verb::head) response_parser->skip(true);
          std::tie(ec, n) = co_await http::async_read_header(*c.upstream, c.upstream_buffer,
                                                             *response_parser, use_tuple);
        }
      }
      if (!ec) break;
      drop_upstream(c);
      const bool retry = reused && attempt == 0 && !has_body;
      if (retry) continue;
      ++stats.upstream_errors;
      const std::string why = "127.0.0.1:" + std::to_string(target_port_) +
                              " gave no response: " + (sent.ec ? sent.ec.message() : ec.message());
      const bool keep = client_keep_alive && (!has_body || request_parser.is_done());
      const std::string text = "Bad Gateway: " + why + "\n";
      co_await send_plain(c.client, version, http::status::bad_gateway, text, keep);
      finish(why);
      co_return keep;
    }

    auto& parser = *response_parser;
    auto& response = parser.get();
    exchange.ttfb_ms = ms_since(started);
    exchange.status = static_cast<int>(response.result_int());
    exchange.reason = std::string(response.reason());
    if (inspecting) exchange.response.headers = header_list(response);
    const bool upstream_keep_alive = response.keep_alive();

    if (upgrade && response.result() == http::status::switching_protocols) {
      exchange.websocket = lower(upgrade_to).find("websocket") != std::string::npos;
      co_await tunnel(c, parser, exchange);
      co_return false;
    }

    strip_hop_by_hop(response);
    // A request body the target stopped reading cannot be skipped: close after the answer.
    bool keep = client_keep_alive && request_parser.is_done();
    // A body that ends with the target's connection cannot end the client's: re-frame it as
    // chunked (HTTP/1.1) or close after it (HTTP/1.0).
    const bool until_close = !parser.is_done() && !parser.chunked() && !parser.content_length();
    if (until_close) {
      if (version >= 11) {
        response.chunked(true);
      } else {
        keep = false;
      }
    }
    response.version(version >= 11 ? 11 : 10);
    response.keep_alive(keep);
    const auto relayed =
        co_await relay_message(parser, *c.upstream, c.upstream_buffer, c.client, c.body,
                               inspecting ? &exchange.response : nullptr, limit, stats.bytes_down);
    if (relayed.ec || !upstream_keep_alive || until_close) drop_upstream(c);
    if (relayed.ec) {
      finish((relayed.read_failed ? "the target" : "the client") +
             std::string(" closed the connection during the response: ") + relayed.ec.message());
      co_return false;
    }
    finish({});
    co_return keep;
  }

  asio::awaitable<error_code> send_interim_continue(Connection& c, unsigned version) {
    if (version < 11) co_return error_code{};
    static constexpr std::string_view line = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(c.client.socket(), asio::buffer(line), use_tuple);
    co_return ec;
  }

  // After 101 Switching Protocols: the header goes to the client, then bytes flow both ways
  // until each side has closed.
  asio::awaitable<void> tunnel(Connection& c, http::response_parser<http::buffer_body>& parser,
                               Exchange& exchange) {
    auto& stats = *sink_->stats;
    http::serializer<false, http::buffer_body> serializer{parser.get()};
    auto [ec, n] = co_await http::async_write_header(c.client, serializer, use_tuple);
    auto& client = c.client.socket();
    auto& upstream = *c.upstream;
    if (!ec && c.upstream_buffer.size() > 0) {
      std::tie(ec, n) = co_await asio::async_write(client, c.upstream_buffer.data(), use_tuple);
      stats.bytes_down += n;
      c.upstream_buffer.consume(n);
    }
    if (!ec && c.client_buffer.size() > 0) {
      std::tie(ec, n) = co_await asio::async_write(upstream, c.client_buffer.data(), use_tuple);
      stats.bytes_up += n;
      c.client_buffer.consume(n);
    }
    // Recorded when the switch happens: the relay may last for hours.
    exchange.duration_ms = exchange.ttfb_ms;
    exchange.error = ec ? "upgrade failed: " + ec.message() : std::string();
    record(exchange);
    if (!ec) {
      co_await (relay_bytes(client, upstream, stats.bytes_up) &&
                relay_bytes(upstream, client, stats.bytes_down));
    }
    drop_upstream(c);
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  int target_port_;
  HttpLayerOptions options_;
  std::shared_ptr<ChainSink> sink_;
};

}  // namespace

std::shared_ptr<Layer> make_http_layer(asio::io_context& io, const std::string& bind,
                                       int listen_port, int target_port, HttpLayerOptions options,
                                       std::shared_ptr<ChainSink> sink) {
  return std::make_shared<HttpLayer>(io, bind, listen_port, target_port, std::move(options),
                                     std::move(sink));
}

}  // namespace devx::edge
