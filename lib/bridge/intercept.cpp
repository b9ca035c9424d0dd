#include "bridge/intercept.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>

#include "bridge/kube/kubectl.hpp"
#include "bridge/kube/manifests.hpp"
#include "bridge/kube/port_forward.hpp"
#include "bridge/tunnel/client.hpp"
#include "bridge/undo.hpp"
#include "core/json.hpp"

namespace devx::bridge {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kControlPort = 4200;

json::array argv_json(const std::vector<std::string>& argv) {
  json::array out;
  for (const auto& a : argv) out.push_back(json::string(a));
  return out;
}

std::string ports_text(const std::vector<BridgePortMapping>& ports) {
  std::string out;
  for (const auto& p : ports) {
    out += (out.empty() ? ":" : ", :") + std::to_string(p.remote) + " → " +
           (p.local > 0 ? "127.0.0.1:" + std::to_string(p.local) : std::string("refused"));
  }
  return out;
}

void sleep_for(std::stop_token stop, milliseconds pause) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, pause, [] { return false; });
}

}  // namespace

struct InterceptSession::Prepared {
  json::object service;
  json::object original_selector;
  kube::AgentPorts agent_ports;
  std::vector<BridgePortMapping> mapping;  // every Service port: remote → local (0 = refused)
  kube::AgentSpec spec;
};

InterceptSession::InterceptSession(Context& context, BridgeInterceptOptions options, EventSink sink)
    : context_(context),
      options_(std::move(options)),
      sink_(std::move(sink)),
      store_(context),
      session_(random_hex(4)),
      token_(random_hex(32)),
      kubectl_(std::make_unique<kube::Kubectl>(context, options_.kube)) {
  validate(options_);
  record_ = new_session_record(session_, "intercept", options_.origin, options_.kube);
}

InterceptSession::~InterceptSession() { stop(); }

void InterceptSession::validate(BridgeInterceptOptions& options) {
  if (options.namespace_.empty()) options.namespace_ = "default";
  if (options.agent_image.empty()) options.agent_image = std::string(kube::kDefaultAgentImage);
  kube::validate_image_reference(options.agent_image);
  if (options.service.empty())
    throw Error(ErrorCode::invalid_argument, "no Service to intercept", "name the Service");
  for (const auto& p : options.ports) {
    if (p.remote < 1 || p.remote > 65535 || p.local < 0 || p.local > 65535)
      throw Error(ErrorCode::invalid_argument, "invalid port mapping " + std::to_string(p.remote) +
                                                   ":" + std::to_string(p.local));
  }
  if (options.grace.count() < 1 || options.ready_timeout.count() < 1)
    throw Error(ErrorCode::invalid_argument, "grace and ready_timeout must be at least 1s");
}

void InterceptSession::emit(EventType type, LogLevel level, std::string message,
                            std::string data_json) {
  if (!sink_) return;
  Event e;
  e.type = type;
  e.level = level;
  e.source = options_.namespace_ + "/" + options_.service;
  e.message = std::move(message);
  e.data_json = std::move(data_json);
  sink_(std::move(e));
}

void InterceptSession::set_state(const std::string& state) {
  std::string data;
  {
    std::lock_guard lock(mutex_);
    if (!record_.intercept) return;
    record_.intercept->state = state;
    if (recorded_) store_.save(record_);
    json::array ports;
    for (const auto& p : record_.intercept->ports)
      ports.push_back(json::object{{"remote", p.remote}, {"local", p.local}});
    data = core::to_json_string(json::object{{"session", session_},
                                             {"service", options_.service},
                                             {"namespace", options_.namespace_},
                                             {"state", state},
                                             {"ports", std::move(ports)}});
  }
  emit(EventType::state, state == "reconnecting" ? LogLevel::warn : LogLevel::info,
       options_.namespace_ + "/" + options_.service + " " + state, std::move(data));
}

