#pragma once
// The session preamble over a raw (blocking) socket, before Yamux starts.

#include <string>
#include <string_view>

#include "bridge/tunnel/socket.hpp"

namespace devx::bridge::tunnel {

// Client side: sends the preamble and checks the agent's reply. Throws TunnelError: bad_token,
// unsupported_version, protocol (not a devx agent), timeout, io, closed.
void client_handshake(int fd, std::string_view token, Clock::time_point deadline);

struct HandshakeOutcome {
  bool accepted = false;
  std::string reason;  // why it was refused, for the log; never contains the token
};

// Agent side: reads the preamble, answers it, and says whether Yamux may start. Throws
// TunnelError on timeout, I/O error or a peer that hangs up before finishing.
HandshakeOutcome server_handshake(int fd, std::string_view expected_token,
                                  Clock::time_point deadline);

}  // namespace devx::bridge::tunnel
