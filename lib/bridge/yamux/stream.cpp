#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "bridge/yamux/yamux.hpp"

namespace devx::bridge::yamux {
namespace {

// Caps one data frame so concurrent streams interleave on the connection.
constexpr std::size_t kMaxFramePayload = 256 * 1024;
constexpr std::size_t kMinRing = 64 * 1024;

}  // namespace

Stream::Stream(Key, std::weak_ptr<Session> session, std::uint32_t id, std::uint32_t max_window,
               bool opened_locally)
    : session_(std::move(session)), id_(id), max_window_(max_window), acked_(!opened_locally) {}

std::size_t Stream::buffered() const {
  std::lock_guard lock(mu_);
  return size_;
}

void Stream::set_read_timeout(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  read_timeout_ = timeout;
}

bool Stream::wait_readable(std::unique_lock<std::mutex>& lock) {
  // A peeked region is consumed by its owner; other reads take what follows it.
  auto ready = [this] {
    return !peeked_ && (size_ > 0 || fin_received_ || reset_ || session_closed_);
  };
  if (!ready()) {
    ++read_waiters_;
    bool timed_out = false;
    if (read_timeout_.count() > 0) {
      timed_out = !readable_.wait_for(lock, read_timeout_, ready);
    } else {
      readable_.wait(lock, ready);
    }
    --read_waiters_;
    if (timed_out) throw Error(Error::Kind::timeout, "yamux: read timed out");
  }
  if (reset_) throw Error(Error::Kind::reset, "yamux: stream reset");
  if (size_ == 0) {
    if (fin_received_) return false;
    throw Error(Error::Kind::closed, "yamux: session closed");
  }
  return true;
}

std::size_t Stream::read(void* buf, std::size_t len) {
  std::unique_lock lock(mu_);
  if (!wait_readable(lock) || len == 0) return 0;
  const std::size_t n = std::min(len, size_);
  const std::size_t first = std::min(n, capacity_ - head_);
  auto* out = static_cast<std::byte*>(buf);
  std::memcpy(out, ring_.get() + head_, first);
  std::memcpy(out + first, ring_.get(), n - first);
  advance(n, lock);
  return n;
}

std::size_t Stream::peek(iovec* iov, int& count) {
  std::unique_lock lock(mu_);
  if (!wait_readable(lock)) return 0;
  const std::size_t first = std::min(size_, capacity_ - head_);
  iov[0] = {ring_.get() + head_, first};
  iov[1] = {ring_.get(), size_ - first};
  count = size_ > first ? 2 : 1;
  peeked_ = true;
  return size_;
}

void Stream::consume(std::size_t n) {
  std::unique_lock lock(mu_);
  peeked_ = false;
  retired_.reset();
  if (read_waiters_ > 0) readable_.notify_all();
  advance(n, lock);
}

void Stream::advance(std::size_t n, std::unique_lock<std::mutex>& lock) {
  if (n > 0) head_ = (head_ + n) % capacity_;
  size_ -= n;

  // Re-open the window in large steps (half of it), not per read, to keep control traffic low.
  std::uint32_t delta = 0;
  if (!fin_received_) {
    const std::size_t room = max_window_ - size_ - recv_window_;
    if (room >= max_window_ / 2) {
      delta = static_cast<std::uint32_t>(room);
      recv_window_ += delta;
    }
  }
  lock.unlock();
  if (delta > 0) {
    if (auto session = session_.lock()) {
      try {
        session->send_frame({.type = FrameType::window_update, .stream_id = id_, .length = delta});
      } catch (const Error&) {
        // The bytes were read; a dead session surfaces on the next call.
      }
    }
  }
}

void Stream::write(const void* buf, std::size_t len) {
  auto session = session_.lock();
  if (!session) throw Error(Error::Kind::closed, "yamux: session closed");
  std::lock_guard write_lock(write_mu_);
  const auto* p = static_cast<const std::byte*>(buf);
  while (len > 0) {
    std::unique_lock lock(mu_);
    writable_.wait(lock,
                   [this] { return send_window_ > 0 || reset_ || fin_sent_ || session_closed_; });
    if (reset_) throw Error(Error::Kind::reset, "yamux: stream reset");
    if (fin_sent_) throw Error(Error::Kind::closed, "yamux: write after close");
    if (session_closed_) throw Error(Error::Kind::closed, "yamux: session closed");
    const auto n =
        static_cast<std::uint32_t>(std::min<std::uint64_t>({len, send_window_, kMaxFramePayload}));
    send_window_ -= n;
    lock.unlock();
    session->send_frame({.type = FrameType::data, .stream_id = id_, .length = n}, p, n);
    p += n;
    len -= n;
  }
}

void Stream::close_write() {
  std::lock_guard write_lock(write_mu_);
  bool finished = false;
  {
    std::lock_guard lock(mu_);
    if (fin_sent_ || reset_ || session_closed_) return;
    fin_sent_ = true;
    finished = fin_received_;
  }
  writable_.notify_all();
  auto session = session_.lock();
  if (!session) return;
  try {
    session->send_frame(
        {.type = FrameType::window_update, .flags = flags::fin, .stream_id = id_, .length = 0});
  } catch (const Error&) {
    // The session is gone; there is nobody left to tell.
  }
  if (finished) session->remove_stream(id_, this);
}

void Stream::reset() {
  if (!mark_reset()) return;
  auto session = session_.lock();
  if (!session) return;
  try {
    session->send_frame(
        {.type = FrameType::window_update, .flags = flags::rst, .stream_id = id_, .length = 0});
  } catch (const Error&) {
    // As above.
  }
  session->remove_stream(id_, this);
}

void Stream::close() { close_write(); }

std::uint32_t Stream::grow_receive_window() {
  std::lock_guard lock(mu_);
  const auto delta = max_window_ - kInitialWindow;
  recv_window_ += delta;
  return delta;
}

void Stream::reserve_locked(std::size_t extra) {
  const std::size_t needed = size_ + extra;
  if (needed <= capacity_) return;
  std::size_t capacity = std::max(kMinRing, capacity_ * 2);
  while (capacity < needed) capacity *= 2;
  capacity = std::min<std::size_t>(std::max<std::size_t>(capacity, needed), max_window_);
  auto ring = std::make_unique_for_overwrite<std::byte[]>(capacity);
  const std::size_t first = std::min(size_, capacity_ - head_);
  if (size_ > 0) {
    std::memcpy(ring.get(), ring_.get() + head_, first);
    std::memcpy(ring.get() + first, ring_.get(), size_ - first);
  }
  // A peek() may be sending from the old ring outside the lock; it lives until consume().
  if (peeked_ && !retired_) retired_ = std::move(ring_);
  ring_ = std::move(ring);
  capacity_ = capacity;
  head_ = 0;
}

bool Stream::commit(std::size_t n) {
  std::lock_guard lock(mu_);
  size_ += n;
  recv_window_ -= static_cast<std::uint32_t>(n);
  return read_waiters_ > 0;
}

void Stream::add_send_window(std::uint32_t delta) {
  if (delta == 0) return;
  {
    std::lock_guard lock(mu_);
    send_window_ += delta;
  }
  writable_.notify_all();
}

Stream::FinResult Stream::mark_fin_received() {
  bool finished = false;
  {
    std::lock_guard lock(mu_);
    if (fin_received_) return FinResult::duplicate;
    fin_received_ = true;
    finished = fin_sent_ && !reset_;
  }
  readable_.notify_all();
  return finished ? FinResult::finished : FinResult::open;
}

bool Stream::mark_reset() {
  {
    std::lock_guard lock(mu_);
    if (reset_ || (fin_sent_ && fin_received_)) return false;
    reset_ = true;
  }
  readable_.notify_all();
  writable_.notify_all();
  return true;
}

void Stream::mark_session_closed() {
  {
    std::lock_guard lock(mu_);
    session_closed_ = true;
  }
  readable_.notify_all();
  writable_.notify_all();
}

}  // namespace devx::bridge::yamux
