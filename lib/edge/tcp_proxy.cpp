// The TCP layer: a byte relay, optionally shaped like a slow network link.
//
// Throttle model (per direction, shared by every connection of the layer, as one client's link
// would be): a token bucket of bytes_per_second with a small burst decides when a chunk has been
// "transmitted"; the chunk then arrives latency ± jitter later. Arrival times never go backwards,
// so jitter varies the delay without reordering the stream, and reading continues while earlier
// chunks are in flight (a delay line, not a stop-and-wait). Nothing is dropped or altered.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <deque>
#include <random>
#include <vector>

#include "edge/proxy_layer.hpp"

namespace devx::edge {

namespace {

using namespace boost::asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kRelayBuffer = 64 * 1024;

class TokenBucket {
 public:
  TokenBucket(double rate, double capacity) : rate_(rate), capacity_(capacity), tokens_(0) {}

  // Takes `bytes` tokens (going into debt if needed) and returns when the debt is paid off,
  // i.e. when the last of these bytes has left the link.
  Clock::time_point take(std::size_t bytes, Clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    if (last_ != Clock::time_point{}) tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
    last_ = now;
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ >= 0) return now;
    return now + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(-tokens_ / rate_));
  }

 private:
  double rate_;
  double capacity_;
  double tokens_;
  Clock::time_point last_{};
};

struct Link {
  Link(const ThrottleProfile& profile, std::size_t chunk)
      : bucket(static_cast<double>(profile.bytes_per_second), static_cast<double>(chunk)) {}
  TokenBucket bucket;
  Clock::time_point last_arrival{};
};

// Closes both sockets once; the other direction's pending operations then end.
void close_both(tcp::socket& a, tcp::socket& b) {
  boost::system::error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

void end_direction(tcp::socket& to) {
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

// Plain relay of one direction; EOF is passed on as a half-close.
asio::awaitable<void> relay_bytes(tcp::socket& from, tcp::socket& to,
                                  std::atomic<std::uint64_t>& counter) {
  std::vector<char> buffer(kRelayBuffer);
  for (;;) {
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buffer), use_tuple);
    if (n > 0) {
      auto [wec, written] =
          co_await asio::async_write(to, asio::buffer(buffer.data(), n), use_tuple);
      if (wec) break;
      counter += written;
    }
    if (rec == asio::error::eof) {
      end_direction(to);
      co_return;
    }
    if (rec) break;
  }
  close_both(from, to);
}

namespace {

class TcpLayer final : public Layer, public std::enable_shared_from_this<TcpLayer> {
 public:
  TcpLayer(asio::io_context& io, const std::string& bind, int listen_port, int target_port,
           std::optional<ThrottleProfile> profile, std::shared_ptr<ChainSink> sink)
      : io_(io),
        acceptor_(listen_on(io, bind, listen_port)),
        target_port_(target_port),
        profile_(std::move(profile)),
        sink_(std::move(sink)),
        random_(std::random_device{}()) {
    if (profile_) {
      // ~50 ms of the link's rate per chunk keeps pacing smooth at every profile.
      chunk_ = std::clamp<std::size_t>(static_cast<std::size_t>(profile_->bytes_per_second / 20),
                                       512, 16 * 1024);
      up_.emplace(*profile_, chunk_);
      down_.emplace(*profile_, chunk_);
      // Enough in flight to fill the link for its worst-case delay, bounded per direction.
      const auto delay =
          std::chrono::duration<double>(profile_->latency + profile_->jitter).count();
      max_in_flight_ = std::max<std::size_t>(
          4 * chunk_,
          static_cast<std::size_t>(2.0 * delay * static_cast<double>(profile_->bytes_per_second)));
    }
  }

  int port() const override { return acceptor_.local_endpoint().port(); }

  void start() override { asio::co_spawn(io_, accept_forever(shared_from_this()), asio::detached); }

  boost::json::object describe() const override {
    boost::json::object out;
    out["kind"] = profile_ ? "throttle" : "tcp";
    out["port"] = port();
    out["target_port"] = target_port_;
    if (profile_) {
      out["profile"] = profile_->name;
      out["latency_ms"] = std::chrono::duration<double, std::milli>(profile_->latency).count();
      out["jitter_ms"] = std::chrono::duration<double, std::milli>(profile_->jitter).count();
      out["bytes_per_second"] = profile_->bytes_per_second;
    }
    return out;
  }

 private:
  struct Chunk {
    std::vector<char> data;
    Clock::time_point arrival;
  };

  // One direction of one connection: the chunks read and not yet delivered.
  struct DelayLine {
    explicit DelayLine(const asio::any_io_executor& executor)
        : data_ready(executor), space_ready(executor) {}
    std::deque<Chunk> chunks;
    std::size_t bytes = 0;
    bool eof = false;
    bool failed = false;
    asio::steady_timer data_ready;   // cancelled to wake the writer
    asio::steady_timer space_ready;  // cancelled to wake the reader
  };