InterceptSession::Prepared InterceptSession::prepare() {
  Prepared p;
  kubectl_->client_version();
  p.service = kubectl_->get("service", options_.service, options_.namespace_);
  p.agent_ports = kube::resolve_agent_ports(p.service);
  for (const auto& w : p.agent_ports.warnings) emit(EventType::warning, LogLevel::warn, w);
  if (const auto* spec = p.service.if_contains("spec"); spec && spec->is_object()) {
    if (const auto* sel = spec->get_object().if_contains("selector"); sel && sel->is_object())
      p.original_selector = sel->get_object();
  }
  kube::selector_swap_patch(p.service, session_);  // refuses polluted / already intercepted, early
  // Every Service port is served by the agent; unmapped ones are refused by the client.
  for (const auto& port : p.agent_ports.ports) {
    int local = 0;
    if (options_.ports.empty()) {
      local = port.service_port;
    } else {
      for (const auto& m : options_.ports)
        if (m.remote == port.service_port) local = m.local;
    }
    p.mapping.push_back(BridgePortMapping{port.service_port, local});
  }
  for (const auto& m : options_.ports) {
    const bool known = std::any_of(p.agent_ports.ports.begin(), p.agent_ports.ports.end(),
                                   [&](const auto& port) { return port.service_port == m.remote; });
    if (!known) {
      std::string have;
      for (const auto& port : p.agent_ports.ports)
        have += (have.empty() ? "" : ", ") + std::to_string(port.service_port);
      throw Error(ErrorCode::invalid_argument,
                  "Service " + options_.service + " has no port " + std::to_string(m.remote),
                  "its ports: " + have);
    }
  }
  p.spec.session_id = session_;
  p.spec.token = token_;
  p.spec.service = options_.service;
  p.spec.namespace_ = options_.namespace_;
  p.spec.image = options_.agent_image;
  p.spec.ports = p.agent_ports;
  p.spec.grace = options_.grace;
  p.spec.first_session_timeout = options_.ready_timeout;
  p.spec.keepalive_interval = options_.keepalive_interval;
  p.spec.keepalive_timeout = options_.keepalive_timeout;
  return p;
}

std::string InterceptSession::plan() {
  const Prepared p = prepare();
  const std::string agent = kube::agent_name(session_);
  kube::AgentSpec redacted = p.spec;
  redacted.token = "<generated>";
  json::array actions;
  actions.push_back(json::object{
      {"kind", "apply"},
      {"description", "create Job " + agent + " (suspended) running " + options_.agent_image},
      {"objects", json::array{kube::agent_job(p.spec)}}});
  actions.push_back(json::object{
      {"kind", "apply"},
      {"description", "create ServiceAccount, Role (get/patch Service " + options_.service +
                          "), RoleBinding and the token Secret, owned by the Job"},
      {"objects", kube::owned_objects(redacted, "<job uid>")}});
  actions.push_back(json::object{{"kind", "patch"}, {"description", "unsuspend Job " + agent}});
  actions.push_back(json::object{{"kind", "wait"},
                                 {"description", "agent pod Running (fail fast on image errors)"}});
  actions.push_back(json::object{
      {"kind", "command"},
      {"argv", argv_json(kube::port_forward_argv(
                   options_.kube, kube::PortForwardOptions{"pod/" + agent + "-<pod>",
                                                           options_.namespace_, kControlPort, 0}))},
      {"description", "authenticated tunnel to the agent"}});
  actions.push_back(json::object{
      {"kind", "patch"},
      {"description",
       "swap the selector of Service " + options_.service + " (" + ports_text(p.mapping) + ")"},
      {"patch", kube::selector_swap_patch(p.service, session_)}});
  return core::to_json_string(json::object{
      {"v", 1}, {"dry_run", true}, {"session", session_}, {"actions", std::move(actions)}});
}

