// devx-bridge-agent: the in-cluster end of `devx bridge intercept`. It relays the intercepted
// Service's traffic through an authenticated tunnel to the developer's machine and, when the
// developer is gone for longer than the grace period or the pod is terminated, puts the Service
// back itself. The process owns its signals; the tunnel logic lives in lib/bridge/tunnel.

#include <curl/curl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <string>
#include <vector>

#include "bridge/tunnel/agent.hpp"
#include "flags.hpp"
#include "service_restore.hpp"

namespace {

using namespace devx;

void log_line(const std::string& line) {
  char stamp[32] = {};
  const auto now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::fprintf(stderr, "%s devx-bridge-agent: %s\n", stamp, line.c_str());
}

void restore(const bridge_agent::Options& options) {
  if (options.target_service.empty()) {
    log_line("no DEVX_TARGET_SERVICE; nothing to restore");
    return;
  }
  try {
    const auto api = bridge_agent::load_in_cluster_config();
    bridge_agent::RestoreRequest request;
    request.namespace_name =
        options.target_namespace.empty() ? api.service_account_namespace : options.target_namespace;
    request.service = options.target_service;
    request.session_id = options.session_id;
    bridge_agent::restore_service(api, request, log_line);
  } catch (const std::exception& e) {
    log_line(std::string("cannot restore the service: ") + e.what());
  }
}

int run(const bridge_agent::Options& parsed) {
  auto options = parsed;
  // Block the signals before any thread starts so every thread inherits the mask and only the
  // signalfd sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  const int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  const int expired_fd = ::eventfd(0, EFD_CLOEXEC);
  if (signal_fd < 0 || expired_fd < 0) {
    log_line("cannot create signalfd/eventfd");
    return 1;
  }

  options.agent.on_log = log_line;
  options.agent.on_expired = [expired_fd] {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(expired_fd, &one, sizeof one);
  };
  const auto& ns = options.target_namespace;
  log_line("session " + (options.session_id.empty() ? std::string("-") : options.session_id) +
           ", service " + (ns.empty() ? std::string("(service account namespace)") : ns) + "/" +
           options.target_service);
  bridge::tunnel::Agent agent(options.agent);
  for (const auto& port : options.agent.ports) {
    log_line("service port " + std::to_string(port.service_port) + " listening on " +
             options.agent.listen_bind + ":" +
             std::to_string(agent.listen_port(port.service_port)));
  }

  std::array<pollfd, 2> fds{pollfd{signal_fd, POLLIN, 0}, pollfd{expired_fd, POLLIN, 0}};
  while (::poll(fds.data(), fds.size(), -1) < 0) {
  }
  if (fds[0].revents != 0) {
    signalfd_siginfo info{};
    [[maybe_unused]] const auto n = ::read(signal_fd, &info, sizeof info);
    log_line(std::string("received ") + (info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM") +
             "; restoring the service");
  } else {
    log_line("grace period over without a developer; restoring the service");
  }
  // Restore first: relays in flight keep running until the Service points back at its pods.
  restore(options);
  agent.stop();
  log_line("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bridge_agent::Options options;
  try {
    options = bridge_agent::parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const bridge_agent::UsageError& e) {
    if (*e.what() != '\0') std::fprintf(stderr, "devx-bridge-agent: %s\n", e.what());
    std::fputs(bridge_agent::kUsage, stderr);
    return *e.what() != '\0' ? 2 : 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 1;
  try {
    rc = run(options);
  } catch (const std::exception& e) {
    log_line(std::string("fatal: ") + e.what());
  }
  curl_global_cleanup();
  return rc;
}
