// connect_run / RunClient: talks to a supervisor over its control socket; when none answers,
// reconciles what a dead owner left and answers "not running".
#include <devx/error.hpp>
#include <devx/supervisor.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <thread>

#include "core/json.hpp"
#include "orchestrator/plan.hpp"
#include "orchestrator/run_state.hpp"
#include "runtime/container_engine.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime/database.hpp"
#include "supervisor/control_socket.hpp"

namespace devx {

namespace json = boost::json;
using std::chrono::milliseconds;

struct RunClient::Impl {
  Context* context = nullptr;
  Project project;
  std::filesystem::path socket;
  bool connected = false;
  bool running = false;
  int supervisor_pid = 0;
  ReconcileReport reconciled;
  std::optional<std::string> owner_state;  // state.json of a live owner without a socket

  std::string state_key(std::string_view file) const {
    return "run/" + orchestrator::run_key(project) + "/" + std::string(file);
  }

  // One request, one answer. Throws the supervisor's error.
  json::value request(const json::object& body, milliseconds timeout) {
    core::UniqueFd fd = supervisor::connect_unix(socket);
    if (!fd) {
      throw Error(ErrorCode::not_found, "project '" + project.name + "' is not running",
                  "start it with `devx up`");
    }
    if (!supervisor::send_line(fd.get(), core::to_json_string(body))) {
      throw Error(ErrorCode::io, "the supervisor closed the control socket");
    }
    supervisor::LineReader reader(fd.get());
    const auto line = reader.next(timeout);
    if (!line) {
      throw Error(reader.timed_out() ? ErrorCode::timeout : ErrorCode::io,
                  "no answer from the supervisor of '" + project.name + "'");
    }
    const json::object answer = core::parse_json_object_or_throw(*line, "supervisor answer");
    const auto* ok = answer.if_contains("ok");
    if (ok == nullptr || !ok->is_bool() || !ok->get_bool()) {
      const auto* error = answer.if_contains("error");
      throw supervisor::error_from_json(error != nullptr ? *error : json::value());
    }
    const auto* result = answer.if_contains("result");
    return result != nullptr ? *result : json::value();
  }

  std::string not_running_status() const {
    json::object doc{{"v", 1},
                     {"project", project.name},
                     {"running", false},
                     {"supervisor_pid", 0},
                     {"services", json::array()}};
    if (reconciled.found && reconciled.stale) {
      doc["reconciled"] = core::parse_json_or_null(reconciled.to_json());
    }
    return core::to_json_string(doc);
  }

