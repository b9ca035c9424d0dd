// The C++ Yamux against hashicorp/yamux (tests/interop/yamux_peer, the library the existing bridge
// agent uses) over loopback TCP, in both roles: concurrent streams, multi-MB transfers in both
// directions, half-close, RST, GoAway, keepalive timeouts and a 16 MiB announced window.
// Payloads follow the peer's deterministic pattern so every byte is checked on arrival.
#include <bridge/yamux/yamux.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

extern char** environ;

namespace {

namespace yamux = devx::bridge::yamux;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr std::size_t kMiB = 1024 * 1024;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// ----- the payload pattern (mirrors splitmix64/pattern in yamux_peer/main.go) -------------------

std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void fill_pattern(std::uint64_t seed, std::uint64_t offset, char* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t pos = offset + i;
    out[i] = static_cast<char>(splitmix64((seed << 40) ^ (pos >> 3)) >> (8 * (pos & 7)));
  }
}

void write_all(yamux::Stream& stream, std::string_view data) {
  stream.write(data.data(), data.size());
}

void send_pattern(yamux::Stream& stream, std::uint64_t seed, std::size_t n) {
  std::vector<char> buf(64 * 1024);
  for (std::size_t off = 0; off < n;) {
    const std::size_t chunk = std::min(buf.size(), n - off);
    fill_pattern(seed, off, buf.data(), chunk);
    stream.write(buf.data(), chunk);
    off += chunk;
  }
}

// Reads to EOF; succeeds if that was exactly n bytes of the seed's pattern.
::testing::AssertionResult receive_pattern(yamux::Stream& stream, std::uint64_t seed,
                                           std::size_t n) {
  std::vector<char> buf(64 * 1024);
  std::vector<char> want(buf.size());
  std::size_t off = 0;
  for (;;) {
    const std::size_t got = stream.read(buf.data(), buf.size());
    if (got == 0) break;
    if (off + got > n) return ::testing::AssertionFailure() << "more than " << n << " bytes";
    fill_pattern(seed, off, want.data(), got);
    if (!std::equal(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got), want.begin())) {
      return ::testing::AssertionFailure() << "wrong byte near offset " << off;
    }
    off += got;
  }
  if (off != n) return ::testing::AssertionFailure() << "EOF after " << off << " of " << n;
  return ::testing::AssertionSuccess();
}

std::string read_line(yamux::Stream& stream) {
  std::string line;
  char c = 0;
  while (stream.read(&c, 1) == 1 && c != '\n') line += c;
  return line;
}

// Sends n pattern bytes (after an optional command line) while reading the echo, half-closes
// after the last byte and checks the echo up to its EOF.
::testing::AssertionResult echo_round_trip(yamux::Stream& stream, std::uint64_t seed, std::size_t n,
                                           std::string_view command = "") {
  std::exception_ptr write_error;
  std::thread writer([&] {
    try {
      write_all(stream, command);
      send_pattern(stream, seed, n);
      stream.close_write();
    } catch (...) {
      write_error = std::current_exception();
    }
  });
  auto result = receive_pattern(stream, seed, n);
  writer.join();
  if (write_error) std::rethrow_exception(write_error);
  return result;
}

// ----- sockets --------------------------------------------------------------------------------

int tcp_listen(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw_errno("listen");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

int tcp_accept(int listener) {
  const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) throw_errno("accept");
  ::close(listener);
  return fd;
}

int tcp_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("connect");
  return fd;
}

// ----- the Go peer ----------------------------------------------------------------------------

// One yamux_peer process; its stdout is read line by line, its stderr goes to the test log.
class Peer {
 public:
  explicit Peer(const std::vector<std::string>& args) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw_errno("pipe");
    std::vector<std::string> argv_storage{DEVX_YAMUX_PEER};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      throw std::system_error(rc, std::generic_category(), "posix_spawn yamux_peer");
    }
    out_ = ::fdopen(out[0], "r");
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    std::fclose(out_);
  }

  // The next stdout line without its newline; "" at EOF.
  std::string line() {
    std::array<char, 512> buf{};
    if (std::fgets(buf.data(), static_cast<int>(buf.size()), out_) == nullptr) return "";
    std::string s = buf.data();
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  // The port printed by -listen.
  int port() {
    const std::string first = line();
    int port = 0;
    if (std::sscanf(first.c_str(), "listening %d", &port) != 1) {
      throw std::runtime_error("yamux_peer: expected 'listening PORT', got '" + first + "'");
    }
    return port;
  }

  // The exit code (128 + signal if killed).
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;
};