  static asio::awaitable<void> wait_for_wakeup(asio::steady_timer& timer) {
    timer.expires_at(Clock::time_point::max());
    co_await timer.async_wait(use_tuple);
  }

  static asio::awaitable<void> accept_forever(std::shared_ptr<TcpLayer> self) {
    const std::function<void(tcp::socket)> serve = [self](tcp::socket socket) {
      asio::co_spawn(self->io_, self->serve(std::move(socket)), asio::detached);
    };
    co_await accept_loop(self->acceptor_, *self->sink_, serve);
  }

  asio::awaitable<void> serve(tcp::socket client) {
    auto self = shared_from_this();
    ++sink_->stats->connections;
    ++sink_->stats->active;
    struct Active {
      ProxyStats& stats;
      ~Active() { --stats.active; }
    } active{*sink_->stats};

    tcp::socket upstream(io_);
    auto [ec] = co_await upstream.async_connect(loopback(target_port_), use_tuple);
    if (ec) {
      ++sink_->stats->upstream_errors;
      co_return;  // the client sees its connection closed
    }
    boost::system::error_code ignored;
    client.set_option(tcp::no_delay(true), ignored);
    upstream.set_option(tcp::no_delay(true), ignored);
    if (!profile_) {
      co_await (relay_bytes(client, upstream, sink_->stats->bytes_up) &&
                relay_bytes(upstream, client, sink_->stats->bytes_down));
      co_return;
    }
    DelayLine up(io_.get_executor());
    DelayLine down(io_.get_executor());
    co_await (read_side(client, upstream, *up_, up) &&
              write_side(client, upstream, up, sink_->stats->bytes_up) &&
              read_side(upstream, client, *down_, down) &&
              write_side(upstream, client, down, sink_->stats->bytes_down));
  }

  void fail(tcp::socket& a, tcp::socket& b, DelayLine& line) {
    line.failed = true;
    line.data_ready.cancel();
    line.space_ready.cancel();
    close_both(a, b);
  }

  asio::awaitable<void> read_side(tcp::socket& from, tcp::socket& to, Link& link, DelayLine& line) {
    for (;;) {
      while (line.bytes >= max_in_flight_ && !line.failed)
        co_await wait_for_wakeup(line.space_ready);
      if (line.failed) co_return;
      std::vector<char> data(chunk_);
      auto [ec, n] = co_await from.async_read_some(asio::buffer(data), use_tuple);
      if (line.failed) co_return;
      if (n > 0) {
        data.resize(n);
        const auto now = Clock::now();
        const auto sent = link.bucket.take(n, now);
        const auto jitter_us = profile_->jitter.count();
        std::uniform_int_distribution<std::int64_t> spread(-jitter_us, jitter_us);
        const auto delay = profile_->latency + std::chrono::microseconds(spread(random_));
        // Never before an earlier chunk of this link: jitter must not reorder a byte stream.
        const auto arrival = std::max(link.last_arrival, sent + delay);
        link.last_arrival = arrival;
        line.bytes += n;
        line.chunks.push_back(Chunk{std::move(data), arrival});
        line.data_ready.cancel();
      }
      if (ec == asio::error::eof) {
        line.eof = true;
        line.data_ready.cancel();
        co_return;
      }
      if (ec) {
        fail(from, to, line);
        co_return;
      }
    }
  }

  asio::awaitable<void> write_side(tcp::socket& from, tcp::socket& to, DelayLine& line,
                                   std::atomic<std::uint64_t>& counter) {
    asio::steady_timer due(io_);
    for (;;) {
      while (line.chunks.empty() && !line.eof && !line.failed) {
        co_await wait_for_wakeup(line.data_ready);
      }
      if (line.failed) co_return;
      if (line.chunks.empty()) {  // eof and everything delivered
        end_direction(to);
        co_return;
      }
      due.expires_at(line.chunks.front().arrival);
      co_await due.async_wait(use_tuple);
      if (line.failed) co_return;
      Chunk chunk = std::move(line.chunks.front());
      line.chunks.pop_front();
      auto [ec, n] = co_await asio::async_write(to, asio::buffer(chunk.data), use_tuple);
      line.bytes -= chunk.data.size();
      line.space_ready.cancel();
      if (ec) {
        fail(from, to, line);
        co_return;
      }
      counter += n;
    }
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  int target_port_;
  std::optional<ThrottleProfile> profile_;
  std::shared_ptr<ChainSink> sink_;
  std::mt19937_64 random_;
  std::size_t chunk_ = kRelayBuffer;
  std::size_t max_in_flight_ = 0;
  std::optional<Link> up_;
  std::optional<Link> down_;
};

}  // namespace

std::shared_ptr<Layer> make_tcp_layer(asio::io_context& io, const std::string& bind,
                                      int listen_port, int target_port,
                                      std::optional<ThrottleProfile> profile,
                                      std::shared_ptr<ChainSink> sink) {
  return std::make_shared<TcpLayer>(io, bind, listen_port, target_port, std::move(profile),
                                    std::move(sink));
}

}  // namespace devx::edge
