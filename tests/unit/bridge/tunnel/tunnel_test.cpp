// The agent and the client in-process over loopback: a "cluster" client connects to the agent's
// listen port, the agent relays it as a Yamux stream to the client, which dials a local server.

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/tunnel/agent.hpp"
#include "bridge/tunnel/client.hpp"
#include "bridge/tunnel/handshake.hpp"
#include "tunnel_test_support.hpp"

namespace devx::bridge::tunnel {
namespace {

using namespace std::chrono_literals;
using testing::cluster_exchange;
using testing::http_status;
using testing::LocalServer;
using testing::read_to_end;
using testing::wait_until;

const std::string kToken(64, 'a');

AgentConfig agent_config(std::vector<std::uint16_t> service_ports) {
  AgentConfig config;
  config.token = kToken;
  for (const auto port : service_ports) config.ports.push_back({port, 0});
  config.listen_bind = "127.0.0.1";
  config.control_port = 0;
  config.health_bind = "127.0.0.1";
  config.health_port = 0;
  return config;
}

// Records the client's stream events.
struct Events {
  std::mutex mutex;
  std::vector<StreamEvent> streams;
  std::vector<std::string> closed;

  void attach(TunnelClientConfig& config) {
    config.on_stream = [this](const StreamEvent& e) {
      std::lock_guard lock(mutex);
      streams.push_back(e);
    };
    config.on_closed = [this](const std::string& reason) {
      std::lock_guard lock(mutex);
      closed.push_back(reason);
    };
  }
  std::vector<StreamEvent> of_kind(StreamEvent::Kind kind) {
    std::lock_guard lock(mutex);
    std::vector<StreamEvent> out;
    for (const auto& e : streams) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
};

TunnelClientConfig client_config(const Agent& agent, std::map<int, int> port_map,
                                 std::string token = kToken) {
  TunnelClientConfig config;
  config.port = agent.control_port();
  config.token = std::move(token);
  config.port_map = std::move(port_map);
  return config;
}

// Expiry notifications, counted.
struct Expiries {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;