// Forwards bytes between a TCP connection and a socketpair end handed to a Session; after
// freeze() it drops everything in both directions, so each side sees a peer that went silent
// without the connection closing.
class Relay {
 public:
  explicit Relay(int tcp_fd) : tcp_(tcp_fd) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throw_errno("socketpair");
    inner_ = pair[0];
    session_fd_ = pair[1];
    threads_.emplace_back([this] { pump(tcp_, inner_); });
    threads_.emplace_back([this] { pump(inner_, tcp_); });
  }
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;
  ~Relay() {
    ::shutdown(tcp_, SHUT_RDWR);
    ::shutdown(inner_, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    ::close(tcp_);
    ::close(inner_);
  }

  // The end for Session::start (which owns it from then on).
  int session_fd() const { return session_fd_; }
  void freeze() { frozen_ = true; }

 private:
  void pump(int from, int to) {
    std::array<char, 64 * 1024> buf{};
    for (;;) {
      const ssize_t n = ::read(from, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t off = 0; off < n && !frozen_;) {
        const ssize_t w =
            ::send(to, buf.data() + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return;
        off += w;
      }
    }
    if (!frozen_) ::shutdown(to, SHUT_WR);
  }

  int tcp_;
  int inner_ = -1;
  int session_fd_ = -1;
  std::atomic<bool> frozen_{false};
  std::vector<std::thread> threads_;
};

void skip_without_peer() {
  if (std::string_view(DEVX_YAMUX_PEER).empty()) {
    GTEST_SKIP() << "the hashicorp/yamux peer was not built: install golang-go and "
                    "golang-github-hashicorp-yamux-dev (scripts/setup) and re-run CMake";
  }
}

// Short enough for a quick test, long enough that a loaded CI machine answers in time.
yamux::Config fast_keepalive() {
  yamux::Config config;
  config.keepalive = true;
  config.keepalive_interval = 200ms;
  config.keepalive_timeout = 1s;
  return config;
}

yamux::Config no_keepalive() {
  yamux::Config config;
  config.keepalive = false;
  return config;
}

// ----- C++ client, Go server ------------------------------------------------------------------

class CppClientGoServer : public ::testing::Test {
 protected:
  void SetUp() override { skip_without_peer(); }

  void TearDown() override {
    if (!peer_) return;
    if (HasFailure() && session_ && session_->closed()) {
      ADD_FAILURE() << "our session closed: " << session_->close_reason();
    }
    if (session_) session_->close();
    relay_.reset();
    // serve/noaccept return once the session is gone.
    EXPECT_EQ(peer_->wait(), 0);
  }

  // Starts `yamux_peer -role server -mode MODE EXTRA...` and connects a client session to it.
  void start(const std::string& mode, std::vector<std::string> extra = {},
             yamux::Config config = {}, bool through_relay = false) {
    std::vector<std::string> args{"-role", "server", "-listen", "127.0.0.1:0", "-mode", mode};
    args.insert(args.end(), extra.begin(), extra.end());
    peer_ = std::make_unique<Peer>(args);
    int fd = tcp_connect(peer_->port());
    if (through_relay) {
      relay_ = std::make_unique<Relay>(fd);
      fd = relay_->session_fd();
    }
    session_ = yamux::Session::start(fd, yamux::Role::client, config);
  }

  std::shared_ptr<yamux::Stream> command(std::string_view line) {
    auto stream = session_->open();
    write_all(*stream, line);
    return stream;
  }

  std::unique_ptr<Peer> peer_;
  std::unique_ptr<Relay> relay_;
  std::shared_ptr<yamux::Session> session_;
};

TEST_F(CppClientGoServer, SixtyFourConcurrentEchoStreams) {
  start("serve");
  constexpr std::size_t kStreams = 64;
  std::vector<::testing::AssertionResult> results(kStreams, ::testing::AssertionSuccess());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < kStreams; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto stream = session_->open();
        results[i] = echo_round_trip(*stream, i + 1, 256 * 1024, "echo\n");
        stream->close();
      } catch (const yamux::Error& e) {
        results[i] = ::testing::AssertionFailure() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < kStreams; ++i) EXPECT_TRUE(results[i]) << "stream #" << i;
}

TEST_F(CppClientGoServer, EightMiBUploadThenHalfCloseGetsTheVerdict) {
  start("serve");
  auto stream = command("sink 8388608 7\n");
  send_pattern(*stream, 7, 8 * kMiB);
  stream->close_write();
  // Go answers only after our FIN: the half-closed stream still receives.
  EXPECT_EQ(read_line(*stream), "ok");
  char c = 0;
  EXPECT_EQ(stream->read(&c, 1), 0U);
  stream->close();
}

