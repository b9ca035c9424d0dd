// The mail catcher's SMTP listener (Boost.Asio coroutines on the catcher's event loop).
#include "mail/smtp_server.hpp"

#include <devx/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include "webhook/asio_loop.hpp"

namespace devx::mail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::minutes(5);  // RFC 5321 §4.5.3.2.7
constexpr std::size_t kMaxCommandLine = 4096;           // 512 in the RFC; extensions add more
constexpr std::size_t kMaxDataLine = 1024 * 1024;

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// Case-insensitive "MAIL FROM:" style prefix; the rest of the line after it.
bool take_prefix(std::string_view line, std::string_view prefix, std::string_view& rest) {
  if (line.size() < prefix.size() || upper(line.substr(0, prefix.size())) != prefix) return false;
  rest = line.substr(prefix.size());
  return true;
}

enum class LineRead { ok, closed, too_long };

// One line without its CRLF (or bare LF) into `line`; `input` keeps what was read beyond it
// (pipelined commands).
asio::awaitable<LineRead> read_line(beast::tcp_stream& stream, std::string& input,
                                    std::size_t limit, std::string& line) {
  // No temporaries in co_await expressions: GCC 12 destroys them twice.
  stream.expires_after(kIdleTimeout);
  auto buffer = asio::dynamic_buffer(input, limit);
  auto token = asio::as_tuple(asio::use_awaitable);
  auto [ec, n] = co_await asio::async_read_until(stream, buffer, '\n', token);
  if (ec) co_return ec == asio::error::not_found ? LineRead::too_long : LineRead::closed;
  line.assign(input, 0, n - 1);
  input.erase(0, n);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  co_return LineRead::ok;
}

asio::awaitable<bool> write_all(beast::tcp_stream& stream, const std::string& text) {
  stream.expires_after(kIdleTimeout);
  const auto buffer = asio::buffer(text);
  auto token = asio::as_tuple(asio::use_awaitable);
  auto [ec, n] = co_await asio::async_write(stream, buffer, token);
  co_return !ec;
}

}  // namespace

bool parse_smtp_path(std::string_view argument, std::string& address, std::string& params) {
  while (!argument.empty() && argument.front() == ' ') argument.remove_prefix(1);
  if (argument.starts_with('<')) {
    const auto close = argument.find('>');
    if (close == std::string_view::npos) return false;
    address = std::string(argument.substr(1, close - 1));
    params = std::string(argument.substr(close + 1));
  } else {
    const auto space = argument.find(' ');
    address = std::string(argument.substr(0, space));
    params = space == std::string_view::npos ? std::string() : std::string(argument.substr(space));
    if (address.empty()) return false;
  }
  // A source route ("@a,@b:user@c", RFC 5321 §4.1.2) is accepted and ignored.
  if (address.starts_with('@')) {
    const auto colon = address.find(':');
    if (colon == std::string::npos) return false;
    address.erase(0, colon + 1);
  }
  return address.find_first_of(" <>\r\n") == std::string::npos;
}

struct SmtpListener::Impl : std::enable_shared_from_this<SmtpListener::Impl> {
  tcp::acceptor acceptor;
  SmtpSettings settings;
  DeliverMessage deliver;

  Impl(tcp::acceptor a, SmtpSettings s, DeliverMessage d)
      : acceptor(std::move(a)), settings(std::move(s)), deliver(std::move(d)) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    auto token = asio::as_tuple(asio::use_awaitable);
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(token);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    SmtpEnvelope envelope;
    envelope.remote =
        ec ? std::string() : peer.address().to_string() + ":" + std::to_string(peer.port());
    beast::tcp_stream stream(std::move(socket));
    std::string input;
    bool ok = true;

