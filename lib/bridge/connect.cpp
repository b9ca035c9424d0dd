#include "bridge/connect.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bridge/kube/kubectl.hpp"
#include "bridge/kube/port_forward.hpp"
#include "core/json.hpp"

namespace devx::bridge {
namespace {

namespace json = boost::json;

bool valid_dns_label(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.front() != '-' && name.back() != '-';
}

void validate_target(const BridgeTargetSpec& t) {
  const std::string label = "bridge target '" + t.service + "'";
  if (!valid_dns_label(t.service))
    throw Error(ErrorCode::invalid_argument, label + ": not a valid Service name",
                "Service names are lower-case DNS labels (a-z, 0-9, '-')");
  if (!valid_dns_label(t.namespace_))
    throw Error(ErrorCode::invalid_argument, label + ": invalid namespace '" + t.namespace_ + "'");
  if (t.port < 1 || t.port > 65535)
    throw Error(ErrorCode::invalid_argument, label + ": port must be 1-65535");
  if (t.local_port < 0 || t.local_port > 65535)
    throw Error(ErrorCode::invalid_argument, label + ": local_port must be 0-65535 (0 = any)");
}

}  // namespace

std::vector<BridgeTargetSpec> resolve_targets(const BridgeConnectOptions& options) {
  std::vector<BridgeTargetSpec> out;
  for (BridgeTargetSpec t : options.targets) {
    if (t.namespace_.empty())
      t.namespace_ = options.namespace_.empty() ? "default" : options.namespace_;
    validate_target(t);
    out.push_back(std::move(t));
  }
  if (out.empty())
    throw Error(ErrorCode::invalid_argument, "no bridge targets",
                "pass --target SERVICE:PORT[:LOCAL_PORT] or list bridge.targets in devx.yaml");
  return out;
}

ConnectSession::ConnectSession(Context& context, BridgeConnectOptions options, EventSink sink)
    : context_(context), options_(std::move(options)), sink_(std::move(sink)), store_(context) {
  options_.targets = resolve_targets(options_);
  record_ = new_session_record("c-" + random_hex(4), "connect", options_.origin, options_.kube);
  for (const auto& t : options_.targets)
    record_.forwards.push_back(
        ForwardRecord{t.service, t.namespace_, t.port, t.local_port, "planned"});
}

ConnectSession::~ConnectSession() { stop(); }

std::vector<std::vector<std::string>> ConnectSession::planned_commands() const {
  std::vector<std::vector<std::string>> out;
  for (const auto& t : options_.targets) {
    out.push_back(kube::port_forward_argv(
        options_.kube,
        kube::PortForwardOptions{"svc/" + t.service, t.namespace_, t.port, t.local_port}));
  }
  return out;
}

void ConnectSession::start() {
  kube::Kubectl kubectl(context_, options_.kube);
  kubectl.client_version();
  for (const auto& t : options_.targets) kubectl.get("service", t.service, t.namespace_);
  {
    std::lock_guard lock(mutex_);
    for (auto& f : record_.forwards) f.state = "starting";
    store_.save(record_);
    recorded_ = true;
  }
  for (std::size_t i = 0; i < options_.targets.size(); ++i) {
    const auto& t = options_.targets[i];
    auto forward = std::make_unique<kube::PortForward>(
        context_, options_.kube,
        kube::PortForwardOptions{"svc/" + t.service, t.namespace_, t.port, t.local_port},
        [this, i](const kube::PortForwardStatus& s) {
          on_forward_state(i, std::string(kube::to_string(s.state)), s.local_port, s.attempt,
                           s.message);
          if (s.error) {
            std::lock_guard lock(mutex_);
            if (!failure_) failure_ = *s.error;
            changed_.notify_all();
          }
        });
    forward->start();
    std::lock_guard lock(mutex_);
    forwards_.push_back(std::move(forward));
  }
}

void ConnectSession::on_forward_state(std::size_t index, const std::string& state, int local_port,
                                      int attempt, const std::string& message) {
  Event event;
  {
    std::lock_guard lock(mutex_);
    auto& f = record_.forwards.at(index);
    f.state = state;
    if (local_port > 0) f.local_port = local_port;
    if (recorded_) store_.save(record_);
    event.type = EventType::state;
    event.source = f.namespace_ + "/" + f.service + ":" + std::to_string(f.remote_port);
    event.level = state == "failed"    ? LogLevel::error
                  : state == "backoff" ? LogLevel::warn
                                       : LogLevel::info;
    event.message =
        event.source + " " + state +
        (f.local_port > 0 && state == "forwarding" ? " on 127.0.0.1:" + std::to_string(f.local_port)
                                                   : "") +
        (message.empty() ? "" : ": " + message);
    event.data_json = core::to_json_string(json::object{{"session", record_.id},
                                                        {"service", f.service},
                                                        {"namespace", f.namespace_},
                                                        {"remote_port", f.remote_port},
                                                        {"local_port", f.local_port},
                                                        {"state", state},
                                                        {"attempt", attempt}});
    changed_.notify_all();
  }
  if (sink_) sink_(std::move(event));
}

void ConnectSession::wait_ready(std::chrono::milliseconds timeout, std::stop_token stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  const auto ready = [&] {
    if (failure_) return true;
    for (const auto& f : record_.forwards)
      if (f.state != "forwarding") return false;
    return true;
  };
  while (!ready()) {
    if (stop.stop_requested()) throw Error(ErrorCode::cancelled, "cancelled");
    if (changed_.wait_until(lock, stop, deadline, ready)) break;
    if (stop.stop_requested()) throw Error(ErrorCode::cancelled, "cancelled");
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string waiting;
      for (const auto& f : record_.forwards)
        if (f.state != "forwarding")
          waiting += (waiting.empty() ? "" : ", ") + f.service + " (" + f.state + ")";
      throw Error(ErrorCode::timeout, "port-forwards not up in time: " + waiting,
                  "check `kubectl port-forward` to these Services by hand");
    }
  }
  if (failure_) throw *failure_;
}

