#include "bridge/kube/port_forward.hpp"

#include <charconv>

#include "bridge/kube/kubectl.hpp"

namespace devx::bridge::kube {
namespace {

using std::chrono::milliseconds;

std::string port_pair(int local, int remote) {
  return (local > 0 ? std::to_string(local) : std::string()) + ":" + std::to_string(remote);
}

bool is_klog_line(std::string_view line) {
  return line.size() > 5 && (line[0] == 'E' || line[0] == 'W' || line[0] == 'I') &&
         line[1] >= '0' && line[1] <= '9';
}

}  // namespace

struct PortForward::AttemptResult {
  int forwarded_port = 0;
  milliseconds forwarded_for{0};
  bool port_busy = false;
  std::string message;
  std::optional<Error> permanent;
};

std::string_view to_string(PortForwardState state) noexcept {
  switch (state) {
    case PortForwardState::starting:
      return "starting";
    case PortForwardState::forwarding:
      return "forwarding";
    case PortForwardState::backoff:
      return "backoff";
    case PortForwardState::failed:
      return "failed";
    case PortForwardState::stopped:
      return "stopped";
  }
  return "unknown";
}

std::vector<std::string> port_forward_argv(const KubeSettings& settings,
                                           const PortForwardOptions& options,
                                           std::string_view home) {
  auto argv = kubectl_prefix(settings, home);
  for (std::string arg : {std::string("port-forward"), options.target,
                          port_pair(options.local_port, options.remote_port), std::string("-n"),
                          options.namespace_, std::string("--address"), std::string("127.0.0.1")})
    argv.push_back(std::move(arg));
  return argv;
}

int parse_forwarding_line(std::string_view line) {
  constexpr std::string_view prefix = "Forwarding from 127.0.0.1:";
  if (!line.starts_with(prefix)) return 0;
  line.remove_prefix(prefix.size());
  int port = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), port);
  if (ec != std::errc() || port <= 0 || port > 65535) return 0;
  if (!std::string_view(end, static_cast<std::size_t>(line.data() + line.size() - end))
           .starts_with(" -> "))
    return 0;
  return port;
}

PortForward::PortForward(Context& context, KubeSettings settings, PortForwardOptions options,
                         std::function<void(const PortForwardStatus&)> on_status)
    : context_(context),
      settings_(std::move(settings)),
      options_(std::move(options)),
      on_status_(std::move(on_status)) {
  if (options_.remote_port < 1 || options_.remote_port > 65535 || options_.local_port < 0 ||
      options_.local_port > 65535 || options_.target.empty() || options_.namespace_.empty())
    throw Error(ErrorCode::invalid_argument, "port-forward " + options_.target +
                                                 ": needs a target, a namespace and ports "
                                                 "in 1-65535 (local 0 = any)");
}

PortForward::~PortForward() { stop(); }

void PortForward::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { supervise(std::move(stop)); });
}

void PortForward::stop() {
  std::jthread thread;
  {
    std::lock_guard lock(mutex_);
    thread = std::move(thread_);
  }
  if (thread.joinable()) {
    thread.request_stop();
    thread.join();
  }
  changed_.notify_all();
}

PortForwardStatus PortForward::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

int PortForward::wait_forwarding(milliseconds timeout, std::stop_token stop) {
  std::unique_lock lock(mutex_);
  const auto done = [&] {
    return status_.state == PortForwardState::forwarding ||
           status_.state == PortForwardState::failed || status_.state == PortForwardState::stopped;
  };
  changed_.wait_for(lock, stop, timeout, done);
  if (status_.state == PortForwardState::forwarding) return status_.local_port;
  if (status_.state == PortForwardState::failed && status_.error) throw *status_.error;
  if (status_.state == PortForwardState::stopped || stop.stop_requested())
    throw Error(ErrorCode::cancelled, "port-forward " + options_.target + " stopped");
  throw Error(ErrorCode::timeout,
              "port-forward " + options_.target + " not forwarding after " +
                  std::to_string(timeout.count()) + " ms" +
                  (status_.message.empty() ? "" : ": " + status_.message),
              "try `kubectl port-forward " + options_.target + " :" +
                  std::to_string(options_.remote_port) + " -n " + options_.namespace_ + "`");
}

