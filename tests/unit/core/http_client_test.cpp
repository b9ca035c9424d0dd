#include <devx/error.hpp>
#include <devx/http.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace devx {
namespace {

using ::testing::HasSubstr;

// A one-shot HTTP server on 127.0.0.1: accepts one connection, records the request, answers with
// `response` (or, when empty, never answers until destroyed).
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 1) != 0) {
      throw std::runtime_error("cannot listen");
    }
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    if (::pipe(stop_) != 0) throw std::runtime_error("pipe");
    thread_ = std::jthread([this] { serve(); });
  }
  ~OneShotServer() {
    ::close(stop_[1]);
    thread_.join();
    ::close(stop_[0]);
    ::close(fd_);
  }
  OneShotServer(const OneShotServer&) = delete;
  OneShotServer& operator=(const OneShotServer&) = delete;

  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string request() { return request_.get_future().get(); }

 private:
  // Waits for `fd` or the stop pipe; false when asked to stop.
  bool wait_readable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    ::poll(fds, 2, -1);
    return fds[1].revents == 0;
  }

  void serve() {
    std::string received;
    if (!wait_readable(fd_)) return request_.set_value(received);
    const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    char buffer[4096];
    std::size_t expected = std::string::npos;
    while (expected == std::string::npos || received.size() < expected) {
      if (!wait_readable(conn)) break;
      const ssize_t n = ::read(conn, buffer, sizeof buffer);
      if (n <= 0) break;
      received.append(buffer, static_cast<std::size_t>(n));
      const auto end = received.find("\r\n\r\n");
      if (end != std::string::npos && expected == std::string::npos) {
        std::size_t length = 0;
        const auto cl = received.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(received.substr(cl + 16));
        expected = end + 4 + length;
      }
    }
    request_.set_value(received);
    if (!response_.empty()) {
      [[maybe_unused]] const ssize_t n = ::write(conn, response_.data(), response_.size());
    } else {
      wait_readable(stop_[0]);  // hold the connection open until the test ends
    }
    ::close(conn);
  }

  std::string response_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::promise<std::string> request_;
  std::jthread thread_;
};

TEST(core_http_client, get_returns_status_body_and_lower_cased_headers) {
  OneShotServer server(
      "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Custom-Thing:  value \r\n"
      "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
  HttpRequest request;
  request.url = server.url("/path?q=1");
  request.headers = {{"X-Request", "abc"}, {"Accept", "text/plain"}};
  const HttpResponse response = make_curl_http_client()->send(request);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.header("content-type"), "text/plain");
  EXPECT_EQ(response.header("X-CUSTOM-THING"), "value");
  EXPECT_EQ(response.header("missing"), "");
  bool all_lower = true;
  for (const auto& [name, value] : response.headers) {
    for (const char c : name) all_lower = all_lower && !(c >= 'A' && c <= 'Z');
  }
  EXPECT_TRUE(all_lower);
  const std::string seen = server.request();
  EXPECT_THAT(seen, ::testing::StartsWith("GET /path?q=1 HTTP/1.1\r\n"));
  EXPECT_THAT(seen, HasSubstr("X-Request: abc\r\n"));
}

TEST(core_http_client, post_sends_the_body_and_error_statuses_are_returned) {
  OneShotServer server(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown");
  HttpRequest request;
  request.method = "PUT";
  request.url = server.url("/items/1");
  request.headers = {{"Content-Type", "application/json"}};
  request.body = R"({"name":"x"})";
  const HttpResponse response = make_curl_http_client()->send(request);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, "down");
  const std::string seen = server.request();
  EXPECT_THAT(seen, ::testing::StartsWith("PUT /items/1 HTTP/1.1\r\n"));
  EXPECT_THAT(seen, ::testing::EndsWith("\r\n\r\n{\"name\":\"x\"}"));
}

TEST(core_http_client, connection_refused_is_an_http_error) {
  // A bound but not listening socket: connecting to it is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ntohs(sa.sin_port)) + "/";
  try {
    make_curl_http_client()->send(request);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::http);
    EXPECT_THAT(e.message(), HasSubstr(request.url));
  }
  ::close(fd);
}

TEST(core_http_client, slow_server_is_a_timeout) {
  OneShotServer server("");  // never answers
  HttpRequest request;
  request.url = server.url();
  request.timeout = std::chrono::milliseconds(200);
  try {
    make_curl_http_client()->send(request);
    ADD_FAILURE() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::timeout);
  }
}

TEST(core_http_client, non_http_schemes_are_refused) {
  HttpRequest request;
  request.url = "file:///etc/passwd";
  EXPECT_THROW(make_curl_http_client()->send(request), Error);
}

}  // namespace
}  // namespace devx
