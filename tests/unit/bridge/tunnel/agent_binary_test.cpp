// The built devx-bridge-agent against a fake Kubernetes API server: which requests it sends to
// restore the Service, and when.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tunnel_test_support.hpp"

extern char** environ;

namespace devx::bridge::tunnel {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::wait_until;

constexpr const char* kServicePath = "/api/v1/namespaces/staging/services/payments-api";
constexpr const char* kSaToken = "sa-token-1234";
constexpr const char* kTunnelToken =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Request {
  std::string method;
  std::string path;
  std::string authorization;
  std::string content_type;
  std::string body;
};

struct Reply {
  int status = 200;
  std::string body;
};

// One request per connection (the agent does not reuse connections across easy handles).
class FakeApiServer {
 public:
  using Handler = std::function<Reply(const Request&, int index)>;

  explicit FakeApiServer(Handler handler)
      : handler_(std::move(handler)), listener_(listen_tcp("127.0.0.1", 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeApiServer() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(local_port(listener_.get()));
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd pfd{listener_.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      auto connection = accept_tcp(listener_.get());
      if (!connection) continue;
      try {
        answer(connection.get());
      } catch (const TunnelError&) {
      }
    }
  }

  void answer(int fd) {
    std::string data;
    std::vector<std::uint8_t> chunk(4096);
    const auto deadline = Clock::now() + testing::kSafetyNet;
    std::size_t head_end = std::string::npos;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      const auto n = read_some(fd, chunk, deadline);
      if (n == 0) return;
      data.append(reinterpret_cast<const char*>(chunk.data()), n);
    }
    Request request;
    std::istringstream head(data.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    std::istringstream(line) >> request.method >> request.path;
    std::size_t length = 0;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      auto name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(c));
      const auto value = line.substr(line.find_first_not_of(' ', colon + 1));
      if (name == "authorization") request.authorization = value;
      if (name == "content-type") request.content_type = value;
      if (name == "content-length") length = std::stoul(value);
    }
    request.body = data.substr(head_end + 4);
    while (request.body.size() < length) {
      const auto n = read_some(fd, chunk, deadline);
      if (n == 0) break;
      request.body.append(reinterpret_cast<const char*>(chunk.data()), n);
    }
    int index = 0;
    {
      std::lock_guard lock(mutex_);
      index = static_cast<int>(requests_.size());
      requests_.push_back(request);
    }
    const auto reply = handler_(request, index);
    testing::send_text(fd, "HTTP/1.1 " + std::to_string(reply.status) +
                               " X\r\nContent-Type: application/json\r\nContent-Length: " +
                               std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n" +
                               reply.body);
  }

  Handler handler_;
  Fd listener_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

std::string service_json(const std::string& session) {
  json::object annotations{
      {"devx.dev/original-selector", R"({"app":"payments","tier":"backend"})"}};
  if (!session.empty()) annotations["devx.dev/bridge-session"] = session;
  return json::serialize(json::object{
      {"metadata",
       {{"name", "payments-api"}, {"namespace", "staging"}, {"annotations", annotations}}},
      {"spec", {{"selector", {{"devx-bridge", "agent"}, {"devx-bridge-session", "abc12345"}}}}}});
}

const json::value kExpectedPatch = json::parse(R"([
  {"op":"test","path":"/metadata/annotations/devx.dev~1bridge-session","value":"abc12345"},
  {"op":"replace","path":"/spec/selector","value":{"app":"payments","tier":"backend"}},
  {"op":"remove","path":"/metadata/annotations/devx.dev~1bridge-session"},
  {"op":"remove","path":"/metadata/annotations/devx.dev~1original-selector"}
])");