TEST_F(CppClientGoServer, EightMiBDownloadAfterOurHalfClose) {
  start("serve");
  auto stream = command("source 8388608 9\n");
  stream->close_write();
  EXPECT_TRUE(receive_pattern(*stream, 9, 8 * kMiB));
  stream->close();
}

TEST_F(CppClientGoServer, SixteenMiBEchoedBothWaysAtOnce) {
  start("serve");
  auto stream = session_->open();
  EXPECT_TRUE(echo_round_trip(*stream, 3, 16 * kMiB, "echo\n"));
  stream->close();
}

TEST_F(CppClientGoServer, SixteenMiBWindowsOnBothSides) {
  yamux::Config config;
  config.max_stream_window = 16 * kMiB;
  start("serve", {"-window", std::to_string(16 * kMiB)}, config);
  auto echo = session_->open();
  EXPECT_TRUE(echo_round_trip(*echo, 5, 32 * kMiB, "echo\n"));
  echo->close();
  auto sink = command("sink 33554432 6\n");
  send_pattern(*sink, 6, 32 * kMiB);
  sink->close_write();
  EXPECT_EQ(read_line(*sink), "ok");
  sink->close();
}

TEST_F(CppClientGoServer, OurResetReachesGoAndTheSessionSurvives) {
  start("serve");
  auto doomed = command("echo\n");
  send_pattern(*doomed, 1, 64 * 1024);
  std::vector<char> buf(1024);
  ASSERT_GT(doomed->read(buf.data(), buf.size()), 0U);
  doomed->reset();
  // Go counts the reset when its reader sees it; this stream waits for that.
  auto probe = command("await-resets 1\n");
  EXPECT_EQ(read_line(*probe), "ok");
  probe->close();
  auto after = session_->open();
  EXPECT_TRUE(echo_round_trip(*after, 2, 64 * 1024, "echo\n"));
  after->close();
}

TEST_F(CppClientGoServer, GoResetsAStreamBeyondItsAcceptBacklog) {
  start("noaccept", {"-backlog", "1"});
  auto queued = session_->open();
  write_all(*queued, "x");
  auto rejected = session_->open();
  char c = 0;
  try {
    rejected->read(&c, 1);
    ADD_FAILURE() << "read on a stream Go rejected did not throw";
  } catch (const yamux::Error& e) {
    EXPECT_EQ(e.kind(), yamux::Error::Kind::reset) << e.what();
  }
  EXPECT_FALSE(session_->closed());
}

TEST_F(CppClientGoServer, GoAwayFromGoStopsNewStreamsButNotOpenOnes) {
  start("serve");
  auto open_before = command("echo\n");
  auto goaway = command("goaway\n");
  // Go sends GoAway before this answer, so we have processed it by now.
  EXPECT_EQ(read_line(*goaway), "ok");
  EXPECT_THROW(session_->open(), yamux::Error);
  EXPECT_TRUE(echo_round_trip(*open_before, 4, 1 * kMiB));
  open_before->close();
  goaway->close();
}

TEST_F(CppClientGoServer, OurKeepaliveClosesASessionWhosePeerWentSilent) {
  start("serve", {"-keepalive=false"}, fast_keepalive(), /*through_relay=*/true);
  auto stream = session_->open();
  EXPECT_TRUE(echo_round_trip(*stream, 1, 4096, "echo\n"));
  // Go answers pings while the relay forwards.
  EXPECT_TRUE(session_->ping(10s).has_value());
  relay_->freeze();
  ASSERT_TRUE(session_->wait_closed(120s)) << "the keepalive never fired";
  EXPECT_THAT(session_->close_reason(), HasSubstr("keepalive timeout"));
}

// ----- Go client, C++ server ------------------------------------------------------------------

class GoClientCppServer : public ::testing::Test {
 protected:
  using Handler = std::function<void(yamux::Session&, yamux::Stream&)>;

  void SetUp() override { skip_without_peer(); }

