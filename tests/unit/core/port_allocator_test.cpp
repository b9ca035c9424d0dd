#include <devx/error.hpp>
#include <devx/ports.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

namespace devx {
namespace {

// A listening socket on 127.0.0.1 (port 0: kernel-chosen), closed on destruction.
class Listener {
 public:
  explicit Listener(std::uint16_t port = 0, const char* address = "127.0.0.1", bool reuse = false) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    if (reuse) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &sa.sin_addr);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd_, 4) == 0;
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  bool bound() const { return bound_; }
  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  bool bound_ = false;
  std::uint16_t port_ = 0;
};

TEST(core_port_allocator, busy_port_is_reported_and_shifted) {
  auto ports = make_system_port_allocator();
  const Listener busy;
  ASSERT_TRUE(busy.bound());
  EXPECT_FALSE(ports->is_free(busy.port()));
  const PortReservation r = ports->reserve(busy.port(), 100);
  EXPECT_GT(r.port(), busy.port());
  EXPECT_LE(r.port(), busy.port() + 100);
}

TEST(core_port_allocator, a_port_bound_on_the_wildcard_is_busy_too) {
  auto ports = make_system_port_allocator();
  const Listener busy(0, "0.0.0.0");
  ASSERT_TRUE(busy.bound());
  EXPECT_FALSE(ports->is_free(busy.port()));
}

TEST(core_port_allocator, a_port_left_in_time_wait_by_a_stopped_server_is_free) {
  auto ports = make_system_port_allocator();
  std::uint16_t port = 0;
  {
    const Listener server(0, "127.0.0.1", /*reuse=*/true);  // as servers bind
    ASSERT_TRUE(server.bound());
    port = server.port();
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    const int accepted = ::accept(server.fd(), nullptr, nullptr);
    ASSERT_GE(accepted, 0);
    ::close(accepted);  // the server side closes first: its end of the connection is TIME_WAIT
    char byte = 0;
    EXPECT_EQ(::read(client, &byte, 1), 0);
    ::close(client);
  }
  EXPECT_TRUE(ports->is_free(port));
  EXPECT_EQ(ports->reserve(port, 0).port(), port);
}

TEST(core_port_allocator, free_port_is_reserved_as_requested) {
  auto ports = make_system_port_allocator();
  std::uint16_t port = 0;
  {
    const PortReservation any = ports->reserve(0);
    port = any.port();
    ASSERT_NE(port, 0);
  }
  ASSERT_TRUE(ports->is_free(port));
  const PortReservation r = ports->reserve(port, 0);
  EXPECT_EQ(r.port(), port);
}

TEST(core_port_allocator, reserved_ports_are_not_handed_out_twice) {
  auto ports = make_system_port_allocator();
  const PortReservation first = ports->reserve(0);
  EXPECT_FALSE(ports->is_free(first.port()));
  std::set<std::uint16_t> seen{first.port()};
  std::vector<PortReservation> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(ports->reserve(first.port(), 200));
    EXPECT_TRUE(seen.insert(held.back().port()).second) << held.back().port();
  }
  // Another allocator (e.g. another context) sees the bound sockets too.
  EXPECT_FALSE(make_system_port_allocator()->is_free(first.port()));
}

TEST(core_port_allocator, release_lets_a_service_bind_the_port) {
  auto ports = make_system_port_allocator();
  PortReservation r = ports->reserve(0);
  const std::uint16_t port = r.port();
  {
    const Listener blocked(port);
    EXPECT_FALSE(blocked.bound());
  }
  r.release();
  EXPECT_EQ(r.port(), port);
  const Listener service(port);
  EXPECT_TRUE(service.bound());
}

TEST(core_port_allocator, released_port_can_be_reserved_again_by_the_same_allocator) {
  auto ports = make_system_port_allocator();
  PortReservation r = ports->reserve(0);
  const std::uint16_t port = r.port();
  r.release();
  EXPECT_TRUE(ports->is_free(port));
  EXPECT_EQ(ports->reserve(port, 0).port(), port);
}

TEST(core_port_allocator, moved_reservation_keeps_holding) {
  auto ports = make_system_port_allocator();
  PortReservation a = ports->reserve(0);
  const std::uint16_t port = a.port();
  PortReservation b = std::move(a);
  EXPECT_EQ(b.port(), port);
  EXPECT_FALSE(ports->is_free(port));
  PortReservation c;
  c = std::move(b);
  EXPECT_FALSE(ports->is_free(port));
  c = PortReservation();
  EXPECT_TRUE(ports->is_free(port));
}

TEST(core_port_allocator, no_free_port_is_port_in_use) {
  auto ports = make_system_port_allocator();
  const Listener busy;
  ASSERT_TRUE(busy.bound());
  try {
    ports->reserve(busy.port(), 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::port_in_use);
    EXPECT_NE(e.message().find(std::to_string(busy.port())), std::string::npos);
  }
}

TEST(core_port_allocator, privileged_ports_are_unusable_without_privilege) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may bind privileged ports";
  auto ports = make_system_port_allocator();
  EXPECT_FALSE(ports->is_free(80));
  try {
    ports->reserve(80, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::port_in_use);
    EXPECT_NE(e.message().find("privileged"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace devx
