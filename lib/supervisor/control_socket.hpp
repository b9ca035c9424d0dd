#pragma once
// The control socket of a supervisor: where it lives, and JSON Lines over a Unix stream socket
// (one request per connection). Sends use MSG_NOSIGNAL: a client that went away never raises
// SIGPIPE in the embedding process.
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace devx::supervisor {

// Longest path a sockaddr_un holds (sun_path is 108 bytes, one for the terminating NUL).
constexpr std::size_t kMaxSocketPath = 107;

// run_dir/control.sock, or /tmp/devx-<uid>/<run_key>.sock when that is too long.
std::filesystem::path socket_path_for(const std::filesystem::path& run_dir,
                                      const std::string& run_key);

// Binds and listens (mode 0600); removes a stale socket file first. Throws Error(io).
core::UniqueFd listen_unix(const std::filesystem::path& path);
// Connects; an invalid fd when nothing listens.
core::UniqueFd connect_unix(const std::filesystem::path& path);

// Sends `line` + '\n' completely. False when the peer is gone.
bool send_line(int fd, std::string_view line);

// Buffered line reading with a timeout per call.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line; nullopt on end of stream, error, or when `timeout` passes (timed_out() true).
  std::optional<std::string> next(std::chrono::milliseconds timeout);
  bool timed_out() const noexcept { return timed_out_; }

 private:
  int fd_;
  std::string buffer_;
  bool timed_out_ = false;
};

}  // namespace devx::supervisor

namespace boost::json {
class value;
}

namespace devx::supervisor {
// An Error back from its to_json() form ({"code","status","message","hint","details","cause"}).
Error error_from_json(const boost::json::value& value);
}  // namespace devx::supervisor
