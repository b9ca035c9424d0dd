#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bridge/yamux/yamux.hpp"

namespace devx::bridge::yamux {
namespace {

using namespace std::chrono_literals;

// Safety net only: no test expects anything to take this long.
constexpr auto kSafety = 20s;

struct SocketPair {
  int a = -1;
  int b = -1;
};

SocketPair unix_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {fds[0], fds[1]};
}

SocketPair tcp_pair() {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(listener, 1), 0);
  EXPECT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  return {client, server};
}

Config quiet() {
  Config config;
  config.keepalive = false;
  return config;
}

struct Pair {
  std::shared_ptr<Session> client;
  std::shared_ptr<Session> server;
};

Pair session_pair(SocketPair fds, Config client_config = quiet(), Config server_config = quiet()) {
  return {Session::start(fds.a, Role::client, client_config),
          Session::start(fds.b, Role::server, server_config)};
}

void write_all(Stream& stream, const std::string& text) { stream.write(text.data(), text.size()); }

std::string read_to_eof(Stream& stream) {
  std::string out;
  char buf[4096];
  while (const auto n = stream.read(buf, sizeof buf)) out.append(buf, n);
  return out;
}

std::string read_exactly(Stream& stream, std::size_t len) {
  std::string out(len, '\0');
  std::size_t got = 0;
  while (got < len) {
    const auto n = stream.read(out.data() + got, len - got);
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

// Reads one frame header from a raw socket; payload (Data) is skipped.
FrameHeader read_frame(int fd) {
  std::byte buf[kHeaderSize];
  std::size_t got = 0;
  while (got < kHeaderSize) {
    const auto n = ::recv(fd, buf + got, kHeaderSize - got, 0);
    if (n <= 0) throw std::runtime_error("raw peer: connection ended");
    got += static_cast<std::size_t>(n);
  }
  const auto decoded = decode(buf);
  auto header = std::get<FrameHeader>(decoded);
  if (header.type == FrameType::data) {
    std::vector<char> skip(header.length);
    std::size_t left = header.length;
    while (left > 0) {
      const auto n = ::recv(fd, skip.data(), left, 0);
      if (n <= 0) throw std::runtime_error("raw peer: connection ended");
      left -= static_cast<std::size_t>(n);
    }
  }
  return header;
}

void send_frame(int fd, const FrameHeader& header, const std::string& payload = {}) {
  const auto encoded = encode(header);
  ASSERT_EQ(::send(fd, encoded.data(), encoded.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(encoded.size()));
  if (!payload.empty()) {
    ASSERT_EQ(::send(fd, payload.data(), payload.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(payload.size()));
  }
}

// Waits (polling) for a condition that the test has made inevitable.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kSafety;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::string pattern(std::size_t len, unsigned seed) {
  std::string out(len, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

TEST(YamuxSession, OpensStreamsBothWaysWithOddAndEvenIds) {
  auto sessions = session_pair(unix_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto c1 = client->open();
  auto c2 = client->open();
  EXPECT_EQ(c1->id(), 1u);
  EXPECT_EQ(c2->id(), 3u);
  auto s1 = server->open();
  EXPECT_EQ(s1->id(), 2u);

  auto accepted1 = server->accept();
  auto accepted2 = server->accept();
  auto accepted_on_client = client->accept();
  ASSERT_TRUE(accepted1 && accepted2 && accepted_on_client);
  EXPECT_EQ(accepted1->id(), 1u);
  EXPECT_EQ(accepted2->id(), 3u);
  EXPECT_EQ(accepted_on_client->id(), 2u);

  write_all(*c2, "to three");
  c2->close_write();
  EXPECT_EQ(read_to_eof(*accepted2), "to three");
  write_all(*s1, "from two");
  s1->close_write();
  EXPECT_EQ(read_to_eof(*accepted_on_client), "from two");
}

TEST(YamuxSession, OpenSendsSpecExactWindowUpdateWithSyn) {
  auto fds = unix_pair();
  Config config = quiet();
  config.max_stream_window = 1024 * 1024;
  auto client = Session::start(fds.a, Role::client, config);
  auto stream = client->open();
  const auto header = read_frame(fds.b);
  EXPECT_EQ(header, (FrameHeader{.type = FrameType::window_update,
                                 .flags = flags::syn,
                                 .stream_id = 1,
                                 .length = 1024 * 1024 - kInitialWindow}));
  write_all(*stream, "abc");
  const auto data = read_frame(fds.b);
  EXPECT_EQ(data.type, FrameType::data);
  EXPECT_EQ(data.length, 3u);
  ::close(fds.b);
}

void echo_server(Session& server, std::size_t streams) {
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < streams; ++i) {
    auto stream = server.accept();
    if (!stream) break;
    workers.emplace_back([stream] {
      std::vector<char> buf(64 * 1024);
      while (const auto n = stream->read(buf.data(), buf.size())) stream->write(buf.data(), n);
      stream->close();
    });
  }
  for (auto& worker : workers) worker.join();
}

void concurrent_echo(SocketPair fds, std::size_t streams, std::size_t bytes_per_stream) {
  auto sessions = session_pair(fds);
  auto& client = sessions.client;
  auto& server = sessions.server;
  std::thread server_thread([&server = *server, streams] { echo_server(server, streams); });
  std::vector<std::thread> clients;
  std::atomic<int> matches{0};
  for (std::size_t i = 0; i < streams; ++i) {
    clients.emplace_back([&, i] {
      auto stream = client->open();
      const auto payload = pattern(bytes_per_stream, static_cast<unsigned>(i));
      std::thread writer([&] {
        stream->write(payload.data(), payload.size());
        stream->close_write();
      });
      const auto echoed = read_to_eof(*stream);
      writer.join();
      if (echoed == payload) ++matches;
    });
  }
  for (auto& c : clients) c.join();
  server_thread.join();
  EXPECT_EQ(matches.load(), static_cast<int>(streams));
  EXPECT_TRUE(eventually([&] { return client->open_streams() == 0; }));
  EXPECT_TRUE(eventually([&] { return server->open_streams() == 0; }));
  EXPECT_FALSE(client->closed());
}

TEST(YamuxSession, ManyConcurrentStreamsEchoMegabytesOverSocketpair) {
  concurrent_echo(unix_pair(), 64, 1024 * 1024);
}

TEST(YamuxSession, ManyConcurrentStreamsEchoMegabytesOverTcp) {
  concurrent_echo(tcp_pair(), 64, 1024 * 1024);
}

TEST(YamuxSession, BulkTransferOverTcpArrivesIntact) {
  concurrent_echo(tcp_pair(), 1, 48 * 1024 * 1024);
}

TEST(YamuxSession, WriterBlockedByNonReadingPeerResumesAndBufferStaysWithinWindow) {
  Config server_config = quiet();
  server_config.max_stream_window = 1024 * 1024;
  auto sessions = session_pair(unix_pair(), quiet(), server_config);
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto stream = client->open();
  auto peer = server->accept();
  ASSERT_TRUE(peer);
  const auto payload = pattern(8 * 1024 * 1024, 7);
  std::atomic<bool> written{false};
  std::thread writer([&] {
    stream->write(payload.data(), payload.size());
    stream->close_write();
    written = true;
  });
  // The receiver does not read: the writer must stop once the announced window is full.
  ASSERT_TRUE(eventually([&] { return peer->buffered() == peer->receive_window_limit(); }));
  EXPECT_FALSE(written.load());
  std::string received;
  std::vector<char> buf(100 * 1000);
  while (const auto n = peer->read(buf.data(), buf.size())) {
    EXPECT_LE(peer->buffered(), peer->receive_window_limit());
    received.append(buf.data(), n);
  }
  writer.join();
  EXPECT_TRUE(written.load());
  EXPECT_EQ(received, payload);
}

TEST(YamuxSession, HalfCloseLetsThePeerReadEofAndStillReply) {
  auto sessions = session_pair(unix_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto stream = client->open();
  write_all(*stream, "request");
  stream->close_write();
  EXPECT_THROW(write_all(*stream, "more"), Error);

  auto peer = server->accept();
  ASSERT_TRUE(peer);
  EXPECT_EQ(read_to_eof(*peer), "request");
  write_all(*peer, "response");
  peer->close();
  EXPECT_EQ(read_to_eof(*stream), "response");
  EXPECT_TRUE(eventually([&] { return client->open_streams() == 0; }));
  EXPECT_TRUE(eventually([&] { return server->open_streams() == 0; }));
}

TEST(YamuxSession, ResetWakesABlockedReaderWithResetError) {
  auto sessions = session_pair(unix_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto stream = client->open();
  write_all(*stream, "x");
  auto peer = server->accept();
  ASSERT_TRUE(peer);
  EXPECT_EQ(read_exactly(*peer, 1), "x");
  std::optional<Error::Kind> kind;
  std::thread reader([&] {
    try {
      char c;
      peer->read(&c, 1);
    } catch (const Error& error) {
      kind = error.kind();
    }
  });
  stream->reset();
  reader.join();
  EXPECT_EQ(kind, Error::Kind::reset);
  EXPECT_THROW(write_all(*stream, "y"), Error);
}

TEST(YamuxSession, ReadTimeoutThrowsTimeout) {
  auto sessions = session_pair(unix_pair());
  auto stream = sessions.client->open();
  stream->set_read_timeout(20ms);
  char c;
  try {
    stream->read(&c, 1);
    FAIL() << "read returned without data";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), Error::Kind::timeout);
  }
}

TEST(YamuxSession, GoAwayRefusesNewStreamsButExistingOnesFinish) {
  auto sessions = session_pair(unix_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto stream = client->open();
  auto peer = server->accept();
  ASSERT_TRUE(peer);
  server->go_away();
  // The ping's answer follows the GoAway on the wire, so the client has seen it by now.
  ASSERT_TRUE(client->ping(kSafety).has_value());
  EXPECT_THROW(client->open(), Error);
  EXPECT_THROW(server->open(), Error);
  EXPECT_EQ(server->accept(), nullptr);

  write_all(*stream, "still");
  stream->close_write();
  EXPECT_EQ(read_to_eof(*peer), "still");
  write_all(*peer, "works");
  peer->close();
  EXPECT_EQ(read_to_eof(*stream), "works");
  EXPECT_FALSE(client->closed());
}

TEST(YamuxSession, PingMeasuresRoundTrip) {
  auto sessions = session_pair(tcp_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  EXPECT_TRUE(client->ping(kSafety).has_value());
  EXPECT_TRUE(server->ping(kSafety).has_value());
}

TEST(YamuxSession, KeepaliveTimeoutClosesSessionWhenPeerNeverAnswers) {
  auto fds = unix_pair();
  Config config;
  config.keepalive_interval = 10ms;
  config.keepalive_timeout = 50ms;
  auto session = Session::start(fds.a, Role::client, config);
  const auto ping = read_frame(fds.b);  // the raw peer sees the ping and ignores it
  EXPECT_EQ(ping.type, FrameType::ping);
  EXPECT_TRUE(ping.has(flags::syn));
  ASSERT_TRUE(session->wait_closed(kSafety));
  EXPECT_EQ(session->close_reason(), "keepalive timeout");
  pollfd pfd{session->closed_event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 0), 1);
  ::close(fds.b);
}

TEST(YamuxSession, KeepaliveAnsweredByPeerKeepsSessionOpen) {
  Config config;
  config.keepalive_interval = 1ms;
  config.keepalive_timeout = 10s;
  auto sessions = session_pair(unix_pair(), config, config);
  auto& client = sessions.client;
  auto& server = sessions.server;
  // Many keepalive rounds happen while this stream works; none may close the session.
  for (int i = 0; i < 50; ++i) {
    auto stream = client->open();
    auto peer = server->accept();
    ASSERT_TRUE(peer);
    write_all(*stream, "k");
    EXPECT_EQ(read_exactly(*peer, 1), "k");
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_FALSE(client->closed());
  EXPECT_FALSE(server->closed());
}

TEST(YamuxSession, AcceptBacklogOverflowResetsTheExtraStream) {
  Config server_config = quiet();
  server_config.accept_backlog = 2;
  auto sessions = session_pair(unix_pair(), quiet(), server_config);
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto first = client->open();
  auto second = client->open();
  auto third = client->open();
  char c;
  try {
    third->read(&c, 1);
    FAIL() << "stream beyond the backlog was not reset";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), Error::Kind::reset);
  }
  auto a = server->accept();
  auto b = server->accept();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id(), 1u);
  EXPECT_EQ(b->id(), 3u);
  write_all(*second, "ok");
  EXPECT_EQ(read_exactly(*b, 2), "ok");
}

TEST(YamuxSession, UnackedOpenIsResetAfterOpenTimeout) {
  auto fds = unix_pair();
  Config config = quiet();
  config.stream_open_timeout = 20ms;
  auto client = Session::start(fds.a, Role::client, config);
  auto stream = client->open();
  EXPECT_TRUE(read_frame(fds.b).has(flags::syn));
  const auto rst = read_frame(fds.b);
  EXPECT_EQ(rst.stream_id, 1u);
  EXPECT_TRUE(rst.has(flags::rst));
  char c;
  EXPECT_THROW(stream->read(&c, 1), Error);
  EXPECT_FALSE(client->closed());
  ::close(fds.b);
}

void expect_protocol_go_away(const std::function<void(int)>& misbehave) {
  auto fds = unix_pair();
  auto server = Session::start(fds.b, Role::server, quiet());
  misbehave(fds.a);
  FrameHeader header;
  do {
    header = read_frame(fds.a);
  } while (header.type != FrameType::go_away);
  EXPECT_EQ(header.length, static_cast<std::uint32_t>(GoAwayCode::protocol_error));
  ASSERT_TRUE(server->wait_closed(kSafety));
  EXPECT_EQ(server->close_reason().rfind("protocol error", 0), 0u) << server->close_reason();
  char c;
  EXPECT_EQ(::recv(fds.a, &c, 1, 0), 0);  // then the connection is closed
  ::close(fds.a);
}

TEST(YamuxSession, GarbageGetsGoAwayProtocolError) {
  expect_protocol_go_away([](int fd) {
    const std::string garbage = "GET / HTTP/1.1\r\n\r\n";
    ASSERT_EQ(::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(garbage.size()));
  });
}

TEST(YamuxSession, UnknownFrameTypeGetsGoAwayProtocolError) {
  expect_protocol_go_away([](int fd) {
    const std::byte frame[kHeaderSize] = {std::byte{0}, std::byte{9}};
    ASSERT_EQ(::send(fd, frame, sizeof frame, MSG_NOSIGNAL), 12);
  });
}

TEST(YamuxSession, DataBeyondTheWindowGetsGoAwayProtocolError) {
  expect_protocol_go_away([](int fd) {
    send_frame(fd, {.type = FrameType::window_update, .flags = flags::syn, .stream_id = 1});
    send_frame(fd, {.type = FrameType::data, .stream_id = 1, .length = kInitialWindow + 1});
  });
}

TEST(YamuxSession, DuplicateSynGetsGoAwayProtocolError) {
  expect_protocol_go_away([](int fd) {
    send_frame(fd, {.type = FrameType::window_update, .flags = flags::syn, .stream_id = 1});
    send_frame(fd, {.type = FrameType::window_update, .flags = flags::syn, .stream_id = 1});
  });
}

TEST(YamuxSession, DataForUnknownStreamIsSkippedLikeHashicorp) {
  auto fds = unix_pair();
  auto server = Session::start(fds.b, Role::server, quiet());
  send_frame(fds.a, {.type = FrameType::data, .stream_id = 5, .length = 10}, "0123456789");
  send_frame(fds.a, {.type = FrameType::ping, .flags = flags::syn, .stream_id = 0, .length = 42});
  const auto pong = read_frame(fds.a);
  EXPECT_EQ(pong, (FrameHeader{.type = FrameType::ping, .flags = flags::ack, .length = 42}));
  EXPECT_FALSE(server->closed());
  ::close(fds.a);
}

TEST(YamuxSession, WriteTimeoutClosesSessionWhenPeerStopsReading) {
  auto fds = unix_pair();
  const int small = 4096;
  ::setsockopt(fds.a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(fds.b, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  Config config = quiet();
  config.write_timeout = 50ms;
  auto client = Session::start(fds.a, Role::client, config);
  auto stream = client->open();
  const auto payload = pattern(kInitialWindow, 3);
  EXPECT_THROW(stream->write(payload.data(), payload.size()), Error);
  ASSERT_TRUE(client->wait_closed(kSafety));
  EXPECT_EQ(client->close_reason(), "write timeout");
  ::close(fds.b);
}

TEST(YamuxSession, CloseWakesAcceptAndPeerSeesPeerClosed) {
  auto sessions = session_pair(unix_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto stream = client->open();
  std::shared_ptr<Stream> accepted = server->accept();
  std::thread acceptor([&] { accepted = server->accept(); });
  client->close();
  client->close();  // idempotent
  acceptor.join();
  EXPECT_EQ(accepted, nullptr);
  ASSERT_TRUE(server->wait_closed(kSafety));
  EXPECT_EQ(server->close_reason(), "peer closed");
  EXPECT_THROW(client->open(), Error);
  EXPECT_THROW(write_all(*stream, "x"), Error);
}

TEST(YamuxSession, SpliceMapsHalfCloseBothWays) {
  auto sessions = session_pair(tcp_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto app = unix_pair();  // app.a: the splice side; app.b: the "local application"
  std::thread splicer([&] {
    auto stream = server->accept();
    ASSERT_TRUE(stream);
    splice(*stream, app.a);
  });
  auto stream = client->open();
  write_all(*stream, "request");
  stream->close_write();

  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::recv(app.b, buf, sizeof buf, 0)) > 0;) got.append(buf, n);
  EXPECT_EQ(got, "request");  // stream FIN → EOF on the socket

  const std::string reply = "response";
  ASSERT_EQ(::send(app.b, reply.data(), reply.size(), MSG_NOSIGNAL), 8);
  ::shutdown(app.b, SHUT_WR);  // socket EOF → FIN on the stream
  EXPECT_EQ(read_to_eof(*stream), reply);
  splicer.join();
  EXPECT_TRUE(eventually([&] { return server->open_streams() == 0; }));
  ::close(app.a);
  ::close(app.b);
}

// The splice sends from the stream's buffer while the buffer grows behind it: the whole transfer
// is buffered before the local application reads anything.
TEST(YamuxSession, SpliceKeepsBulkDataIntactWhileBufferGrows) {
  auto sessions = session_pair(tcp_pair());
  auto app = unix_pair();
  std::thread splicer([&] {
    auto stream = sessions.server->accept();
    ASSERT_TRUE(stream);
    splice(*stream, app.a);
  });
  std::string data(8 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 4096);
  auto stream = sessions.client->open();
  write_all(*stream, data);  // within the window: returns before anything is read
  stream->close_write();

  std::string got;
  std::vector<char> buf(64 * 1024);
  for (ssize_t n; (n = ::recv(app.b, buf.data(), buf.size(), 0)) > 0;) got.append(buf.data(), n);
  EXPECT_TRUE(got == data);
  ::shutdown(app.b, SHUT_WR);
  EXPECT_EQ(read_to_eof(*stream), "");
  splicer.join();
  ::close(app.a);
  ::close(app.b);
}

TEST(YamuxSession, SpliceResetsStreamWhenSocketFails) {
  auto sessions = session_pair(unix_pair());
  auto& client = sessions.client;
  auto& server = sessions.server;
  auto app = unix_pair();
  std::thread splicer([&] {
    auto stream = server->accept();
    ASSERT_TRUE(stream);
    splice(*stream, app.a);
  });
  auto stream = client->open();
  write_all(*stream, "hello");
  char buf[5];
  ASSERT_EQ(::recv(app.b, buf, sizeof buf, MSG_WAITALL), 5);
  ::close(app.b);  // the local application is gone: its end reads EOF, writes to it fail
  EXPECT_EQ(read_to_eof(*stream), "");  // socket EOF → FIN
  write_all(*stream, "more data");      // splice cannot deliver this → RST
  EXPECT_TRUE(eventually([&] {
    try {
      return stream->read(buf, sizeof buf) > 0;
    } catch (const Error& error) {
      return error.kind() == Error::Kind::reset;
    }
  }));
  splicer.join();
  ::close(app.a);
}

}  // namespace
}  // namespace devx::bridge::yamux
