#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "bridge/yamux/yamux.hpp"

namespace devx::bridge::yamux {
namespace {

constexpr std::size_t kSpliceChunk = 128 * 1024;

// The socket may be blocking or not; poll covers the latter.
bool wait_fd(int fd, short events) {
  pollfd pfd{fd, events, 0};
  return ::poll(&pfd, 1, -1) >= 0 || errno == EINTR;
}

// > 0 bytes, 0 on EOF, < 0 on error.
ssize_t recv_some(int fd, std::byte* buf, std::size_t len) {
  for (;;) {
    const ssize_t n = ::recv(fd, buf, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_fd(fd, POLLIN)) return -1;
  }
}

bool send_all(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n > 0) {
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
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT)) continue;
    return false;
  }
  return true;
}

// An error on either side tears down both: RST to the peer, and the socket is shut down so the
// other direction's blocking call returns.
void abort_both(Stream& stream, int fd) {
  stream.reset();
  ::shutdown(fd, SHUT_RDWR);
}

}  // namespace

void splice(Stream& stream, int fd) {
  std::thread socket_to_stream([&stream, fd] {
    std::vector<std::byte> buf(kSpliceChunk);
    try {
      for (;;) {
        const ssize_t n = recv_some(fd, buf.data(), buf.size());
        if (n == 0) {
          stream.close_write();
          return;
        }
        if (n < 0) {
          abort_both(stream, fd);
          return;
        }
        stream.write(buf.data(), static_cast<std::size_t>(n));
      }
    } catch (const Error&) {
      abort_both(stream, fd);
    }
  });

  // Straight from the stream's buffer to the socket, with no copy in between.
  try {
    for (;;) {
      iovec iov[2];
      int count = 0;
      const std::size_t n = stream.peek(iov, count);
      if (n == 0) {
        ::shutdown(fd, SHUT_WR);
        break;
      }
      const bool sent = send_all(fd, iov, count);
      stream.consume(n);
      if (!sent) {
        abort_both(stream, fd);
        break;
      }
    }
  } catch (const Error&) {
    abort_both(stream, fd);
  }
  socket_to_stream.join();
  stream.close();
}

}  // namespace devx::bridge::yamux