void InterceptSession::deploy(const Prepared& p) {
  const std::string agent = kube::agent_name(session_);
  emit(EventType::progress, LogLevel::info,
       "deploying agent " + agent + " (" + options_.agent_image + ")");
  {
    std::lock_guard lock(mutex_);
    deployed_ = true;  // from here on, stop() deletes what may exist
  }
  const json::array applied = kubectl_->apply(json::array{kube::agent_job(p.spec)});
  std::string uid;
  if (!applied.empty()) {
    if (const auto* meta = applied.front().as_object().if_contains("metadata")) {
      if (const auto* u = meta->as_object().if_contains("uid"); u && u->is_string())
        uid = u->get_string();
    }
  }
  if (uid.empty())
    throw Error(ErrorCode::command_failed, "kubectl apply did not return the Job's uid");
  kubectl_->apply(kube::owned_objects(p.spec, uid));
  kubectl_->patch_merge("job", agent, options_.namespace_, kube::unsuspend_patch());
}

std::string InterceptSession::wait_for_agent_pod(std::stop_token stop, bool need_ready) {
  const auto deadline = steady_clock::now() + options_.ready_timeout;
  const std::string selector = kube::agent_pod_selector(session_);
  auto no_pod_since = steady_clock::now();
  for (;;) {
    if (stop.stop_requested()) throw Error(ErrorCode::cancelled, "intercept cancelled");
    const auto pod = kubectl_->pod_status(options_.namespace_, selector);
    if (pod) {
      if (auto failure = pod->failure()) throw *failure;
      if (pod->phase == "Running" && (!need_ready || pod->ready)) return pod->name;
    } else if (steady_clock::now() - no_pod_since > std::chrono::seconds(10)) {
      // No pod at all: admission (PodSecurity, quota) may have rejected it; say why at once.
      const auto problems = kubectl_->job_problems(options_.namespace_, kube::agent_name(session_));
      if (!problems.empty()) {
        std::string text;
        for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p;
        throw Error(ErrorCode::command_failed, "the agent pod was not created: " + text,
                    "check the namespace's PodSecurity level and quotas");
      }
      no_pod_since = steady_clock::now();
    }
    if (steady_clock::now() >= deadline) {
      throw Error(
          ErrorCode::timeout,
          std::string("the agent did not become ") + (need_ready ? "Ready" : "Running") +
              " within " + std::to_string(options_.ready_timeout.count()) + "s" +
              (pod ? " (pod " + pod->name + ": " + pod->phase +
                         (pod->waiting_reason.empty() ? "" : ", " + pod->waiting_reason) + ")"
                   : " (no pod)"),
          "raise --ready-timeout, or look at `kubectl describe job " + kube::agent_name(session_) +
              "`");
    }
    sleep_for(stop, milliseconds(need_ready ? 250 : 500));
  }
}

void InterceptSession::open_tunnel(std::stop_token stop) {
  int port = 0;
  {
    std::lock_guard lock(mutex_);
    if (!forward_) {
      forward_ = std::make_unique<kube::PortForward>(
          context_, options_.kube,
          kube::PortForwardOptions{"pod/" + pod_, options_.namespace_, kControlPort, 0});
      forward_->start();
    }
  }
  port = forward_->wait_forwarding(std::chrono::seconds(60), stop);
  tunnel::TunnelClientConfig client;
  client.port = static_cast<std::uint16_t>(port);
  client.token = token_;
  for (const auto& m : record_.intercept->ports)
    if (m.local > 0) client.port_map[m.remote] = m.local;
  client.yamux.keepalive_interval = options_.keepalive_interval;
  client.yamux.keepalive_timeout = options_.keepalive_timeout;
  client.on_stream = [this](const tunnel::StreamEvent& e) {
    using Kind = tunnel::StreamEvent::Kind;
    if (e.kind == Kind::relaying) return;
    const bool bad = e.kind == Kind::refused || e.kind == Kind::failed;
    std::string text = e.peer + " → :" + std::to_string(e.service_port);
    if (e.kind == Kind::finished) {
      text += " → 127.0.0.1:" + std::to_string(e.local_port) + " done (" +
              std::to_string(e.bytes_to_local) + " B in, " + std::to_string(e.bytes_from_local) +
              " B out)";
    } else {
      text += (e.kind == Kind::refused ? " refused: " : " failed: ") + e.detail;
    }
    emit(EventType::log, bad ? LogLevel::warn : LogLevel::debug, std::move(text));
  };
  std::unique_ptr<tunnel::TunnelClient> connected;
  try {
    connected = tunnel::TunnelClient::connect(std::move(client));
  } catch (const tunnel::TunnelError& e) {
    if (e.kind() == tunnel::TunnelError::Kind::bad_token)
      throw Error(ErrorCode::permission_denied,
                  std::string("the agent refused the session token: ") + e.what());
    throw Error(ErrorCode::unreachable,
                std::string("cannot open the tunnel to the agent: ") + e.what());
  }
  std::lock_guard lock(mutex_);
  tunnel_ = std::move(connected);
}