// The agent binary with a fake service-account directory, its stderr captured in a file.
class AgentProcess {
 public:
  AgentProcess(const std::string& api_url, const std::string& grace) {
    dir_ = fs::temp_directory_path() /
           ("devx-agent-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "token") << kSaToken << "\n";
    std::ofstream(dir_ / "namespace") << "staging";
    log_ = dir_ / "agent.log";

    std::vector<std::string> args{DEVX_BRIDGE_AGENT_PATH, "--port=8080:0", "--control-port=0",
                                  "--health-port=0", "--grace=" + grace};
    std::vector<std::string> env{"DEVX_BRIDGE_TOKEN=" + std::string(kTunnelToken),
                                 "DEVX_BRIDGE_SESSION=abc12345",
                                 "DEVX_TARGET_SERVICE=payments-api",
                                 "DEVX_TARGET_NAMESPACE=staging",
                                 "DEVX_AGENT_SA_DIR=" + dir_.string(),
                                 "DEVX_AGENT_API_URL=" + api_url};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot spawn the agent");
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string log() const {
    std::ifstream in(log_);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  bool serving() const { return log().find("listening on") != std::string::npos; }
  void signal(int signo) const { ::kill(pid_, signo); }
  // The exit status, or -1 if it ended by a signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  fs::path log_;
  pid_t pid_ = -1;
};

void expect_restore_requests(const std::vector<Request>& requests) {
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, kServicePath);
  EXPECT_EQ(requests[0].authorization, std::string("Bearer ") + kSaToken);
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].path, kServicePath);
  EXPECT_EQ(requests[1].authorization, std::string("Bearer ") + kSaToken);
  EXPECT_EQ(requests[1].content_type, "application/json-patch+json");
  EXPECT_EQ(json::parse(requests[1].body), kExpectedPatch) << requests[1].body;
}

Reply ours(const Request& request, int) {
  if (request.method == "GET") return {200, service_json("abc12345")};
  return {200, "{}"};
}

TEST(BridgeAgentBinary, SigtermRestoresTheServiceAndExitsZero) {
  FakeApiServer api(ours);
  AgentProcess agent(api.url(), "1h");
  ASSERT_TRUE(wait_until([&] { return agent.serving(); })) << agent.log();
  EXPECT_TRUE(api.requests().empty());
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait(), 0) << agent.log();
  expect_restore_requests(api.requests());
  EXPECT_EQ(agent.log().find(kTunnelToken), std::string::npos);
  EXPECT_EQ(agent.log().find(kSaToken), std::string::npos);
}

TEST(BridgeAgentBinary, GraceExpiryWithoutADeveloperRestoresTheServiceAndExitsZero) {
  FakeApiServer api(ours);
  AgentProcess agent(api.url(), "200ms");
  EXPECT_EQ(agent.wait(), 0) << agent.log();
  expect_restore_requests(api.requests());
}

TEST(BridgeAgentBinary, LeavesAServiceInterceptedByAnotherSessionAlone) {
  FakeApiServer api([](const Request&, int) { return Reply{200, service_json("zzz99999")}; });
  AgentProcess agent(api.url(), "1h");
  ASSERT_TRUE(wait_until([&] { return agent.serving(); })) << agent.log();
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait(), 0) << agent.log();
  const auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
}

TEST(BridgeAgentBinary, LeavesAnAlreadyRestoredServiceAlone) {
  FakeApiServer api([](const Request&, int) { return Reply{200, service_json("")}; });
  AgentProcess agent(api.url(), "100ms");
  EXPECT_EQ(agent.wait(), 0) << agent.log();
  EXPECT_EQ(api.requests().size(), 1u);
}

TEST(BridgeAgentBinary, AFailedPreconditionIsNotRetried) {
  FakeApiServer api([](const Request& request, int) {
    if (request.method == "GET") return Reply{200, service_json("abc12345")};
    return Reply{422, R"({"kind":"Status","reason":"Invalid"})"};
  });
  AgentProcess agent(api.url(), "100ms");
  EXPECT_EQ(agent.wait(), 0) << agent.log();
  EXPECT_EQ(api.requests().size(), 2u);
}

TEST(BridgeAgentBinary, TransientApiErrorsAreRetried) {
  FakeApiServer api([](const Request& request, int index) {
    if (index == 0) return Reply{503, "{}"};
    return ours(request, index);
  });
  AgentProcess agent(api.url(), "100ms");
  EXPECT_EQ(agent.wait(), 0) << agent.log();
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "GET");
  requests.erase(requests.begin());
  expect_restore_requests(requests);
}

}  // namespace
}  // namespace devx::bridge::tunnel
