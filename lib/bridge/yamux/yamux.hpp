// Yamux stream multiplexer, wire-compatible with hashicorp/yamux (spec version 0), both roles.
// Threads: each Session runs a reader thread (demultiplexes frames into per-stream buffers) and a
// control thread (keepalive, open timeouts, control frames the reader must not block on). Data is
// written by the caller's thread straight from its buffer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bridge/yamux/frame.hpp"

namespace devx::bridge::yamux {

enum class Role { client, server };
enum class GoAwayCode : std::uint32_t { normal = 0, protocol_error = 1, internal_error = 2 };

const char* to_string(GoAwayCode code);

struct Config {
  // Announced to the peer on open/accept (window update with SYN/ACK); the spec's 256 KiB initial
  // window is the floor.
  std::uint32_t max_stream_window = 16 * 1024 * 1024;
  bool keepalive = true;
  std::chrono::milliseconds keepalive_interval{30000};
  std::chrono::milliseconds keepalive_timeout{10000};    // an unanswered ping closes the session
  std::chrono::milliseconds write_timeout{10000};        // a socket write blocked this long closes
  std::chrono::milliseconds stream_open_timeout{75000};  // SYN not ACKed → the stream is reset
  std::size_t accept_backlog = 256;                      // streams beyond this are RST
};

class Error : public std::runtime_error {
 public:
  enum class Kind { closed, reset, timeout, protocol, io };
  Error(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class Session;

// Thread-safe; shared_ptr-owned. Reads and writes may run concurrently on different threads.
class Stream {
  struct Key {};

 public:
  Stream(Key, std::weak_ptr<Session> session, std::uint32_t id, std::uint32_t max_window,
         bool opened_locally);

  std::uint32_t id() const { return id_; }
  // Blocks; 0 = the peer sent FIN (EOF). Throws Error(reset|closed|timeout).
  std::size_t read(void* buf, std::size_t len);
  // Blocks while the peer's window is 0. Throws on RST, closed session or after close_write().
  void write(const void* buf, std::size_t len);
  void close_write();  // FIN (half-close); waits for a write() in progress so FIN follows its data
  void reset();        // RST
  void close();        // FIN if not sent; released once both sides finished
  void set_read_timeout(std::chrono::milliseconds timeout);  // 0 = none

  // Received bytes not yet read; never above receive_window_limit().
  std::size_t buffered() const;
  std::uint32_t receive_window_limit() const { return max_window_; }

 private:
  friend class Session;

  // Raises the receive window from the spec's initial size to max_window_ and returns the delta
  // to announce; the window must grow before the peer can learn about it.
  std::uint32_t grow_receive_window();

  friend void splice(Stream& stream, int fd);

  // read() without the copy, for splice(): waits like read() and describes the buffered bytes as
  // up to two segments; 0 = EOF. They stay valid and other reads wait until consume().
  std::size_t peek(struct iovec* iov, int& count);
  void consume(std::size_t n);
  // Waits until data, EOF or an error; throws like read(). False on EOF.
  bool wait_readable(std::unique_lock<std::mutex>& lock);
  // Drops n read bytes; releases `lock` and re-opens the receive window if due.
  void advance(std::size_t n, std::unique_lock<std::mutex>& lock);

  // Reader-thread side (called by Session).
  void reserve_locked(std::size_t extra);
  bool commit(std::size_t n);  // true when a reader waits for the data: Session wakes it
  void add_send_window(std::uint32_t delta);
  enum class FinResult { open, finished, duplicate };
  FinResult mark_fin_received();
  bool mark_reset();  // true when this call reset the stream
  void mark_session_closed();

  std::weak_ptr<Session> session_;
  const std::uint32_t id_;
  const std::uint32_t max_window_;

  mutable std::mutex mu_;
  std::condition_variable readable_;
  std::condition_variable writable_;
  std::mutex write_mu_;  // one write() call's frames stay contiguous in the stream

  // Receive ring. Only the reader thread grows it or fills its free part (outside mu_); readers
  // consume from head_. Capacity never exceeds max_window_.
  std::unique_ptr<std::byte[]> ring_;
  std::unique_ptr<std::byte[]> retired_;  // the ring a peek() points into, if it grew since
  bool peeked_ = false;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::uint32_t recv_window_ = kInitialWindow;  // invariant: size_ + recv_window_ <= max_window_
  std::uint64_t send_window_ = kInitialWindow;

  std::atomic<bool> acked_;
  bool fin_sent_ = false;
  bool fin_received_ = false;
  bool reset_ = false;
  bool session_closed_ = false;
  std::chrono::milliseconds read_timeout_{0};
  int read_waiters_ = 0;  // threads blocked in read()
};

class Session : public std::enable_shared_from_this<Session> {
  struct Key {};

 public:
  // Takes ownership of a connected stream socket (TCP, unix socketpair). Starts its own threads.
  static std::shared_ptr<Session> start(int fd, Role role, Config config = {});
  Session(Key, int fd, Role role, Config config);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();  // closes

  std::shared_ptr<Stream> open();    // sends SYN; returns at once (data may precede the ACK)
  std::shared_ptr<Stream> accept();  // blocks; nullptr once closed or no more streams can come
  std::optional<std::chrono::microseconds> ping(std::chrono::milliseconds timeout);
  void go_away(GoAwayCode code = GoAwayCode::normal);  // no new streams either way
  // Closes everything; idempotent; joins the session threads.
  void close();
  bool closed() const { return closed_flag_.load(); }
  bool wait_closed(std::chrono::milliseconds timeout) const;
  std::string close_reason() const;
  int closed_event_fd() const { return event_fd_; }  // readable once the session closed
  std::size_t open_streams() const;

 private:
  friend class Stream;
  struct PingState {
    std::chrono::steady_clock::time_point sent;
    std::optional<std::chrono::microseconds> rtt;
  };

  // Writes one frame (header + optional payload) under the write mutex. Throws Error; a failed or
  // timed-out socket write closes the session.
  void send_frame(const FrameHeader& header, const void* payload = nullptr, std::size_t len = 0);
  void write_all(struct iovec* iov, int count);
  void queue_control(const FrameHeader& header);
  void remove_stream(std::uint32_t id, const Stream* stream);
  void terminate(const std::string& reason);

  void read_loop();
  void control_loop();
  void on_frame(const FrameHeader& header);
  void on_stream_frame(const FrameHeader& header);
  std::shared_ptr<Stream> incoming_stream(std::uint32_t id);
  void deliver(const std::shared_ptr<Stream>& stream, std::uint32_t len);
  void wake_readers();
  void discard(std::size_t len);
  bool fill();
  bool recv_into(struct iovec* iov, int count);
  void expire_opens(std::chrono::steady_clock::time_point now);

  const int fd_;
  const int event_fd_;
  const Role role_;
  const Config config_;

  mutable std::mutex mu_;
  mutable std::condition_variable state_cv_;  // accept queue, pings, close
  std::condition_variable control_cv_;
  std::unordered_map<std::uint32_t, std::shared_ptr<Stream>> streams_;
  std::deque<std::shared_ptr<Stream>> accept_queue_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::weak_ptr<Stream>>> opening_;
  std::vector<FrameHeader> control_queue_;
  std::unordered_map<std::uint32_t, PingState> pings_;
  std::uint32_t next_stream_id_;
  std::uint32_t next_ping_id_ = 0;
  std::optional<std::uint32_t> keepalive_ping_;
  bool closed_ = false;
  bool local_go_away_ = false;
  bool remote_go_away_ = false;
  std::string close_reason_;
  std::atomic<bool> closed_flag_{false};

  std::mutex write_mu_;

  std::mutex join_mu_;
  std::thread reader_;
  std::thread control_;

  // Reader thread only.
  std::vector<std::byte> in_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  bool large_frames_ = false;  // the last data frame was large; fill() reads less ahead
  // Streams whose waiting readers get new data, woken once per batch rather than per commit.
  std::vector<std::shared_ptr<Stream>> wake_;
  std::size_t unwoken_bytes_ = 0;  // received since wake_ became non-empty
  bool socket_drained_ = false;    // the last recvmsg got less than it asked for
  std::string read_end_reason_;
};

// Copies both directions between `stream` and the connected socket `fd` until both ended:
// EOF on the socket → close_write() on the stream; EOF on the stream → shutdown(fd, SHUT_WR);
// an error on either side → reset() and close. Does not close fd. Blocking; uses the calling
// thread plus one more.
void splice(Stream& stream, int fd);

}  // namespace devx::bridge::yamux
