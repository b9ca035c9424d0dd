#include "orchestrator/health_probe.hpp"

#include <devx/error.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.hpp"

namespace devx::orchestrator {
namespace {

using core::UniqueFd;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct HostPort {
  std::string host;
  std::string port;
};

// "host:port", "[v6]:port".
std::optional<HostPort> split_host_port(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    return HostPort{std::string(text.substr(1, close - 1)), std::string(text.substr(close + 2))};
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return HostPort{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<std::int64_t>(0, left));
}

std::string errno_text(int err) { return std::strerror(err); }  // NOLINT(concurrency-mt-unsafe)

// Connects to the first address of host:port that accepts, before `deadline`.
UniqueFd connect_to(const HostPort& target, Clock::time_point deadline, std::string& detail) {
  std::string host = target.host;
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), target.port.c_str(), &hints, &found); rc != 0) {
    detail = std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
    return {};
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) continue;
    int rc = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd.get(), POLLOUT, 0};
      rc = ::poll(&pfd, 1, remaining_ms(deadline));
      if (rc == 0) {
        detail = "connect timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        detail = errno_text(err);
        continue;
      }
      return fd;
    }
    if (rc == 0) return fd;
    detail = errno_text(errno);
  }
  return {};
}

}  // namespace

ProbeResult probe_tcp(std::string_view address, milliseconds timeout) {
  ProbeResult result;
  auto target = split_host_port(address);
  if (!target) {
    result.detail = "invalid address '" + std::string(address) + "'";
    return result;
  }
  UniqueFd fd = connect_to(*target, Clock::now() + timeout, result.detail);
  result.healthy = fd.valid();
  if (result.healthy) result.detail = "connected";
  return result;
}

ProbeResult probe_http(std::string_view url, milliseconds timeout, Context& context) {
  ProbeResult result;
  if (url.substr(0, 8) == "https://") {
    HttpRequest request;
    request.url = std::string(url);
    request.timeout = timeout;
    request.follow_redirects = true;
    try {
      const long status = context.http().send(request).status;
      result.healthy = status >= 200 && status < 400;
      result.detail = "HTTP " + std::to_string(status);
    } catch (const Error& e) {
      result.detail = e.message();
    }
    return result;
  }
  if (url.substr(0, 7) != "http://") {
    result.detail = "unsupported URL '" + std::string(url) + "'";
    return result;
  }
  std::string_view rest = url.substr(7);
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto target = split_host_port(authority);
  if (!target) target = HostPort{std::string(authority), "80"};
  const auto deadline = Clock::now() + timeout;
  UniqueFd fd = connect_to(*target, deadline, result.detail);
  if (!fd) return result;
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + std::string(authority) +
      "\r\nUser-Agent: devx-health\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd pfd{fd.get(), POLLOUT, 0};
      if (::poll(&pfd, 1, remaining_ms(deadline)) <= 0) {
        result.detail = "request timed out";
        return result;
      }
      continue;
    }
    result.detail = errno_text(errno);
    return result;
  }
  // Only the status line is needed: "HTTP/1.1 200 OK".
  std::string head;
  char buffer[512];
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    pollfd pfd{fd.get(), POLLIN, 0};
    const int rc = ::poll(&pfd, 1, remaining_ms(deadline));
    if (rc <= 0) {
      result.detail = "response timed out";
      return result;
    }
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    head.append(buffer, static_cast<std::size_t>(n));
  }
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
    result.detail = head.empty() ? "connection closed without a response" : "not an HTTP response";
    return result;
  }
  const auto space = head.find(' ');
  const int status = std::atoi(head.c_str() + space + 1);
  result.healthy = status >= 200 && status < 400;
  result.detail = "HTTP " + std::to_string(status);
  return result;
}

ProbeResult probe_exec(Context& context, const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& cwd,
                       milliseconds timeout, std::stop_token stop) {
  ProbeResult result;
  CommandSpec spec;
  spec.argv = argv;
  spec.env = env;
  spec.inherit_env = env.empty();
  if (!cwd.empty()) spec.cwd = cwd;
  spec.output = OutputMode::capture;
  spec.timeout = timeout;
  spec.kill_grace = milliseconds(0);
  spec.stop = std::move(stop);
  try {
    const CommandResult r = context.commands().run(spec);
    result.healthy = r.ok();
    if (r.timed_out) {
      result.detail = "timed out";
    } else if (r.signal != 0) {
      result.detail = "killed by signal " + std::to_string(r.signal);
    } else {
      result.detail = "exit " + std::to_string(r.exit_code);
    }
    std::string out = r.out.size() > 200 ? r.out.substr(r.out.size() - 200) : r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (!out.empty()) result.detail += ": " + out;
  } catch (const Error& e) {
    result.detail = e.message();
  }
  return result;
}

ProbeResult run_probe(Context& context, const HealthCheck& check,
                      const std::map<std::string, std::string>& env, const std::string& cwd,
                      std::stop_token stop) {
  if (!check.http.empty()) return probe_http(check.http, check.timeout, context);
  if (!check.tcp.empty()) return probe_tcp(check.tcp, check.timeout);
  if (!check.exec.empty())
    return probe_exec(context, check.exec, env, cwd, check.timeout, std::move(stop));
  return ProbeResult{false, "no probe"};
}

}  // namespace devx::orchestrator