  void attach(AgentConfig& config) {
    config.on_expired = [this] {
      std::lock_guard lock(mutex);
      ++count;
      changed.notify_all();
    };
  }
  int current() {
    std::lock_guard lock(mutex);
    return count;
  }
  bool wait_beyond(int seen) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, testing::kSafetyNet, [&] { return count > seen; });
  }
};

TEST(BridgeTunnel, RelaysEachServicePortToItsMappedLocalPortAndRefusesUnmappedOnes) {
  LocalServer api("api");
  LocalServer metrics("metrics");
  Agent agent(agent_config({8080, 9090, 7070}));
  Events events;
  auto config = client_config(agent, {{8080, api.port()}, {9090, metrics.port()}, {7070, 0}});
  events.attach(config);
  auto client = TunnelClient::connect(std::move(config));
  ASSERT_TRUE(wait_until([&] { return agent.ready(); }));

  EXPECT_EQ(cluster_exchange(agent.listen_port(8080), "GET /a"), "api:GET /a");
  EXPECT_EQ(cluster_exchange(agent.listen_port(9090), "GET /m"), "metrics:GET /m");
  // Mapped to 0: refused, the cluster client sees the connection end without data.
  EXPECT_EQ(cluster_exchange(agent.listen_port(7070), "GET /x"), "");
  EXPECT_EQ(api.accepted() + metrics.accepted(), 2);

  // Events are reported after the stream ends, so they may trail what the cluster client saw.
  ASSERT_TRUE(wait_until([&] {
    return events.of_kind(StreamEvent::Kind::finished).size() == 2 &&
           events.of_kind(StreamEvent::Kind::refused).size() == 1;
  }));
  const auto refused = events.of_kind(StreamEvent::Kind::refused);
  EXPECT_EQ(refused[0].service_port, 7070);
  EXPECT_EQ(refused[0].peer.rfind("127.0.0.1:", 0), 0u) << refused[0].peer;
  for (const auto& finished : events.of_kind(StreamEvent::Kind::finished)) {
    EXPECT_EQ(finished.local_port, finished.service_port == 8080 ? api.port() : metrics.port());
    EXPECT_EQ(finished.bytes_to_local, 6u);
    EXPECT_EQ(finished.bytes_from_local, finished.service_port == 8080 ? 10u : 14u);
  }
}

TEST(BridgeTunnel, ClusterHalfCloseReachesTheLocalServerAndItsReplyStillArrives) {
  // The local server answers only once it has seen EOF, so this passes only if the cluster
  // client's shutdown(SHUT_WR) travels as a FIN and the other direction stays open.
  LocalServer local("local");
  Agent agent(agent_config({8080}));
  auto client = TunnelClient::connect(client_config(agent, {{8080, local.port()}}));
  ASSERT_TRUE(wait_until([&] { return agent.ready(); }));
  const std::string big(300 * 1024, 'x');  // beyond the initial 256 KiB Yamux window
  const auto reply = cluster_exchange(agent.listen_port(8080), big);
  ASSERT_EQ(reply.size(), big.size() + 6);
  EXPECT_TRUE(reply == "local:" + big);
}

TEST(BridgeTunnel, ConnectionsArrivingBeforeTheSessionWaitForIt) {
  LocalServer local("local");
  Agent agent(agent_config({8080}));
  std::string reply;
  std::thread cluster([&] { reply = cluster_exchange(agent.listen_port(8080), "early"); });
  // The connection is accepted while no session exists; it is served once the client connects.
  auto client = TunnelClient::connect(client_config(agent, {{8080, local.port()}}));
  cluster.join();
  EXPECT_EQ(reply, "local:early");
}

TEST(BridgeTunnel, WaitingConnectionsAreClosedWhenNoSessionComesInTime) {
  auto config = agent_config({8080});
  config.pending_timeout = 50ms;
  Agent agent(std::move(config));
  EXPECT_EQ(cluster_exchange(agent.listen_port(8080), "nobody home"), "");
}

TEST(BridgeTunnel, BadTokenIsRejectedAndTheAgentKeepsServingTheRealClient) {
  LocalServer local("local");
  Agent agent(agent_config({8080}));
  try {
    TunnelClient::connect(client_config(agent, {{8080, local.port()}}, std::string(64, 'b')));
    FAIL() << "a wrong token was accepted";
  } catch (const TunnelError& e) {
    EXPECT_EQ(e.kind(), TunnelError::Kind::bad_token) << e.what();
  }
  EXPECT_FALSE(agent.ready());
  auto client = TunnelClient::connect(client_config(agent, {{8080, local.port()}}));
  ASSERT_TRUE(wait_until([&] { return agent.ready(); }));
  EXPECT_EQ(cluster_exchange(agent.listen_port(8080), "hi"), "local:hi");
  EXPECT_EQ(agent.sessions_started(), 1u);
}

TEST(BridgeTunnel, ControlConnectionsThatAreNotDevxClientsAreClosed) {
  auto config = agent_config({8080});
  config.handshake_timeout = 100ms;
  Agent agent(std::move(config));
  // Something else speaking on the port (a probe, an HTTP client): closed without a reply.
  auto http = dial_tcp("127.0.0.1", agent.control_port(), testing::kSafetyNet);
  testing::send_text(http.get(), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(read_to_end(http.get()), "");
  // A silent connection (the harmful readiness probe of the old CLI) is closed after the
  // handshake timeout instead of holding the agent.
  auto silent = dial_tcp("127.0.0.1", agent.control_port(), testing::kSafetyNet);
  EXPECT_EQ(read_to_end(silent.get()), "");
  EXPECT_EQ(agent.sessions_started(), 0u);
}

TEST(BridgeTunnel, AnUnknownProtocolVersionGetsItsOwnAnswer) {
  Agent agent(agent_config({8080}));
  auto fd = dial_tcp("127.0.0.1", agent.control_port(), testing::kSafetyNet);
  const auto preamble = encode_preamble(kToken, 2);
  write_all(fd.get(), preamble, Clock::now() + testing::kSafetyNet);
  const auto answer = read_to_end(fd.get());
  const auto reply =
      decode_reply(std::span(reinterpret_cast<const std::uint8_t*>(answer.data()), answer.size()));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.value.status, ReplyStatus::unsupported_version);
}

TEST(BridgeTunnel, ANewAuthenticatedClientReplacesThePreviousOne) {
  LocalServer first_app("first");
  LocalServer second_app("second");
  Agent agent(agent_config({8080}));
  auto first = TunnelClient::connect(client_config(agent, {{8080, first_app.port()}}));
  ASSERT_TRUE(wait_until([&] { return agent.sessions_started() == 1 && agent.ready(); }));
  auto second = TunnelClient::connect(client_config(agent, {{8080, second_app.port()}}));
  ASSERT_TRUE(wait_until([&] { return agent.sessions_started() == 2; }));
  EXPECT_TRUE(first->wait_closed(testing::kSafetyNet));
  EXPECT_FALSE(second->closed());
  EXPECT_EQ(cluster_exchange(agent.listen_port(8080), "who"), "second:who");
}

TEST(BridgeTunnel, ReadinessFollowsTheSession) {
  LocalServer local("local");
  Agent agent(agent_config({8080}));
  EXPECT_EQ(http_status(agent.health_port(), "/livez"), 200);
  EXPECT_EQ(http_status(agent.health_port(), "/readyz"), 503);
  EXPECT_EQ(http_status(agent.health_port(), "/other"), 404);
  {
    auto client = TunnelClient::connect(client_config(agent, {{8080, local.port()}}));
    ASSERT_TRUE(wait_until([&] { return agent.ready(); }));
    EXPECT_EQ(http_status(agent.health_port(), "/readyz"), 200);
    EXPECT_EQ(http_status(agent.health_port(), "/livez"), 200);
  }
  ASSERT_TRUE(wait_until([&] { return !agent.ready(); }));
  EXPECT_EQ(http_status(agent.health_port(), "/readyz"), 503);
  EXPECT_EQ(http_status(agent.health_port(), "/livez"), 200);
}

TEST(BridgeTunnel, AClientThatHangsUpIsNoticedWithoutAnyInboundTraffic) {
  Expiries expiries;
  auto config = agent_config({8080});
  config.grace = 100ms;
  expiries.attach(config);
  Agent agent(std::move(config));
  auto raw = dial_tcp("127.0.0.1", agent.control_port(), testing::kSafetyNet);
  client_handshake(raw.get(), kToken, Clock::now() + testing::kSafetyNet);
  ASSERT_TRUE(wait_until([&] { return agent.ready(); }));
  const auto seen = expiries.current();
  raw.reset();  // the laptop's devx was killed: the socket closes, nobody sends anything else
  ASSERT_TRUE(wait_until([&] { return !agent.ready(); }));
  EXPECT_EQ(http_status(agent.health_port(), "/readyz"), 503);
  EXPECT_TRUE(expiries.wait_beyond(seen));
}

TEST(BridgeTunnel, AClientThatStopsAnsweringIsDroppedByKeepaliveThenTheGraceExpires) {
  Expiries expiries;
  auto config = agent_config({8080});
  config.grace = 100ms;
  config.yamux.keepalive_interval = 50ms;
  config.yamux.keepalive_timeout = 100ms;
  expiries.attach(config);
  Agent agent(std::move(config));
  // Authenticates, then never speaks Yamux: the connection stays open but pings go unanswered
  // (a suspended laptop, a wedged port-forward).
  auto raw = dial_tcp("127.0.0.1", agent.control_port(), testing::kSafetyNet);
  client_handshake(raw.get(), kToken, Clock::now() + testing::kSafetyNet);
  ASSERT_TRUE(wait_until([&] { return agent.ready(); }));
  const auto seen = expiries.current();
  ASSERT_TRUE(wait_until([&] { return !agent.ready(); }));
  EXPECT_EQ(http_status(agent.health_port(), "/readyz"), 503);
  EXPECT_TRUE(expiries.wait_beyond(seen));
}

TEST(BridgeTunnel, TheGraceExpiresFromStartWhenNoClientEverComes) {
  Expiries expiries;
  auto config = agent_config({8080});
  config.grace = 50ms;
  expiries.attach(config);
  Agent agent(std::move(config));
  EXPECT_TRUE(expiries.wait_beyond(0));
}

TEST(BridgeTunnel, TheFirstSessionHasItsOwnTimeoutThenTheGraceApplies) {
  Expiries expiries;
  auto config = agent_config({8080});
  config.grace = 50ms;
  config.first_session_timeout = 1h;  // the pod start and port-forward may be slow
  expiries.attach(config);
  Agent agent(std::move(config));
  // Far beyond the grace: the agent must still be waiting for its first client.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(expiries.current(), 0);
  auto raw = dial_tcp("127.0.0.1", agent.control_port(), testing::kSafetyNet);
  client_handshake(raw.get(), kToken, Clock::now() + testing::kSafetyNet);
  ASSERT_TRUE(wait_until([&] { return agent.ready(); }));
  raw.reset();  // once a session existed, losing it starts the (short) grace period
  EXPECT_TRUE(expiries.wait_beyond(0));
}

TEST(BridgeTunnel, ClientReportsConnectedAndClosed) {
  Agent agent(agent_config({8080}));
  Events events;
  bool connected = false;
  auto config = client_config(agent, {});
  events.attach(config);
  config.on_connected = [&] { connected = true; };
  auto client = TunnelClient::connect(std::move(config));
  EXPECT_TRUE(connected);
  EXPECT_TRUE(client->ping(testing::kSafetyNet).has_value());
  agent.stop();
  EXPECT_TRUE(client->wait_closed(testing::kSafetyNet));
  client->close();
  std::lock_guard lock(events.mutex);
  EXPECT_EQ(events.closed.size(), 1u);
}

TEST(BridgeTunnel, ConnectingToSomethingThatIsNotAnAgentFailsClearly) {
  LocalServer not_an_agent("nope");  // answers "nope:..." after EOF, never a reply
  TunnelClientConfig config;
  config.port = not_an_agent.port();
  config.token = kToken;
  config.handshake_timeout = 100ms;
  EXPECT_THROW(TunnelClient::connect(config), TunnelError);
  auto unused = listen_tcp("127.0.0.1", 0);
  config.port = local_port(unused.get());
  unused.reset();  // nothing listens there any more: connection refused
  try {
    TunnelClient::connect(config);
    FAIL() << "connected to a closed port";
  } catch (const TunnelError& e) {
    EXPECT_EQ(e.kind(), TunnelError::Kind::connect);
  }
}

}  // namespace
}  // namespace devx::bridge::tunnel
