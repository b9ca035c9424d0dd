#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bridge/yamux/yamux.hpp"

namespace devx::bridge::yamux {
namespace {

using Clock = std::chrono::steady_clock;

// Big reads amortise syscalls over many small frames.
constexpr std::size_t kReadChunk = 256 * 1024;
// After a large data frame the next is likely large too: read only a little past its header, so
// that its payload is received straight into the stream's ring rather than copied via in_.
constexpr std::size_t kLargeFrame = 16 * 1024;
constexpr std::size_t kReadAhead = 4 * 1024;
// Waiting readers are woken when the socket has nothing more for now, or after this many more
// bytes received, so that they consume in parallel with a long burst.
constexpr std::size_t kWakeBatch = 256 * 1024;

struct ProtocolViolation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The connection ended (EOF or read error); read_end_reason_ says which.
struct ReadEnded {};

bool is_local_id(Role role, std::uint32_t id) { return (id % 2 == 1) == (role == Role::client); }

}  // namespace

const char* to_string(GoAwayCode code) {
  switch (code) {
    case GoAwayCode::normal:
      return "normal";
    case GoAwayCode::protocol_error:
      return "protocol error";
    case GoAwayCode::internal_error:
      return "internal error";
  }
  return "unknown";
}

std::shared_ptr<Session> Session::start(int fd, Role role, Config config) {
  const int fl = ::fcntl(fd, F_GETFL);
  // Blocking, so that the reader waits in recvmsg itself rather than poll + recvmsg; writes pass
  // MSG_DONTWAIT to keep their timeout.
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    throw Error(Error::Kind::io, std::string("yamux: bad socket: ") + std::strerror(errno));
  }
  // Fails harmlessly on unix sockets.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  config.max_stream_window = std::max(config.max_stream_window, kInitialWindow);
  auto session = std::make_shared<Session>(Key{}, fd, role, config);
  session->reader_ = std::thread([s = session.get()] { s->read_loop(); });
  session->control_ = std::thread([s = session.get()] { s->control_loop(); });
  return session;
}

Session::Session(Key, int fd, Role role, Config config)
    : fd_(fd),
      event_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      role_(role),
      config_(config),
      next_stream_id_(role == Role::client ? 1 : 2),
      in_(kReadChunk) {}

Session::~Session() {
  close();
  ::close(fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

void Session::close() {
  terminate("closed locally");
  std::lock_guard lock(join_mu_);
  for (auto* thread : {&reader_, &control_}) {
    if (thread->joinable() && thread->get_id() != std::this_thread::get_id()) thread->join();
  }
}

void Session::terminate(const std::string& reason) {
  std::unordered_map<std::uint32_t, std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    closed_flag_ = true;
    close_reason_ = reason;
    streams.swap(streams_);
    accept_queue_.clear();
    opening_.clear();
    // Under the lock, so whoever sees closed_ also finds the eventfd readable.
    if (event_fd_ >= 0) {
      const std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(event_fd_, &one, sizeof one);
    }
  }
  // Wakes the reader's recvmsg and any writer blocked on a full socket.
  ::shutdown(fd_, SHUT_RDWR);
  for (auto& [id, stream] : streams) stream->mark_session_closed();
  state_cv_.notify_all();
  control_cv_.notify_all();
}

bool Session::wait_closed(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return state_cv_.wait_for(lock, timeout, [this] { return closed_; });
}

std::string Session::close_reason() const {
  std::lock_guard lock(mu_);
  return close_reason_;
}

std::size_t Session::open_streams() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

std::shared_ptr<Stream> Session::open() {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    if (closed_) throw Error(Error::Kind::closed, "yamux: session closed: " + close_reason_);
    if (local_go_away_ || remote_go_away_) {
      throw Error(Error::Kind::closed, "yamux: session is going away");
    }
    if (next_stream_id_ > 0xFFFFFFFFu - 2) {
      throw Error(Error::Kind::closed, "yamux: stream ids exhausted");
    }
    const std::uint32_t id = next_stream_id_;
    next_stream_id_ += 2;
    stream = std::make_shared<Stream>(Stream::Key{}, weak_from_this(), id,
                                      config_.max_stream_window, true);
    streams_.emplace(id, stream);
    // Acknowledged streams at the front need no timer any more; pruning here bounds the queue.
    while (!opening_.empty()) {
      auto front = opening_.front().second.lock();
      if (front && !front->acked_.load()) break;
      opening_.pop_front();
    }
    opening_.emplace_back(Clock::now() + config_.stream_open_timeout, stream);
  }
  control_cv_.notify_all();
  send_frame({.type = FrameType::window_update,
              .flags = flags::syn,
              .stream_id = stream->id(),
              .length = stream->grow_receive_window()});
  return stream;
}

