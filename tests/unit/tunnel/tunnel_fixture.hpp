#pragma once
// A tunnel test world: the fake Cloudflare API (tests/fakes/cloudflare_api.py) on loopback with
// its state file, the fake cloudflared on PATH, a private DEVX_HOME, and small origin servers.
// Everything runs for real (HTTP through libcurl, cloudflared detached through setsid).
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/process.hpp>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/proc_stat.hpp"

extern char** environ;  // NOLINT

namespace devx::test {

namespace fs = std::filesystem;
namespace json = boost::json;

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

class TunnelWorld : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("devx-tunnel-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "home");
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv(*e);
      const auto eq = kv.find('=');
      if (eq != std::string::npos && eq > 0) env_[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const char* name : {"CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID",
                             "DEVX_TUNNEL_ZONE", "DEVX_CLOUDFLARE_API_URL"})
      env_.erase(name);
    const std::string source = DEVX_SOURCE_DIR;
    env_["PATH"] = source + "/tests/fakes:" + env_["PATH"];
    env_["HOME"] = (dir_ / "home").string();
    env_["FAKE_LOG"] = (dir_ / "fake.log").string();
    start_api();
    env_["DEVX_CLOUDFLARE_API_URL"] = api_url_;
    env_["CLOUDFLARE_API_TOKEN"] = token;
  }

  void TearDown() override {
    // Connectors are detached (they outlive a context): end the ones the test left.
    for (const auto& file : {"tunnel/machine.json", "tunnel/projects/shop.json"}) {
      const auto text = slurp(dir_ / "devx-home" / file);
      if (text.empty()) continue;
      const auto doc = json::parse(text).as_object();
      if (!doc.at("tunnel").is_object()) continue;
      const auto& connector = doc.at("tunnel").as_object().at("connector");
      if (connector.is_object())
        ::kill(static_cast<int>(connector.at("pid").to_number<int>()), SIGTERM);
    }
    for (auto& child : children_) child->terminate(std::chrono::seconds(5));
    children_.clear();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Context> context(bool dry_run = false,
                                   std::map<std::string, std::string> extra = {}) {
    ContextOptions options;
    options.devx_home = dir_ / "devx-home";
    options.env = env_;
    for (auto& [k, v] : extra) (*options.env)[k] = v;
    options.dry_run = dry_run;
    return std::make_unique<Context>(options);
  }

  // The fake API's state file.
  json::object api_state() const { return json::parse(slurp(dir_ / "api.json")).as_object(); }
  void edit_api_state(const std::function<void(json::object&)>& change) {
    auto state = api_state();
    change(state);
    std::ofstream(dir_ / "api.json") << json::serialize(state);
  }
  // Requests the API received (method + path), optionally only those matching both.
  std::vector<json::object> requests(std::string_view method = {},
                                     std::string_view path_suffix = {}) const {
    std::vector<json::object> out;
    const auto state = api_state();
    for (const auto& r : state.at("requests").as_array()) {
      const auto& o = r.as_object();
      if (!method.empty() && o.at("method").as_string() != method) continue;
      if (!path_suffix.empty() &&
          !std::string_view(o.at("path").as_string()).ends_with(path_suffix))
        continue;
      out.push_back(o);
    }
    return out;
  }
  json::array tunnels() const { return api_state().at("tunnels").as_array(); }
  json::array ingress_of(std::string_view tunnel_id) const {
    const auto state = api_state();
    const auto& configs = state.at("configurations").as_object();
    auto it = configs.find(tunnel_id);
    if (it == configs.end()) return {};
    return it->value().at("config").at("ingress").as_array();
  }
  json::array dns_records() const {
    json::array all;
    const auto state = api_state();
    for (const auto& [zone, records] : state.at("dns_records").as_object())
      for (const auto& r : records.as_array()) all.push_back(r);
    return all;
  }
  // The edge address of the connector for `tunnel_id` ("127.0.0.1:P"), "" when none.
  std::string edge_of(std::string_view tunnel_id) const {
    const auto state = api_state();
    for (const auto& c : state.at("connectors").as_array())
      if (c.at("tunnel_id").as_string() == tunnel_id) return std::string(c.at("edge").as_string());
    return {};
  }

  // An origin HTTP server on 127.0.0.1 answering every GET with `body`; returns its port.
  int start_origin(const std::string& body) {
    const fs::path port_file = dir_ / ("origin-" + std::to_string(children_.size()) + ".port");
    const std::string script =
        "import http.server,sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        b=(sys.argv[2]+'|auth='+str(self.headers.get('Authorization'))).encode()\n"
        "        self.send_response(200);self.send_header('Content-Length',str(len(b)))\n"
        "        self.end_headers();self.wfile.write(b)\n"
        "    def log_message(self,*a): pass\n"
        "s=http.server.ThreadingHTTPServer(('127.0.0.1',0),H)\n"
        "open(sys.argv[1]+'.tmp','w').write(str(s.server_address[1]))\n"
        "import os; os.replace(sys.argv[1]+'.tmp',sys.argv[1])\n"
        "s.serve_forever()\n";
    CommandSpec spec;
    spec.argv = {"python3", "-c", script, port_file.string(), body};
    spec.output = OutputMode::discard;
    children_.push_back(runner_->spawn(spec));
    EXPECT_TRUE(wait_until([&] { return fs::exists(port_file); }));
    return std::stoi(slurp(port_file));
  }

  // GET http://<edge>/ with Host: `host`.
  HttpResponse through_edge(Context& ctx, const std::string& edge, const std::string& host,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest request;
    request.url = "http://" + edge + "/";
    request.headers = std::move(headers);
    request.headers.emplace_back("Host", host);
    return ctx.http().send(request);
  }

  static constexpr const char* token = "cf-test-token-Sup3rSecret";
  fs::path dir_;
  std::map<std::string, std::string> env_;
  std::string api_url_;
  std::shared_ptr<CommandRunner> runner_ = make_system_command_runner();
  std::vector<std::unique_ptr<ChildProcess>> children_;

 private:
  void start_api() {
    CommandSpec spec;
    spec.argv = {"python3",    std::string(DEVX_SOURCE_DIR) + "/tests/fakes/cloudflare_api.py",
                 "--state",    (dir_ / "api.json").string(),
                 "--url-file", (dir_ / "api.url").string(),
                 "--token",    token,
                 "--zone",     "example.com",
                 "--zone",     "mycompany.co.uk"};
    spec.output = OutputMode::discard;
    children_.push_back(runner_->spawn(spec));
    ASSERT_TRUE(wait_until([&] { return fs::exists(dir_ / "api.url"); }));
    api_url_ = slurp(dir_ / "api.url");
    while (!api_url_.empty() && api_url_.back() == '\n') api_url_.pop_back();
  }
};

}  // namespace devx::test