  // The status of a live owner that does not answer, from its state.json.
  std::string owner_status() const {
    json::object doc{{"v", 1}, {"project", project.name}, {"running", true}};
    json::array services;
    if (auto record = orchestrator::parse_run_record(owner_state.value_or(""))) {
      doc["supervisor_pid"] = record->owner_pid;
      for (const auto& n : record->nodes) {
        json::object s{{"name", n.name},         {"kind", n.kind},     {"runtime", n.runtime},
                       {"state", n.state},       {"pid", n.pid},       {"container", n.container},
                       {"restarts", n.restarts}, {"started_at_ms", 0}, {"message", ""}};
        s["port"] = n.port ? json::value(*n.port) : nullptr;
        s["exit_code"] = n.exit_code ? json::value(*n.exit_code) : nullptr;
        services.push_back(std::move(s));
      }
    }
    doc["services"] = std::move(services);
    return core::to_json_string(doc);
  }
};

RunClient::RunClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

bool RunClient::connected() const { return impl_->connected; }
bool RunClient::running() const { return impl_->running; }
int RunClient::supervisor_pid() const { return impl_->supervisor_pid; }
const ReconcileReport& RunClient::reconciled() const { return impl_->reconciled; }

std::string RunClient::status_json() {
  if (impl_->connected) {
    try {
      return core::to_json_string(
          impl_->request({{"v", 1}, {"cmd", "status"}}, milliseconds(10000)));
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
      impl_->connected = impl_->running = false;  // it ended in the meantime
    }
  }
  if (impl_->running) return impl_->owner_status();
  return impl_->not_running_status();
}

std::string RunClient::down(StopOptions options) {
  if (impl_->connected) {
    json::object body{{"v", 1}, {"cmd", "down"}, {"volumes", options.remove_volumes}};
    // Stopping waits for every grace period: no short timeout.
    const std::string status = core::to_json_string(impl_->request(body, milliseconds(600000)));
    // The supervisor removes its socket and exits right after answering.
    impl_->connected = impl_->running = false;
    return status;
  }
  if (impl_->running) {
    throw Error(ErrorCode::locked,
                "project '" + impl_->project.name + "' is being started by pid " +
                    std::to_string(impl_->supervisor_pid) + " and does not answer yet",
                "try again when `devx up` has finished starting, or stop that process");
  }
  if (options.remove_volumes) {
    runtime::remove_host_data(run_directory(*impl_->context, impl_->project) / "data");
  }
  return impl_->not_running_status();
}

std::string RunClient::restart(const std::string& service) {
  if (!impl_->connected) {
    throw Error(ErrorCode::not_found, "project '" + impl_->project.name + "' is not running",
                "start it with `devx up`");
  }
  return core::to_json_string(
      impl_->request({{"v", 1}, {"cmd", "restart"}, {"service", service}}, milliseconds(600000)));
}

void RunClient::events(const std::function<void(const Event&)>& on_event, std::stop_token stop) {
  core::UniqueFd fd = supervisor::connect_unix(impl_->socket);
  if (!fd) {
    throw Error(ErrorCode::not_found, "project '" + impl_->project.name + "' is not running",
                "start it with `devx up`");
  }
  supervisor::send_line(fd.get(), core::to_json_string(json::object{{"v", 1}, {"cmd", "events"}}));
  supervisor::LineReader reader(fd.get());
  while (!stop.stop_requested()) {
    const auto line = reader.next(milliseconds(200));
    if (!line) {
      if (reader.timed_out()) continue;
      return;
    }
    const json::value doc = core::parse_json_or_null(*line);
    if (!doc.is_object()) continue;
    const auto& o = doc.get_object();
    if (o.contains("end")) return;
    if (o.contains("ok")) continue;
    Event event;
    auto text = [&](std::string_view key) {
      const auto* v = o.if_contains(key);
      return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    const std::string type = text("type");
    for (const EventType t : {EventType::progress, EventType::log, EventType::state,
                              EventType::warning, EventType::plan}) {
      if (event_type_name(t) == type) event.type = t;
    }
    const std::string level = text("level");
    for (const LogLevel l :
         {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
      if (log_level_name(l) == level) event.level = l;
    }
    if (const auto* t = o.if_contains("time_ms"); t != nullptr && t->is_int64()) {
      event.time_ms = t->get_int64();
    }
    event.source = text("source");
    event.message = text("message");
    if (const auto* d = o.if_contains("data"); d != nullptr && d->is_object()) {
      event.data_json = core::to_json_string(*d);
    }
    on_event(event);
  }
}

RunClient connect_run(Context& context, const Project& project) {
  auto impl = std::make_shared<RunClient::Impl>();
  impl->context = &context;
  impl->project = project;
  impl->socket = control_socket_path(context, project);
  if (auto text = context.state().read(impl->state_key("supervisor.json"))) {
    const json::value doc = core::parse_json_or_null(*text);
    if (doc.is_object()) {
      if (const auto* s = doc.get_object().if_contains("socket"); s != nullptr && s->is_string()) {
        impl->socket = std::string(s->get_string());
      }
    }
  }
  // A supervisor answers: running.
  try {
    const json::value status = impl->request({{"v", 1}, {"cmd", "status"}}, milliseconds(10000));
    impl->connected = impl->running = true;
    if (status.is_object()) {
      if (const auto* p = status.get_object().if_contains("supervisor_pid");
          p != nullptr && p->is_int64()) {
        impl->supervisor_pid = static_cast<int>(p->get_int64());
      }
    }
    return RunClient(impl);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
  }
  // No answer: either an owner is starting (or runs a Session without a socket), or it is gone.
  impl->reconciled = reconcile_run_state(context, project);
  if (impl->reconciled.found && !impl->reconciled.stale) {
    impl->running = true;
    impl->supervisor_pid = impl->reconciled.owner_pid;
    impl->owner_state = context.state().read(impl->state_key("state.json"));
    return RunClient(impl);
  }
  if (impl->reconciled.stale && !impl->reconciled.containers.empty()) {
    // Containers outlive a SIGKILLed supervisor: remove the run's containers by label.
    try {
      if (auto engine = runtime::ContainerEngine::detect(context.env())) {
        runtime::remove_containers(context, *engine, project.name, orchestrator::run_key(project));
      }
    } catch (const Error& e) {
      context.log(LogLevel::warn, "supervisor",
                  "could not remove containers left by the dead supervisor: " + e.message());
    }
  }
  if (impl->reconciled.stale || !impl->reconciled.found) {
    std::error_code ec;
    context.state().remove(impl->state_key("supervisor.json"));
    if (impl->socket.string().size() <= supervisor::kMaxSocketPath) {
      std::filesystem::remove(impl->socket, ec);
    }
  }
  return RunClient(impl);
}

}  // namespace devx
