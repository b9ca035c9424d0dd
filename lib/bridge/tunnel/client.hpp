#pragma once
// The developer-machine end of the bridge tunnel (docs/bridge-protocol.md). It connects to the
// local end of `kubectl port-forward pod/<agent> :4200`, authenticates with the session token,
// then serves the streams the agent opens: each one starts with a stream header naming the
// Service port, which the port map turns into a local port to dial.
//
// It does not reconnect: the caller owns reconnection because it must also restart the
// port-forward. Watch closed_event_fd() / wait_closed(), then connect() again.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bridge/tunnel/protocol.hpp"
#include "bridge/yamux/yamux.hpp"

namespace devx::bridge::tunnel {

struct StreamEvent {
  enum class Kind {
    relaying,  // header read and the local port dialled; the relay starts
    refused,   // the Service port is not mapped: the stream was reset
    failed,    // bad header, or the local port could not be dialled: the stream was reset
    finished,  // the relay ended (both directions)
  };
  Kind kind = Kind::relaying;
  std::uint32_t stream_id = 0;
  std::uint16_t service_port = 0;      // 0 if the header could not be read
  std::string peer;                    // the cluster client, "10.0.0.7:51234"
  std::uint16_t local_port = 0;        // 0 when refused
  std::string detail;                  // why it was refused or failed
  std::uint64_t bytes_to_local = 0;    // finished only
  std::uint64_t bytes_from_local = 0;  // finished only
};

struct TunnelClientConfig {
  std::string host = "127.0.0.1";  // where the port-forward listens
  std::uint16_t port = 0;
  std::string token;
  // Service port → local port. A port absent from the map, or mapped to 0, is refused.
  std::map<int, int> port_map;

  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds header_timeout{10000};  // a stream must deliver its header by then
  std::chrono::milliseconds dial_timeout{5000};     // per local address tried
  std::size_t max_streams = 1024;                   // relayed at the same time; more are reset
  yamux::Config yamux{};

  // on_connected runs on the thread calling connect(); the others on client threads, never
  // concurrently with each other.
  std::function<void()> on_connected;
  std::function<void(const std::string& reason)> on_closed;
  std::function<void(const StreamEvent&)> on_stream;
};

class TunnelClient {
 public:
  // Connects, authenticates and starts serving streams. Throws TunnelError: connect, timeout,
  // bad_token (the agent refused the token), unsupported_version, protocol (not a devx agent),
  // closed (the peer hung up during the handshake, e.g. a port-forward with no pod behind it).
  static std::unique_ptr<TunnelClient> connect(TunnelClientConfig config);

  TunnelClient(const TunnelClient&) = delete;
  TunnelClient& operator=(const TunnelClient&) = delete;
  ~TunnelClient();  // close()

  // Ends the session and every relay; joins the client's threads. Idempotent. Must not be
  // called from a callback.
  void close();
  bool closed() const;
  bool wait_closed(std::chrono::milliseconds timeout) const;
  std::string close_reason() const;
  // Readable once the session has closed (for the caller's poll loop).
  int closed_event_fd() const;
  // Round trip to the agent; nullopt if it did not answer in time.
  std::optional<std::chrono::microseconds> ping(std::chrono::milliseconds timeout);

  struct State;

 private:
  explicit TunnelClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace devx::bridge::tunnel