void InterceptSession::run_until_active(std::stop_token stop) {
  try {
    const Prepared p = prepare();
    {
      std::lock_guard lock(mutex_);
      InterceptRecord ir;
      ir.service = options_.service;
      ir.namespace_ = options_.namespace_;
      ir.ports = p.mapping;
      ir.agent = kube::agent_name(session_);
      ir.original_selector_json = core::to_json_string(p.original_selector);
      record_.intercept = std::move(ir);
      store_.save(record_);
      recorded_ = true;
    }
    deploy(p);
    const std::string pod = wait_for_agent_pod(stop, false);
    {
      std::lock_guard lock(mutex_);
      pod_ = pod;
    }
    emit(EventType::progress, LogLevel::info,
         "agent pod " + pod + " is running; opening the tunnel");
    open_tunnel(stop);
    wait_for_agent_pod(stop, true);
    emit(EventType::progress, LogLevel::info, "tunnel up and agent Ready; swapping the selector");
    {
      std::lock_guard lock(mutex_);
      swapped_ = true;  // set first: a failed patch may still have applied (then restore checks)
    }
    kubectl_->patch_json("service", options_.service, options_.namespace_,
                         kube::selector_swap_patch(p.service, session_));
    set_state("active");
    emit(EventType::progress, LogLevel::info,
         "intercepting " + options_.namespace_ + "/" + options_.service + " (" +
             ports_text(p.mapping) + ")");
    keeper_ = std::jthread([this](std::stop_token s) { keep_tunnel(s); });
  } catch (...) {
    this->stop();
    throw;
  }
}

void InterceptSession::keep_tunnel(std::stop_token stop) {
  milliseconds pause(500);
  while (!stop.stop_requested()) {
    std::shared_ptr<tunnel::TunnelClient> current;
    {
      std::lock_guard lock(mutex_);
      current = tunnel_;
    }
    if (current && !current->wait_closed(milliseconds(250))) continue;
    if (stop.stop_requested()) return;
    if (current) {
      set_state("reconnecting");
      emit(EventType::warning, LogLevel::warn,
           "tunnel lost (" + current->close_reason() +
               "); reconnecting — the agent keeps the Service for " +
               std::to_string(options_.grace.count()) + "s");
      std::lock_guard lock(mutex_);
      tunnel_.reset();
    }
    try {
      // The agent gives the Service back after its grace period: then there is nothing to keep.
      const auto svc = kubectl_->find("service", options_.service, options_.namespace_);
      const std::string owner = svc ? kube::intercepting_session(*svc).value_or("") : "";
      if (owner != session_) {
        std::lock_guard lock(mutex_);
        swapped_ = false;
        failure_ =
            Error(ErrorCode::conflict,
                  "the intercept of " + options_.namespace_ + "/" + options_.service +
                      " ended: the Service no longer names this session",
                  "the agent restores the Service when the tunnel is lost for longer than --grace");
        emit(EventType::warning, LogLevel::error, failure_->message());
        return;
      }
      open_tunnel(stop);
      set_state("active");
      pause = milliseconds(500);
    } catch (const Error& e) {
      if (stop.stop_requested()) return;
      emit(EventType::warning, LogLevel::warn, "reconnect failed: " + e.message());
      sleep_for(stop, pause);
      pause = std::min(pause * 2, milliseconds(5000));
    } catch (const std::exception& e) {
      if (stop.stop_requested()) return;
      emit(EventType::warning, LogLevel::warn, std::string("reconnect failed: ") + e.what());
      sleep_for(stop, pause);
      pause = std::min(pause * 2, milliseconds(5000));
    }
  }
}