void ConnectSession::stop() {
  std::vector<std::unique_ptr<kube::PortForward>> forwards;
  {
    std::lock_guard lock(mutex_);
    forwards.swap(forwards_);
  }
  for (auto& f : forwards) f->stop();
  forwards.clear();
  std::lock_guard lock(mutex_);
  if (recorded_) {
    store_.remove(record_.id);
    store_.clear_stop(record_.id);
    recorded_ = false;
  }
}

std::vector<ForwardRecord> ConnectSession::forwards() const {
  std::lock_guard lock(mutex_);
  return record_.forwards;
}

std::optional<Error> ConnectSession::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

}  // namespace devx::bridge

namespace devx {

Operation start_bridge_connect(Context& context, BridgeConnectOptions options) {
  // Bad options fail here, before any operation starts.
  options.targets = bridge::resolve_targets(options);
  return context.start(
      "bridge.connect",
      [&context, options = std::move(options)](OperationScope& scope) mutable -> std::string {
        namespace json = boost::json;
        bridge::ConnectSession session(context, options,
                                       [&scope](Event e) { scope.emit(std::move(e)); });
        if (context.dry_run()) {
          json::array actions;
          for (const auto& argv : session.planned_commands()) {
            json::array a;
            for (const auto& s : argv) a.push_back(json::string(s));
            actions.push_back(json::object{{"kind", "command"}, {"argv", std::move(a)}});
          }
          return core::to_json_string(
              json::object{{"v", 1}, {"dry_run", true}, {"actions", std::move(actions)}});
        }
        scope.progress("bridge", "checking kubectl and the Services");
        session.start();
        session.wait_ready(std::chrono::minutes(2), scope.stop_token());
        scope.progress("bridge", "session " + session.id() + " ready");
        // Runs until stopped; a forward that fails for good ends the session with its error.
        bridge::wait_while_running(scope, bridge::SessionStore(context), session.id(),
                                   [&session] { return session.failure(); });
        json::array forwards;
        for (const auto& f : session.forwards()) {
          forwards.push_back(json::object{{"service", f.service},
                                          {"namespace", f.namespace_},
                                          {"remote_port", f.remote_port},
                                          {"local_port", f.local_port}});
        }
        session.stop();
        return core::to_json_string(
            json::object{{"v", 1}, {"session", session.id()}, {"forwards", std::move(forwards)}});
      });
}

}  // namespace devx