void PortForward::publish(PortForwardStatus status) {
  // One callback at a time, in the order of the changes.
  std::lock_guard callback_lock(callback_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (status.local_port == 0) status.local_port = status_.local_port;
    status_ = status;
  }
  changed_.notify_all();
  if (on_status_) on_status_(status);
}

void PortForward::supervise(std::stop_token stop) {
  Backoff backoff(options_.backoff, options_.random01);
  int attempt = 0;
  // Kept after the first success so a restart gives clients the same address.
  int sticky_port = options_.local_port;
  while (!stop.stop_requested()) {
    ++attempt;
    publish({PortForwardState::starting, 0, attempt, milliseconds(0), {}, std::nullopt});
    AttemptResult result = run_attempt(stop, sticky_port);
    if (stop.stop_requested()) break;
    if (result.permanent) {
      publish({PortForwardState::failed, 0, attempt, milliseconds(0), result.message,
               result.permanent});
      return;
    }
    if (result.port_busy && options_.local_port != 0) {
      publish({PortForwardState::failed, 0, attempt, milliseconds(0), result.message,
               Error(ErrorCode::port_in_use,
                     "local port " + std::to_string(options_.local_port) + " for " +
                         options_.target + " is already in use",
                     "free the port, pick another local_port, or use 0 to let kubectl choose")});
      return;
    }
    if (options_.local_port == 0 && result.port_busy) sticky_port = 0;
    if (options_.local_port == 0 && result.forwarded_port > 0) sticky_port = result.forwarded_port;
    const milliseconds delay = backoff.next(result.forwarded_for);
    publish({PortForwardState::backoff, 0, attempt, delay, result.message, std::nullopt});
    if (!context_.clock().sleep_for(delay, stop)) break;
  }
  publish({PortForwardState::stopped, 0, attempt, milliseconds(0), {}, std::nullopt});
}

PortForward::AttemptResult PortForward::run_attempt(std::stop_token stop, int local_port) {
  PortForwardOptions options = options_;
  options.local_port = local_port;
  CommandSpec spec;
  spec.argv = port_forward_argv(settings_, options);
  spec.output = OutputMode::stream;
  spec.stop = stop;
  spec.kill_grace = milliseconds(2000);

  AttemptResult result;
  std::mutex result_mutex;
  std::optional<std::chrono::steady_clock::time_point> forwarding_since;
  const int attempt = status().attempt;
  spec.on_line = [&](std::string_view line, bool from_stderr) {
    if (!from_stderr) {
      if (const int port = parse_forwarding_line(line); port > 0) {
        {
          std::lock_guard lock(result_mutex);
          if (forwarding_since) return;  // the [::1] line or a repeat
          forwarding_since = context_.clock().steady_now();
          result.forwarded_port = port;
        }
        publish({PortForwardState::forwarding, port, attempt, milliseconds(0), {}, std::nullopt});
      }
      return;
    }
    std::lock_guard lock(result_mutex);
    if (line.find("address already in use") != std::string_view::npos) result.port_busy = true;
    if (!line.empty() && (!is_klog_line(line) || result.message.empty()))
      result.message = std::string(line);
  };

  std::unique_ptr<ChildProcess> child;
  try {
    child = context_.commands().spawn(spec);
  } catch (const Error& e) {
    result.message = e.message();
    result.permanent =
        e.code() == ErrorCode::command_not_found
            ? Error(ErrorCode::command_not_found, "kubectl not found ('" + spec.argv.front() + "')",
                    "install kubectl and make sure it is on PATH")
            : e;
    return result;
  }
  std::optional<CommandResult> ended;
  while (!(ended = child->wait_for(std::chrono::hours(1)))) {
  }
  std::lock_guard lock(result_mutex);
  if (forwarding_since) {
    result.forwarded_for =
        std::chrono::duration_cast<milliseconds>(context_.clock().steady_now() - *forwarding_since);
  }
  const std::string how = ended->signal != 0
                              ? "was killed by signal " + std::to_string(ended->signal)
                              : "exited with " + std::to_string(ended->exit_code);
  result.message =
      "kubectl port-forward " + how + (result.message.empty() ? "" : ": " + result.message);
  return result;
}

}  // namespace devx::bridge::kube
