#pragma once
// A fake cluster for one test: a state directory for tests/fakes/kubectl, a Context whose
// environment points the fake at it, and KubeSettings naming the fake binary.
#include <devx/bridge.hpp>
#include <devx/context.hpp>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;  // NOLINT

namespace devx::test {

inline std::map<std::string, std::string> kube_process_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FakeCluster {
 public:
  explicit FakeCluster(std::map<std::string, std::string> extra_env = {}) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("devx-kube-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "state");
    std::filesystem::create_directories(dir_ / "home");
    ContextOptions options;
    options.devx_home = dir_ / "home";
    auto env = kube_process_env();
    env.erase("KUBECONFIG");
    env["FAKE_KUBE_STATE"] = state().string();
    for (auto& [k, v] : extra_env) env[k] = v;
    options.env = env;
    context_ = std::make_unique<Context>(options);
    settings_.kubectl = std::string(DEVX_SOURCE_DIR) + "/tests/fakes/kubectl";
  }
  ~FakeCluster() {
    CommandSpec spec;
    spec.argv = {settings_.kubectl, "fake-shutdown"};
    try {
      context_->commands().run(spec);
    } catch (...) {  // NOLINT(bugprone-empty-catch): teardown is best effort
    }
    // DEVX_KEEP_KUBE_STATE=1 keeps the state directory (agent and API logs) for debugging.
    if (::getenv("DEVX_KEEP_KUBE_STATE") != nullptr) return;  // NOLINT(concurrency-mt-unsafe)
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  FakeCluster(const FakeCluster&) = delete;
  FakeCluster& operator=(const FakeCluster&) = delete;

  Context& context() { return *context_; }
  const KubeSettings& settings() const { return settings_; }
  std::filesystem::path state() const { return dir_ / "state"; }

  void write(const std::filesystem::path& relative, const std::string& text) const {
    std::filesystem::create_directories((state() / relative).parent_path());
    std::ofstream(state() / relative) << text;
  }
  void config(const std::string& json) const { write("_config.json", json); }
  // Runs the fake kubectl as another client would (not through devx's access-checked adapter).
  CommandResult kubectl(std::vector<std::string> args, std::optional<std::string> stdin_data = {}) {
    CommandSpec spec;
    spec.argv = {settings_.kubectl};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.stdin_data = std::move(stdin_data);
    return context_->commands().run(spec);
  }
  void seed(const std::string& manifest) {
    const CommandResult r = kubectl({"apply", "-f", "-"}, manifest);
    ASSERT_TRUE(r.ok()) << r.err;
  }
  std::string calls() const { return slurp(state() / "calls.log"); }
  bool exists(const std::string& relative) const {
    return std::filesystem::exists(state() / relative);
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Context> context_;
  KubeSettings settings_;
};

// A loopback TCP server answering every connection with `greeting` and then echoing.
class EchoServer {
 public:
  explicit EchoServer(std::string greeting) : greeting_(std::move(greeting)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::thread([g = greeting_, c] {
          ::send(c, g.data(), g.size(), MSG_NOSIGNAL);
          char buf[4096];
          ssize_t n = 0;
          while ((n = ::recv(c, buf, sizeof buf, 0)) > 0)
            ::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
          ::close(c);
        }).detach();
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string greeting_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// Connects to 127.0.0.1:port, sends `send`, and reads until `want` bytes or EOF.
inline std::string exchange(int port, const std::string& send, std::size_t want) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    if (!send.empty()) ::send(fd, send.data(), send.size(), MSG_NOSIGNAL);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    while (got.size() < want) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

// Waits (bounded, generous) for `predicate`; tests assert on the outcome, never on time.
template <typename F>
bool eventually(F predicate, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return predicate();
}

}  // namespace devx::test
