#pragma once
// Bytes a relayed TCP connection carried, read from the kernel (TCP_INFO), so the relay loop
// does not have to count.

#include <cstdint>

namespace devx::bridge::tunnel {

struct Traffic {
  std::uint64_t received = 0;  // from the socket's peer
  std::uint64_t sent = 0;      // to the socket's peer (retransmissions not counted twice)
};

// Zeros when the kernel cannot tell (not TCP).
Traffic socket_traffic(int fd) noexcept;

}  // namespace devx::bridge::tunnel