  void TearDown() override {
    if (session_) session_->close();
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : handlers_) t.join();
  }

  // Runs `yamux_peer -role client -mode MODE EXTRA...` against a server session that runs
  // handler on every stream it accepts; returns the peer's stdout lines after it exits 0.
  std::vector<std::string> run(const std::string& mode, std::vector<std::string> extra = {},
                               Handler handler = echo, yamux::Config config = {},
                               std::function<void(Peer&, Relay&)> during = {}) {
    int port = 0;
    const int listener = tcp_listen(port);
    std::vector<std::string> args{
        "-role", "client", "-connect", "127.0.0.1:" + std::to_string(port), "-mode", mode};
    args.insert(args.end(), extra.begin(), extra.end());
    Peer peer(args);
    int fd = tcp_accept(listener);
    std::unique_ptr<Relay> relay;
    if (during) {
      relay = std::make_unique<Relay>(fd);
      fd = relay->session_fd();
    }
    session_ = yamux::Session::start(fd, yamux::Role::server, config);
    acceptor_ = std::thread([this, handler] {
      try {
        for (;;) {
          auto stream = session_->accept();
          if (!stream) return;
          handlers_.emplace_back([this, handler, stream] {
            try {
              handler(*session_, *stream);
            } catch (const yamux::Error&) {
              // The peer reset the stream or the session ended: the Go side reports.
            }
          });
        }
      } catch (const yamux::Error&) {
        // The session closed.
      }
    });
    if (during) during(peer, *relay);
    std::vector<std::string> lines;
    for (std::string line = peer.line(); !line.empty(); line = peer.line()) lines.push_back(line);
    EXPECT_EQ(peer.wait(), 0) << "our session: "
                              << (session_->closed() ? session_->close_reason() : "open");
    return lines;
  }

  // Echoes until EOF, then half-closes.
  static void echo(yamux::Session&, yamux::Stream& stream) {
    std::vector<char> buf(64 * 1024);
    std::size_t n = 0;
    while ((n = stream.read(buf.data(), buf.size())) > 0) stream.write(buf.data(), n);
    stream.close();
  }

  std::shared_ptr<yamux::Session> session_;
  std::thread acceptor_;
  std::vector<std::thread> handlers_;  // only the acceptor thread adds, before TearDown joins it
};

TEST_F(GoClientCppServer, SixtyFourConcurrentEchoStreams) {
  EXPECT_THAT(run("open-echo", {"-streams", "64", "-size", "262144"}),
              ::testing::ElementsAre("open-echo ok streams=64 bytes=262144"));
}

TEST_F(GoClientCppServer, SixteenMiBEchoedBothWaysAtOnce) {
  EXPECT_THAT(run("open-echo", {"-streams", "1", "-size", std::to_string(16 * kMiB)}),
              ::testing::ElementsAre(HasSubstr("open-echo ok")));
}

TEST_F(GoClientCppServer, SixteenMiBWindowsOnBothSides) {
  yamux::Config config;
  config.max_stream_window = 16 * kMiB;
  EXPECT_THAT(run("open-echo",
                  {"-streams", "4", "-size", std::to_string(16 * kMiB), "-window",
                   std::to_string(16 * kMiB)},
                  echo, config),
              ::testing::ElementsAre(HasSubstr("open-echo ok")));
}

TEST_F(GoClientCppServer, HalfClosedStreamStillReceives) {
  std::promise<std::string> after_fin;
  auto source_then_listen = [&](yamux::Session&, yamux::Stream& stream) {
    try {
      send_pattern(stream, 1, 4 * kMiB);
      stream.close_write();
      std::string rest;
      std::array<char, 64> buf{};
      std::size_t n = 0;
      while ((n = stream.read(buf.data(), buf.size())) > 0) rest.append(buf.data(), n);
      after_fin.set_value(rest);
    } catch (...) {
      after_fin.set_exception(std::current_exception());
    }
  };
  EXPECT_THAT(run("half-close", {"-size", std::to_string(4 * kMiB)}, source_then_listen),
              ::testing::ElementsAre("half-close ok"));
  EXPECT_EQ(after_fin.get_future().get(), "ok\n");
}

TEST_F(GoClientCppServer, OurResetReachesGo) {
  auto reset_after_1k = [](yamux::Session&, yamux::Stream& stream) {
    std::vector<char> buf(1024);
    for (std::size_t got = 0; got < buf.size();) {
      got += stream.read(buf.data() + got, buf.size() - got);
    }
    stream.reset();
  };
  EXPECT_THAT(run("expect-reset", {"-size", "65536"}, reset_after_1k),
              ::testing::ElementsAre("reset ok"));
}

TEST_F(GoClientCppServer, OurGoAwayStopsGoOpeningStreams) {
  auto goaway_then_echo = [](yamux::Session& session, yamux::Stream& stream) {
    session.go_away();
    echo(session, stream);
  };
  EXPECT_THAT(run("goaway-probe", {}, goaway_then_echo), ::testing::ElementsAre("goaway ok"));
}

TEST_F(GoClientCppServer, GoKeepaliveClosesASessionWhosePeerWentSilent) {
  auto freeze_when_ready = [](Peer& peer, Relay& relay) {
    // "ready": Go's pings were answered by our session.
    ASSERT_EQ(peer.line(), "ready");
    relay.freeze();
  };
  EXPECT_THAT(run("keepalive", {"-keepalive-interval", "200ms", "-write-timeout", "1s"}, echo,
                  no_keepalive(), freeze_when_ready),
              ::testing::ElementsAre("keepalive timeout"));
}

}  // namespace