void InterceptSession::stop() {
  if (keeper_.joinable()) {
    keeper_.request_stop();
    keeper_.join();
  }
  bool swapped = false;
  bool deployed = false;
  {
    std::lock_guard lock(mutex_);
    swapped = std::exchange(swapped_, false);
    deployed = std::exchange(deployed_, false);
  }
  // Restore while the tunnel still carries in-flight requests, then close it.
  if (swapped) {
    set_state("restoring");
    try {
      switch (restore_service(*kubectl_, options_.namespace_, options_.service, session_)) {
        case RestoreResult::restored:
          emit(EventType::progress, LogLevel::info, "restored the selector of " + options_.service);
          break;
        case RestoreResult::not_ours:
          emit(EventType::warning, LogLevel::warn,
               "Service " + options_.service + " no longer names this session; left as it is");
          break;
        case RestoreResult::gone:
          emit(EventType::warning, LogLevel::warn, "Service " + options_.service + " is gone");
          break;
      }
    } catch (const Error& e) {
      emit(EventType::warning, LogLevel::error,
           "could not restore " + options_.service + ": " + e.message() +
               " — the agent restores it after its grace period; `devx bridge doctor --repair` "
               "otherwise");
    }
  }
  std::shared_ptr<tunnel::TunnelClient> tunnel;
  std::unique_ptr<kube::PortForward> forward;
  {
    std::lock_guard lock(mutex_);
    tunnel = std::move(tunnel_);
    forward = std::move(forward_);
  }
  if (tunnel) tunnel->close();
  if (forward) forward->stop();
  if (deployed) {
    try {
      remove_agent(*kubectl_, options_.namespace_, session_);
      emit(EventType::progress, LogLevel::info, "removed agent " + kube::agent_name(session_));
    } catch (const Error& e) {
      emit(EventType::warning, LogLevel::error,
           "could not remove agent " + kube::agent_name(session_) + ": " + e.message() +
               " — `devx bridge doctor --repair` removes leftovers");
    }
  }
  std::lock_guard lock(mutex_);
  if (recorded_) {
    store_.remove(session_);
    store_.clear_stop(session_);
    recorded_ = false;
  }
}

std::optional<Error> InterceptSession::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

}  // namespace devx::bridge

namespace devx {

Operation start_bridge_intercept(Context& context, BridgeInterceptOptions options) {
  bridge::InterceptSession::validate(options);  // bad options fail before anything starts
  return context.start(
      "bridge.intercept",
      [&context, options = std::move(options)](OperationScope& scope) mutable -> std::string {
        bridge::InterceptSession session(context, std::move(options),
                                         [&scope](Event e) { scope.emit(std::move(e)); });
        if (context.dry_run()) return session.plan();
        session.run_until_active(scope.stop_token());
        // Active until stopped, or until the agent gave the Service back (then undo the rest).
        try {
          bridge::wait_while_running(scope, bridge::SessionStore(context), session.id(),
                                     [&session] { return session.failure(); });
        } catch (const Error&) {
          session.stop();
          throw;
        }
        session.stop();
        return core::to_json_string(
            boost::json::object{{"v", 1}, {"session", session.id()}, {"restored", true}});
      });
}

}  // namespace devx