std::shared_ptr<Stream> Session::accept() {
  std::shared_ptr<Stream> stream;
  {
    std::unique_lock lock(mu_);
    state_cv_.wait(lock, [this] {
      return !accept_queue_.empty() || closed_ || local_go_away_ || remote_go_away_;
    });
    if (accept_queue_.empty()) return nullptr;
    stream = std::move(accept_queue_.front());
    accept_queue_.pop_front();
  }
  try {
    send_frame({.type = FrameType::window_update,
                .flags = flags::ack,
                .stream_id = stream->id(),
                .length = stream->grow_receive_window()});
  } catch (const Error&) {
    return nullptr;
  }
  return stream;
}

std::optional<std::chrono::microseconds> Session::ping(std::chrono::milliseconds timeout) {
  std::uint32_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (closed_) return std::nullopt;
    id = next_ping_id_++;
    pings_[id] = PingState{.sent = Clock::now(), .rtt = std::nullopt};
  }
  try {
    send_frame({.type = FrameType::ping, .flags = flags::syn, .stream_id = 0, .length = id});
  } catch (const Error&) {
    std::lock_guard lock(mu_);
    pings_.erase(id);
    return std::nullopt;
  }
  std::unique_lock lock(mu_);
  state_cv_.wait_for(lock, timeout, [&] { return closed_ || pings_[id].rtt.has_value(); });
  auto rtt = pings_[id].rtt;
  pings_.erase(id);
  return rtt;
}

void Session::go_away(GoAwayCode code) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    local_go_away_ = true;
  }
  state_cv_.notify_all();
  try {
    send_frame(
        {.type = FrameType::go_away, .stream_id = 0, .length = static_cast<std::uint32_t>(code)});
  } catch (const Error&) {
    return;  // already closed
  }
  if (code != GoAwayCode::normal) terminate(std::string("go away (") + to_string(code) + ")");
}

void Session::send_frame(const FrameHeader& header, const void* payload, std::size_t len) {
  auto encoded = encode(header);
  iovec iov[2] = {{encoded.data(), encoded.size()}, {const_cast<void*>(payload), len}};
  write_all(iov, len > 0 ? 2 : 1);
}

void Session::write_all(iovec* iov, int count) {
  std::lock_guard lock(write_mu_);
  while (count > 0) {
    if (closed_flag_) throw Error(Error::Kind::closed, "yamux: session closed: " + close_reason());
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd pfd{fd_, POLLOUT, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>(config_.write_timeout.count()));
        if (r == 0) {
          terminate("write timeout");
          throw Error(Error::Kind::timeout, "yamux: write timeout");
        }
        continue;
      }
      const std::string reason = std::string("write failed: ") + std::strerror(errno);
      const bool was_closed = closed_flag_;
      terminate(reason);
      throw Error(was_closed ? Error::Kind::closed : Error::Kind::io, "yamux: " + close_reason());
    }
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<std::byte*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
}

void Session::queue_control(const FrameHeader& header) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    control_queue_.push_back(header);
  }
  control_cv_.notify_all();
}

void Session::remove_stream(std::uint32_t id, const Stream* stream) {
  std::lock_guard lock(mu_);
  auto it = streams_.find(id);
  if (it != streams_.end() && it->second.get() == stream) streams_.erase(it);
}

// ---- control thread ----------------------------------------------------------------------------

