#include "bridge/tunnel/traffic.hpp"

// linux/tcp.h, not netinet/tcp.h: glibc's struct tcp_info lacks the byte counters.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace devx::bridge::tunnel {

Traffic socket_traffic(int fd) noexcept {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return {};
  // The data counters arrived in Linux 5.5; older kernels return a shorter struct.
  if (length < offsetof(tcp_info, tcpi_bytes_retrans) + sizeof info.tcpi_bytes_retrans) return {};
  // bytes_received counts sequence space, which includes the peer's FIN; a FIN was received
  // exactly when a peek reports EOF (the relay has read everything before it).
  char byte = 0;
  const bool peer_fin = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  const auto received = info.tcpi_bytes_received - (peer_fin && info.tcpi_bytes_received > 0);
  return {received, info.tcpi_bytes_sent - info.tcpi_bytes_retrans};
}

}  // namespace devx::bridge::tunnel