    std::string out;  // the reply being sent (co_await takes no temporaries: GCC 12)
    std::string line;
    bool in_transaction = false;
    out = "220 " + settings.hostname + " ESMTP devx mail catcher\r\n";
    ok = co_await write_all(stream, out);
    while (ok) {
      const auto read = co_await read_line(stream, input, kMaxCommandLine, line);
      if (read != LineRead::ok) {
        if (read == LineRead::too_long) {
          out = "500 5.5.2 Line too long\r\n";
          co_await write_all(stream, out);
        }
        break;
      }
      const std::string verb = upper(line.substr(0, line.find(' ')));
      const std::string argument =
          line.find(' ') == std::string::npos ? std::string() : line.substr(line.find(' ') + 1);
      std::string_view rest;

      if (verb == "EHLO" || verb == "HELO") {
        if (argument.empty()) {
          out = "501 5.5.4 " + verb + " needs a domain or address\r\n";
          ok = co_await write_all(stream, out);
          continue;
        }
        envelope = SmtpEnvelope{argument, {}, {}, envelope.remote};
        in_transaction = false;
        if (verb == "HELO") {
          out = "250 " + settings.hostname + "\r\n";
          ok = co_await write_all(stream, out);
        } else {
          out = "250-" + settings.hostname + " greets " + argument + "\r\n" + "250-SIZE " +
                std::to_string(settings.max_message_size) + "\r\n" +
                "250-8BITMIME\r\n250-PIPELINING\r\n250 HELP\r\n";
          ok = co_await write_all(stream, out);
        }
      } else if (take_prefix(line, "MAIL FROM:", rest)) {
        std::string address, params;
        if (envelope.helo.empty()) {
          out = "503 5.5.1 Say EHLO or HELO first\r\n";
          ok = co_await write_all(stream, out);
        } else if (in_transaction) {
          out = "503 5.5.1 Nested MAIL command\r\n";
          ok = co_await write_all(stream, out);
        } else if (!parse_smtp_path(rest, address, params)) {
          out = "501 5.1.7 Bad sender address syntax\r\n";
          ok = co_await write_all(stream, out);
        } else {
          // SIZE=<n> announces the message size (RFC 1870): refuse early when it is too big.
          const auto size_at = upper(params).find("SIZE=");
          const std::size_t announced =
              size_at == std::string::npos
                  ? 0
                  : std::strtoull(params.c_str() + size_at + 5, nullptr, 10);
          if (announced > settings.max_message_size) {
            out = "552 5.3.4 Message size exceeds fixed maximum message size\r\n";
            ok = co_await write_all(stream, out);
          } else {
            envelope.mail_from = address;
            envelope.rcpt_to.clear();
            in_transaction = true;
            out = "250 2.1.0 Ok\r\n";
            ok = co_await write_all(stream, out);
          }
        }
      } else if (take_prefix(line, "RCPT TO:", rest)) {
        std::string address, params;
        if (!in_transaction) {
          out = "503 5.5.1 Need MAIL before RCPT\r\n";
          ok = co_await write_all(stream, out);
        } else if (!parse_smtp_path(rest, address, params) || address.empty()) {
          out = "501 5.1.3 Bad recipient address syntax\r\n";
          ok = co_await write_all(stream, out);
        } else if (envelope.rcpt_to.size() >= settings.max_recipients) {
          out = "452 4.5.3 Too many recipients\r\n";
          ok = co_await write_all(stream, out);
        } else {
          envelope.rcpt_to.push_back(address);
          out = "250 2.1.5 Ok\r\n";
          ok = co_await write_all(stream, out);
        }
      } else if (verb == "DATA") {
        if (!in_transaction || envelope.rcpt_to.empty()) {
          out = "503 5.5.1 Need RCPT before DATA\r\n";
          ok = co_await write_all(stream, out);
          continue;
        }
        out = "354 End data with <CR><LF>.<CR><LF>\r\n";
        if (!(ok = co_await write_all(stream, out))) break;
        std::string data;
        bool oversized = false;
        for (;;) {
          const auto data_read = co_await read_line(stream, input, kMaxDataLine, line);
          if (data_read != LineRead::ok) {
            if (data_read == LineRead::too_long) {
              out = "552 5.3.4 Line too long\r\n";
              co_await write_all(stream, out);
            }
            ok = false;
            break;
          }
          if (line == ".") break;
          // Dot-unstuffing (RFC 5321 §4.5.2): a leading '.' was doubled by the client.
          const std::string_view content =
              line.starts_with('.') ? std::string_view(line).substr(1) : std::string_view(line);
          if (data.size() + content.size() + 2 > settings.max_message_size) oversized = true;
          if (!oversized) {
            data += content;
            data += "\r\n";
          }
        }
        if (!ok) break;
        in_transaction = false;
        if (oversized) {
          envelope.rcpt_to.clear();
          out = "552 5.3.4 Message size exceeds fixed maximum message size\r\n";
          ok = co_await write_all(stream, out);
          continue;
        }
        std::string stored;
        try {
          stored = deliver(envelope, std::move(data));
        } catch (const std::exception&) {
          stored.clear();
        }
        envelope.rcpt_to.clear();
        out = stored.empty() ? "451 4.3.0 Could not store the message\r\n"
                             : "250 2.0.0 Ok: queued as " + stored + "\r\n";
        ok = co_await write_all(stream, out);
      } else if (verb == "RSET") {
        in_transaction = false;
        envelope.mail_from.clear();
        envelope.rcpt_to.clear();
        out = "250 2.0.0 Ok\r\n";
        ok = co_await write_all(stream, out);
      } else if (verb == "NOOP") {
        out = "250 2.0.0 Ok\r\n";
        ok = co_await write_all(stream, out);
      } else if (verb == "VRFY") {
        out = "252 2.1.5 Cannot verify, but will accept the message\r\n";
        ok = co_await write_all(stream, out);
      } else if (verb == "HELP") {
        out = "214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT\r\n";
        ok = co_await write_all(stream, out);
      } else if (verb == "QUIT") {
        out = "221 2.0.0 Bye\r\n";
        co_await write_all(stream, out);
        break;
      } else if (verb == "STARTTLS" || verb == "AUTH") {
        out = "502 5.5.1 " + verb + " is not offered by this local catcher\r\n";
        ok = co_await write_all(stream, out);
      } else {
        out = "500 5.5.2 Command not recognised\r\n";
        ok = co_await write_all(stream, out);
      }
    }
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }
};

SmtpListener::SmtpListener(net::EventLoop& loop, const std::string& address, int port,
                           SmtpSettings settings, DeliverMessage deliver)
    : impl_(std::make_shared<Impl>(net::listen_on(loop.impl().io, address, port),
                                   std::move(settings), std::move(deliver))) {
  asio::co_spawn(loop.impl().io, impl_->accept_loop(), asio::detached);
}

SmtpListener::~SmtpListener() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

int SmtpListener::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }

}  // namespace devx::mail