void Session::control_loop() {
  std::unique_lock lock(mu_);
  auto next_ping = Clock::now() + config_.keepalive_interval;
  Clock::time_point ping_deadline{};
  while (!closed_) {
    if (!control_queue_.empty()) {
      std::vector<FrameHeader> batch;
      batch.swap(control_queue_);
      lock.unlock();
      std::vector<EncodedHeader> encoded;
      encoded.reserve(batch.size());
      for (const auto& header : batch) encoded.push_back(encode(header));
      iovec iov{encoded.data(), encoded.size() * kHeaderSize};
      try {
        write_all(&iov, 1);
      } catch (const Error&) {
        return;  // the session is closed
      }
      lock.lock();
      continue;
    }

    const auto now = Clock::now();
    if (config_.keepalive) {
      if (keepalive_ping_) {
        const auto it = pings_.find(*keepalive_ping_);
        if (it != pings_.end() && it->second.rtt) {
          pings_.erase(it);
          keepalive_ping_.reset();
        } else if (now >= ping_deadline) {
          lock.unlock();
          terminate("keepalive timeout");
          return;
        }
      }
      if (!keepalive_ping_ && now >= next_ping) {
        const std::uint32_t id = next_ping_id_++;
        pings_[id] = PingState{.sent = now, .rtt = std::nullopt};
        keepalive_ping_ = id;
        ping_deadline = now + config_.keepalive_timeout;
        next_ping = now + config_.keepalive_interval;
        lock.unlock();
        try {
          send_frame({.type = FrameType::ping, .flags = flags::syn, .stream_id = 0, .length = id});
        } catch (const Error&) {
          return;
        }
        lock.lock();
        continue;
      }
    }

    lock.unlock();
    expire_opens(now);
    lock.lock();
    if (closed_ || !control_queue_.empty()) continue;

    auto wake = Clock::time_point::max();
    if (config_.keepalive) wake = keepalive_ping_ ? ping_deadline : next_ping;
    if (!opening_.empty()) wake = std::min(wake, opening_.front().first);
    if (wake == Clock::time_point::max()) {
      control_cv_.wait(lock);
    } else {
      control_cv_.wait_until(lock, wake);
    }
  }
}

void Session::expire_opens(Clock::time_point now) {
  std::vector<std::shared_ptr<Stream>> expired;
  {
    std::lock_guard lock(mu_);
    while (!opening_.empty()) {
      auto stream = opening_.front().second.lock();
      if (stream && !stream->acked_.load()) {
        if (opening_.front().first > now) break;
        expired.push_back(std::move(stream));
      }
      opening_.pop_front();
    }
  }
  for (auto& stream : expired) {
    if (!stream->mark_reset()) continue;
    remove_stream(stream->id(), stream.get());
    try {
      send_frame({.type = FrameType::window_update,
                  .flags = flags::rst,
                  .stream_id = stream->id(),
                  .length = 0});
    } catch (const Error&) {
      return;
    }
  }
}

// ---- reader thread -----------------------------------------------------------------------------

void Session::read_loop() {
  std::string reason;
  try {
    for (;;) {
      while (in_end_ - in_begin_ < kHeaderSize) {
        if (!fill()) throw ReadEnded{};
      }
      const auto decoded =
          decode(std::span<const std::byte>(in_.data() + in_begin_, in_end_ - in_begin_));
      if (const auto* error = std::get_if<DecodeError>(&decoded)) {
        throw ProtocolViolation(to_string(*error));
      }
      in_begin_ += kHeaderSize;
      on_frame(std::get<FrameHeader>(decoded));
    }
  } catch (const ProtocolViolation& violation) {
    try {
      send_frame({.type = FrameType::go_away,
                  .stream_id = 0,
                  .length = static_cast<std::uint32_t>(GoAwayCode::protocol_error)});
    } catch (const Error&) {
      // Closed meanwhile; the reason below still explains why.
    }
    reason = std::string("protocol error: ") + violation.what();
  } catch (const ReadEnded&) {
    reason = read_end_reason_;
  } catch (const Error& error) {
    reason = error.what();
  }
  wake_readers();
  terminate(reason);
}

bool Session::fill() {
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
  } else if (in_begin_ > 0 && in_.size() - in_end_ < kHeaderSize * 2) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  const std::size_t room = in_.size() - in_end_;
  const std::size_t want = large_frames_ ? std::min(room, kReadAhead) : room;
  iovec iov{in_.data() + in_end_, want};
  if (!recv_into(&iov, 1)) return false;
  in_end_ += want - iov.iov_len;
  return true;
}

// Receives once (waiting if nothing is available) up to the iovecs' size and advances them.
// Returns false when the connection ended.
bool Session::recv_into(iovec* iov, int count) {
  // A short last read means the socket was drained: this one would most likely block.
  if (socket_drained_) wake_readers();
  std::size_t wanted = 0;
  for (int i = 0; i < count; ++i) wanted += iov[i].iov_len;
  for (;;) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    // With readers to wake, first learn whether this would block.
    const ssize_t n = ::recvmsg(fd_, &msg, wake_.empty() ? 0 : MSG_DONTWAIT);
    if (n > 0) {
      auto left = static_cast<std::size_t>(n);
      socket_drained_ = left < wanted;
      // Bounds how long a reader waits while other traffic keeps the socket busy.
      if (!wake_.empty() && (unwoken_bytes_ += left) >= kWakeBatch) wake_readers();
      for (int i = 0; i < count && left > 0; ++i) {
        const std::size_t take = std::min(left, iov[i].iov_len);
        iov[i].iov_base = static_cast<std::byte*>(iov[i].iov_base) + take;
        iov[i].iov_len -= take;
        left -= take;
      }
      return true;
    }
    if (n == 0) {
      read_end_reason_ = remote_go_away_ ? "go away (normal)" : "peer closed";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // Everything received so far is delivered: readers run while this thread waits.
      wake_readers();
      continue;
    }
    read_end_reason_ = std::string("read failed: ") + std::strerror(errno);
    return false;
  }
}

void Session::on_frame(const FrameHeader& header) {
  switch (header.type) {
    case FrameType::data:
    case FrameType::window_update:
      on_stream_frame(header);
      return;
    case FrameType::ping:
      if (header.has(flags::syn)) {
        queue_control({.type = FrameType::ping,
                       .flags = flags::ack,
                       .stream_id = 0,
                       .length = header.length});
      } else if (header.has(flags::ack)) {
        {
          std::lock_guard lock(mu_);
          auto it = pings_.find(header.length);
          if (it == pings_.end() || it->second.rtt) return;
          it->second.rtt =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second.sent);
        }
        state_cv_.notify_all();
        control_cv_.notify_all();
      }
      return;
    case FrameType::go_away:
      switch (static_cast<GoAwayCode>(header.length)) {
        case GoAwayCode::normal: {
          {
            std::lock_guard lock(mu_);
            remote_go_away_ = true;
          }
          state_cv_.notify_all();
          return;
        }
        case GoAwayCode::protocol_error:
        case GoAwayCode::internal_error:
          throw Error(Error::Kind::protocol, std::string("remote go away (") +
                                                 to_string(static_cast<GoAwayCode>(header.length)) +
                                                 ")");
      }
      throw Error(Error::Kind::protocol, "remote go away (unknown code)");
  }
}

void Session::on_stream_frame(const FrameHeader& header) {
  std::shared_ptr<Stream> stream;
  if (header.has(flags::syn)) {
    stream = incoming_stream(header.stream_id);
  } else {
    std::lock_guard lock(mu_);
    if (auto it = streams_.find(header.stream_id); it != streams_.end()) stream = it->second;
  }
  // Frames for unknown (finished, rejected) streams are dropped, as hashicorp/yamux does.
  if (!stream) {
    if (header.type == FrameType::data) discard(header.length);
    return;
  }
  if (header.has(flags::ack)) stream->acked_ = true;
  if (header.type == FrameType::data) {
    deliver(stream, header.length);
  } else {
    stream->add_send_window(header.length);
  }
  if (header.has(flags::rst)) {
    if (stream->mark_reset()) remove_stream(header.stream_id, stream.get());
  } else if (header.has(flags::fin)) {
    switch (stream->mark_fin_received()) {
      case Stream::FinResult::duplicate:
        throw ProtocolViolation("duplicate FIN");
      case Stream::FinResult::finished:
        remove_stream(header.stream_id, stream.get());
        break;
      case Stream::FinResult::open:
        break;
    }
  }
}

std::shared_ptr<Stream> Session::incoming_stream(std::uint32_t id) {
  if (id == 0 || is_local_id(role_, id)) throw ProtocolViolation("SYN with a local stream id");
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    if (streams_.contains(id)) throw ProtocolViolation("duplicate stream");
    if (!local_go_away_ && !remote_go_away_ && accept_queue_.size() < config_.accept_backlog) {
      stream = std::make_shared<Stream>(Stream::Key{}, weak_from_this(), id,
                                        config_.max_stream_window, false);
      streams_.emplace(id, stream);
      accept_queue_.push_back(stream);
    }
  }
  if (!stream) {
    queue_control(
        {.type = FrameType::window_update, .flags = flags::rst, .stream_id = id, .length = 0});
    return nullptr;
  }
  state_cv_.notify_all();
  return stream;
}

void Session::deliver(const std::shared_ptr<Stream>& shared, std::uint32_t len) {
  Stream& stream = *shared;
  large_frames_ = len >= kLargeFrame;
  if (len == 0) return;
  std::size_t tail = 0;
  {
    std::lock_guard lock(stream.mu_);
    if (len > stream.recv_window_) throw ProtocolViolation("receive window exceeded");
    if (stream.fin_received_) throw ProtocolViolation("data after FIN");
    stream.reserve_locked(len);
    tail = (stream.head_ + stream.size_) % stream.capacity_;
  }
  // The region [tail, tail+len) (mod capacity) is free and only this thread writes it; the
  // buffer is not reallocated until this frame is committed.
  std::byte* ring = stream.ring_.get();
  const std::size_t capacity = stream.capacity_;
  iovec iov[3];
  auto segments = [&](std::size_t n) {
    const std::size_t first = std::min(n, capacity - tail);
    iov[0] = {ring + tail, first};
    iov[1] = {ring, n - first};
    return n - first > 0 ? 2 : 1;
  };

  std::size_t left = len;
  if (in_begin_ < in_end_) {
    const std::size_t take = std::min<std::size_t>(left, in_end_ - in_begin_);
    const int count = segments(take);
    std::memcpy(iov[0].iov_base, in_.data() + in_begin_, iov[0].iov_len);
    if (count > 1)
      std::memcpy(iov[1].iov_base, in_.data() + in_begin_ + iov[0].iov_len, iov[1].iov_len);
    in_begin_ += take;
    tail = (tail + take) % capacity;
    left -= take;
    if (stream.commit(take) && (wake_.empty() || wake_.back() != shared)) wake_.push_back(shared);
  }
  // The rest of the payload goes straight into the ring and whatever follows it into in_, one
  // syscall per batch and no second copy.
  while (left > 0) {
    in_begin_ = in_end_ = 0;
    const int count = segments(left);
    iov[count] = {in_.data(), large_frames_ ? kReadAhead : in_.size()};
    const std::size_t wanted = left + iov[count].iov_len;
    if (!recv_into(iov, count + 1)) throw ReadEnded{};
    std::size_t got = wanted;
    for (int i = 0; i <= count; ++i) got -= iov[i].iov_len;
    const std::size_t payload = std::min(got, left);
    in_end_ = got - payload;
    tail = (tail + payload) % capacity;
    left -= payload;
    if (stream.commit(payload) && (wake_.empty() || wake_.back() != shared))
      wake_.push_back(shared);
  }
}

void Session::wake_readers() {
  for (auto& stream : wake_) stream->readable_.notify_all();
  wake_.clear();
  unwoken_bytes_ = 0;
}

void Session::discard(std::size_t len) {
  while (len > 0) {
    if (in_begin_ == in_end_ && !fill()) throw ReadEnded{};
    const std::size_t take = std::min(len, in_end_ - in_begin_);
    in_begin_ += take;
    len -= take;
  }
}

}  // namespace devx::bridge::yamux
