// The up/down engine. Threading (docs/orchestration.md, "Threading"):
//  * one thread per started node ("node thread") launches it, runs its probes with backoff, waits
//    for its exit (RunningNode::wait_for doubles as the probe timer, so an exit is noticed at
//    once), and applies the restart policy; it ends when the node ends for good or is stopped;
//  * the runtime's own reader thread delivers output lines (log file, ring buffer, log probe,
//    listeners);
//  * a state writer thread writes state.json after changes (coalesced, off the critical path);
//  * operations (up/down/restart) run on context threads and wait on `changed_`.
// No tiers: whenever a node changes state, the nodes whose dependencies are now satisfied start
// on the spot (schedule_locked), from whichever thread made the change.
// All node bookkeeping is guarded by `mutex_` (recursive: listeners called under it may read
// status()); output bookkeeping by each node's `output_mutex`.
#include "orchestrator/session.hpp"
#include "orchestrator/bridge_runtime.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

#include "core/json.hpp"
#include "orchestrator/environment.hpp"
#include "orchestrator/health_probe.hpp"
#include "orchestrator/log_file.hpp"
#include "orchestrator/run_state.hpp"
#include "orchestrator/tunnel_runtime.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime/database.hpp"
#include "runtime/host_runtime.hpp"
#include "vm/auto_resume.hpp"

namespace devx {
namespace orchestrator {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kRestartBackoffMin{100};
constexpr milliseconds kRestartBackoffMax{30000};
constexpr milliseconds kStableAfter{10000};
constexpr milliseconds kFirstProbeBackoff{2};
constexpr milliseconds kForever{3600 * 1000};

std::int64_t unix_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A service without a command: nothing runs; it is "running" until stopped.
class VirtualNode final : public runtime::RunningNode {
 public:
  int pid() const noexcept override { return 0; }
  std::optional<runtime::ExitStatus> wait_for(milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return stopped_; })) return std::nullopt;
    return runtime::ExitStatus{0, 0};
  }
  runtime::ExitStatus stop(milliseconds) override {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    cv_.notify_all();
    return runtime::ExitStatus{0, 0};
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

class VirtualRuntime final : public runtime::NodeRuntime {
 public:
  std::string name() const override { return "none"; }
  std::unique_ptr<runtime::RunningNode> launch(Context&, const runtime::LaunchSpec&) override {
    return std::make_unique<VirtualNode>();
  }
};

int exit_code_of(const runtime::ExitStatus& status) {
  return status.signal != 0 ? 128 + status.signal : status.exit_code;
}

std::string describe_exit(const runtime::ExitStatus& status) {
  if (status.signal != 0) return "was killed by signal " + std::to_string(status.signal);
  return "exited with status " + std::to_string(status.exit_code);
}

struct Node {
  NodePlan* plan = nullptr;
  std::shared_ptr<runtime::NodeRuntime> runtime;
  milliseconds grace{10000};

  // Guarded by SessionImpl::mutex_.
  ServiceState state = ServiceState::pending;
  bool thread_started = false;
  bool launched = false;    // launched in the current run of the node
  bool ready_once = false;  // ready (healthy / running) at least once since it was (re)started
  bool stop_requested = false;
  int pid = 0;
  std::uint64_t start_time = 0;
  std::string container;
  int restarts = 0;
  std::int64_t started_at_ms = 0;
  std::optional<int> exit_code;
  std::string message;
  std::shared_ptr<runtime::RunningNode> running;
  std::thread thread;
  std::condition_variable_any wake;

  std::mutex output_mutex;
  std::unique_ptr<RotatingLog> log;
  LineRing ring;
  std::optional<std::regex> log_pattern;
  std::atomic<bool> log_matched{false};

  const std::string& name() const { return plan->planned.name; }
  bool settled() const {
    return ready_once || state == ServiceState::completed || state == ServiceState::failed ||
           state == ServiceState::stopped;
  }
};

enum class Outcome { exited, never_healthy, unhealthy };
struct WatchResult {
  runtime::ExitStatus status;
  Outcome outcome = Outcome::exited;
  std::string detail;
};

class SessionImpl final : public Session, public std::enable_shared_from_this<SessionImpl> {
 public:
  SessionImpl(Context& context, Project project, UpOptions options, RuntimeFactory factory)
      : context_(context),
        project_(std::move(project)),
        options_(std::move(options)),
        factory_(std::move(factory)),
        run_dir_(run_directory(context_, project_)),
        state_key_("run/" + run_key(project_) + "/state.json"),
        owner_start_time_(process_start_time(::getpid()).value_or(0)) {}

  ~SessionImpl() override {
    try {
      shutdown({});
    } catch (...) {
      // Never throw from a destructor; the processes are killed by their handles regardless.
    }
  }

  const Project& project() const override { return project_; }

  Operation up() override {
    auto self = shared_from_this();
    return context_.start("up", [self](OperationScope& scope) { return self->do_up(scope); });
  }

  Operation down(StopOptions options) override {
    auto self = shared_from_this();
    return context_.start("down", [self, options = std::move(options)](OperationScope& scope) {
      self->attach(scope);
      try {
        self->shutdown(options);
      } catch (...) {
        self->detach();
        throw;
      }
      self->detach();
      return self->status_json();
    });
  }

  Operation restart(std::string service) override {
    auto self = shared_from_this();
    return context_.start("restart", [self, service = std::move(service)](OperationScope& scope) {
      self->attach(scope);
      try {
        self->do_restart(service);
      } catch (...) {
        self->detach();
        throw;
      }
      self->detach();
      return self->status_json();
    });
  }

  std::vector<ServiceStatus> status() const override {
    std::lock_guard lock(mutex_);
    std::vector<ServiceStatus> out;
    for (const auto& n : nodes_) out.push_back(status_of(*n));
    return out;
  }

  std::string status_json() const override {
    json::object out;
    out["v"] = 1;
    out["project"] = project_.name;
    json::array services;
    for (const auto& s : status()) services.push_back(status_to_json(s));
    out["services"] = std::move(services);
    return core::to_json_string(out);
  }

  std::vector<std::string> recent_output(std::string_view node) const override {
    std::lock_guard lock(mutex_);
    for (const auto& n : nodes_) {
      if (n->name() == node) {
        std::lock_guard out(n->output_mutex);
        return n->ring.lines();
      }
    }
    throw Error(ErrorCode::not_found, "no node named '" + std::string(node) + "' is up");
  }

  int subscribe(std::function<void(const Event&)> listener) override {
    if (!listener) throw Error(ErrorCode::invalid_argument, "subscribe() needs a listener");
    std::lock_guard lock(listeners_mutex_);
    const int id = next_listener_++;
    listeners_[id] = std::make_shared<const std::function<void(const Event&)>>(std::move(listener));
    listener_count_ = static_cast<int>(listeners_.size());
    return id;
  }

  void unsubscribe(int id) override {
    std::lock_guard lock(listeners_mutex_);
    listeners_.erase(id);
    listener_count_ = static_cast<int>(listeners_.size());
  }

 private:
  // ----- events ---------------------------------------------------------------------------------

  void publish(const Event& event) {
    if (listener_count_.load() == 0) return;
    std::vector<std::shared_ptr<const std::function<void(const Event&)>>> snapshot;
    {
      std::lock_guard lock(listeners_mutex_);
      for (const auto& [id, l] : listeners_) snapshot.push_back(l);
    }
    for (const auto& l : snapshot) {
      try {
        (*l)(event);
      } catch (...) {
        // A failing listener must not break the session.
      }
    }
  }

  // With mutex_ held: to the running operation (if any) and the session's listeners.
  void emit_locked(Event event) {
    if (event.time_ms == 0) event.time_ms = unix_ms();
    if (scope_ != nullptr) {
      scope_->emit(event);
    } else if (event.type == EventType::warning) {
      context_.log(LogLevel::warn, event.source, event.message);
    }
    publish(event);
  }

  void attach(OperationScope& scope) {
    std::lock_guard lock(mutex_);
    scope_ = &scope;
  }
  void detach() {
    std::lock_guard lock(mutex_);
    scope_ = nullptr;
  }

  static json::object status_to_json(const ServiceStatus& s) {
    json::object o;
    o["name"] = s.name;
    o["kind"] = s.kind == NodeKind::service ? "service" : "database";
    o["runtime"] = s.runtime;
    o["state"] = to_string(s.state);
    o["pid"] = s.pid;
    o["container"] = s.container;
    o["port"] = s.port ? json::value(*s.port) : nullptr;
    o["restarts"] = s.restarts;
    o["started_at_ms"] = s.started_at_ms;
    o["exit_code"] = s.exit_code ? json::value(*s.exit_code) : nullptr;
    o["message"] = s.message;
    return o;
  }

  ServiceStatus status_of(const Node& n) const {
    ServiceStatus s;
    s.name = n.name();
    s.kind = n.plan->planned.kind;
    s.runtime = n.runtime ? n.runtime->name() : n.plan->planned.runtime;
    s.state = n.state;
    s.pid = n.pid;
    s.container = n.container;
    s.port = n.plan->planned.port;
    s.restarts = n.restarts;
    s.started_at_ms = n.running ? n.started_at_ms : 0;
    s.exit_code = n.exit_code;
    s.message = n.message;
    return s;
  }

  void set_state_locked(Node& n, ServiceState state, std::string message = {}) {
    n.state = state;
    n.message = std::move(message);
    Event event;
    event.type = EventType::state;
    event.source = n.name();
    event.message = n.name() + " " + std::string(to_string(state)) +
                    (n.message.empty() ? "" : ": " + n.message);
    event.level = state == ServiceState::failed || state == ServiceState::unhealthy
                      ? LogLevel::error
                      : LogLevel::info;
    event.data_json = core::to_json_string(status_to_json(status_of(n)));
    emit_locked(std::move(event));
    if (tunnels_ && n.ready_once &&
        (state == ServiceState::healthy || state == ServiceState::running))
      tunnels_->node_ready(n.plan->planned.requested_port, n.plan->planned.port);
    mark_dirty_locked();
    schedule_locked();
    changed_.notify_all();
  }

  void warn_locked(const Node& n, std::string message) {
    Event event;
    event.type = EventType::warning;
    event.level = LogLevel::warn;
    event.source = n.name();
    event.message = std::move(message);
    emit_locked(std::move(event));
  }

  void fail_locked(Node& n, std::string message, ErrorCode code) {
    const auto lines = [&] {
      std::lock_guard out(n.output_mutex);
      return n.ring.lines();
    }();
    set_state_locked(n, ServiceState::failed, message);
    if (!in_up_ || options_.keep_going || up_failure_) return;
    std::string text = "service '" + n.name() + "' " + message;
    if (!lines.empty()) {
      text += "\nlast output:";
      for (const auto& line : lines) text += "\n  " + line;
    }
    json::object details;
    details["node"] = n.name();
    details["exit_code"] = n.exit_code ? json::value(*n.exit_code) : nullptr;
    json::array last;
    for (const auto& line : lines) last.emplace_back(line);
    details["last_lines"] = std::move(last);
    details["log_file"] = (run_dir_ / "logs" / (n.name() + ".log")).string();
    up_failure_ =
        Error(code, text, "see the log file for the whole output", core::to_json_string(details));
  }

  // ----- scheduling
  // -------------------------------------------------------------------------------

  static bool satisfied(const Node& dep, DependencyCondition condition) {
    switch (condition) {
      case DependencyCondition::service_started:
        return dep.launched || dep.ready_once || dep.state == ServiceState::completed;
      case DependencyCondition::service_healthy:
        return dep.ready_once;
      case DependencyCondition::service_completed_successfully:
        return dep.state == ServiceState::completed;
    }
    return false;
  }

  static bool impossible(const Node& dep, DependencyCondition condition) {
    if (dep.state == ServiceState::failed || dep.state == ServiceState::stopped) return true;
    return condition == DependencyCondition::service_healthy &&
           dep.state == ServiceState::completed && !dep.ready_once;
  }

  void schedule_locked() {
    if (!scheduling_) return;
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto& node : nodes_) {
        Node& n = *node;
        if (n.thread_started || n.stop_requested || n.state != ServiceState::pending) continue;
        bool ready = true;
        std::string blocked;
        for (std::size_t k = 0; k < n.plan->deps.size(); ++k) {
          const Node& dep = *nodes_[n.plan->deps[k]];
          const auto condition = n.plan->planned.waits_for[k].condition;
          if (impossible(dep, condition)) {
            blocked = "not started: dependency '" + dep.name() + "' is " +
                      std::string(to_string(dep.state)) + " (" + std::string(to_string(condition)) +
                      ")";
            break;
          }
          if (!satisfied(dep, condition)) ready = false;
        }
        if (!blocked.empty()) {
          scheduling_ = false;  // no recursion from set_state_locked
          n.state = ServiceState::failed;
          n.message = blocked;
          set_state_locked(n, ServiceState::failed, blocked);
          scheduling_ = true;
          changed = true;
          continue;
        }
        if (!ready) continue;
        n.thread_started = true;
        n.thread = std::thread([this, &n] { run_node(n); });
      }
    }
  }

  // ----- node lifecycle -----------------------------------------------------------------------

  runtime::LaunchSpec launch_spec(Node& n) {
    runtime::LaunchSpec spec;
    spec.project = project_.name;
    spec.run_key = run_key(project_);
    spec.name = n.name();
    spec.argv = n.plan->planned.argv;
    spec.cwd = n.plan->planned.cwd;
    spec.env = n.plan->env;
    spec.port = n.plan->planned.port;
    if (n.plan->service != nullptr) {
      spec.image = n.plan->service->image;
      spec.container_port =
          n.plan->service->container_port ? n.plan->service->container_port : n.plan->service->port;
    } else if (n.plan->database != nullptr) {
      spec.image = n.plan->database->version;
      spec.container_port = default_port(n.plan->database->engine);
    }
    spec.data_dir = run_dir_ / "data" / n.name();
    spec.on_line = [this, &n](std::string_view line, bool from_stderr) {
      on_line(n, line, from_stderr);
    };
    return spec;
  }

  void on_line(Node& n, std::string_view line, bool from_stderr) {
    {
      std::lock_guard out(n.output_mutex);
      if (n.log) n.log->write_record(unix_ms(), from_stderr, line);
      n.ring.push(line);
    }
    if (n.log_pattern && !n.log_matched.load() &&
        std::regex_search(line.data(), line.data() + line.size(), *n.log_pattern)) {
      n.log_matched = true;
      std::lock_guard lock(mutex_);
      if (n.state == ServiceState::starting && !n.stop_requested) {
        n.ready_once = true;
        set_state_locked(n, ServiceState::healthy, "log line matched");
      }
    }
    if (listener_count_.load() > 0) {
      Event event;
      event.type = EventType::log;
      event.time_ms = unix_ms();
      event.source = n.name();
      event.message = std::string(line);
      event.level = from_stderr ? LogLevel::warn : LogLevel::info;
      publish(event);
    }
  }

  bool restart_allowed_locked(const Node& n, bool clean) const {
    if (n.plan->service == nullptr) return !clean;  // databases: restart on failure
    const RestartPolicy& policy = n.plan->service->restart;
    switch (policy.kind) {
      case RestartPolicyKind::no:
        return false;
      case RestartPolicyKind::always:
        return true;
      case RestartPolicyKind::on_failure:
        return !clean && (policy.max_retries == 0 || n.restarts < policy.max_retries);
    }
    return false;
  }

  void run_node(Node& n) {
    milliseconds backoff = kRestartBackoffMin;
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (n.stop_requested) {
          set_state_locked(n, ServiceState::stopped);
          return;
        }
      }
      if (n.plan->reservation) n.plan->reservation->release();
      std::shared_ptr<runtime::RunningNode> running;
      std::string launch_error;
      n.log_matched = false;  // before launch: the first line may arrive before launch() returns
      try {
        running = n.runtime->launch(context_, launch_spec(n));
      } catch (const Error& e) {
        launch_error = e.message();
      } catch (const std::exception& e) {
        launch_error = e.what();
      }
      const auto launched_at = SteadyClock::now();
      bool stop_now = false;
      {
        std::lock_guard lock(mutex_);
        if (!running) {
          if (!n.ready_once || !restart_allowed_locked(n, false)) {
            fail_locked(n, "could not start: " + launch_error, ErrorCode::command_failed);
            return;
          }
        } else {
          n.running = running;
          n.pid = running->pid();
          n.start_time = process_start_time(n.pid).value_or(0);
          n.container = running->container();
          n.launched = true;
          n.started_at_ms = unix_ms();
          n.exit_code.reset();
          stop_now = n.stop_requested;
          if (!n.plan->health) {
            n.ready_once = true;
            set_state_locked(n, ServiceState::running);
          } else {
            set_state_locked(n, ServiceState::starting);
            if (n.log_pattern && n.log_matched.load() && !stop_now) {
              n.ready_once = true;  // the ready line came while launch() was returning
              set_state_locked(n, ServiceState::healthy, "log line matched");
            }
          }
        }
      }
      WatchResult result;
      if (running) {
        if (stop_now) running->stop(n.grace);
        result = watch(n, *running);
      }
      std::lock_guard lock(mutex_);
      if (running) n.exit_code = exit_code_of(result.status);
      n.running.reset();
      if (n.stop_requested) {
        set_state_locked(n, ServiceState::stopped);
        return;
      }
      const bool clean = running && result.outcome == Outcome::exited &&
                         result.status.signal == 0 && result.status.exit_code == 0;
      std::string what =
          !running                                   ? "could not start: " + launch_error
          : result.outcome == Outcome::never_healthy ? "never became healthy: " + result.detail
          : result.outcome == Outcome::unhealthy     ? "became unhealthy: " + result.detail
                                                     : describe_exit(result.status);
      if (!n.ready_once) {
        // Still starting: the node fails at once (no restart before it was ever ready).
        if (clean) {
          set_state_locked(n, ServiceState::completed, "exited with status 0");
        } else {
          fail_locked(n, (result.outcome == Outcome::exited ? what + " while starting" : what),
                      result.outcome == Outcome::never_healthy ? ErrorCode::timeout
                                                               : ErrorCode::command_failed);
        }
        return;
      }
      if (!restart_allowed_locked(n, clean)) {
        if (clean) {
          set_state_locked(n, ServiceState::completed, "exited with status 0");
        } else {
          fail_locked(n, what, ErrorCode::command_failed);
        }
        return;
      }
      if (SteadyClock::now() - launched_at >= kStableAfter) backoff = kRestartBackoffMin;
      ++n.restarts;
      warn_locked(n, n.name() + " " + what + "; restarting in " + std::to_string(backoff.count()) +
                         " ms (restart " + std::to_string(n.restarts) + ")");
      set_state_locked(n, ServiceState::starting,
                       "restarting in " + std::to_string(backoff.count()) + " ms");
      const auto until = SteadyClock::now() + backoff;
      n.wake.wait_until(mutex_, until, [&] { return n.stop_requested; });
      backoff = std::min(backoff * 2, kRestartBackoffMax);
    }
  }

  bool stop_requested(Node& n) {
    std::lock_guard lock(mutex_);
    return n.stop_requested;
  }

  WatchResult watch(Node& n, runtime::RunningNode& running) {
    WatchResult result;
    const auto& health = n.plan->health;
    auto exited = [&](const runtime::ExitStatus& status) {
      result.status = status;
      result.outcome = Outcome::exited;
      return result;
    };
    if (!health) {
      while (true) {
        if (auto status = running.wait_for(kForever)) return exited(*status);
      }
    }
    const auto start = SteadyClock::now();
    // Not healthy by start_period + retries × interval: the node never became healthy.
    const auto deadline = start + health->start_period + health->retries * health->interval;
    if (!health->log.empty()) {
      while (true) {
        const auto now = SteadyClock::now();
        const bool matched = n.log_matched.load();
        if (!matched && now >= deadline && !stop_requested(n)) {
          result.status = running.stop(n.grace);
          result.outcome = Outcome::never_healthy;
          result.detail = "no output line matched /" + health->log + "/";
          return result;
        }
        const auto wait =
            matched ? kForever
                    : std::max(milliseconds(1), std::chrono::ceil<milliseconds>(deadline - now));
        if (auto status = running.wait_for(wait)) return exited(*status);
      }
    }
    milliseconds delay{0};
    milliseconds backoff = kFirstProbeBackoff;
    bool healthy = false;
    int failures = 0;
    while (true) {
      if (delay > milliseconds::zero()) {
        if (auto status = running.wait_for(delay)) return exited(*status);
      }
      if (stop_requested(n)) {
        delay = kForever;  // the stopper ends the process; wait_for returns then
        continue;
      }
      const ProbeResult probe =
          run_probe(context_, *health, n.plan->env, n.plan->planned.cwd, stop_.get_token());
      if (auto status = running.wait_for(milliseconds::zero())) return exited(*status);
      const auto now = SteadyClock::now();
      if (probe.healthy) {
        failures = 0;
        if (!healthy) {
          healthy = true;
          std::lock_guard lock(mutex_);
          if (!n.stop_requested) {
            n.ready_once = true;
            set_state_locked(n, ServiceState::healthy, probe.detail);
          }
        }
        delay = health->interval;
        continue;
      }
      if (!healthy && n.state != ServiceState::unhealthy) {
        if (now >= deadline) {
          if (stop_requested(n)) continue;
          result.status = running.stop(n.grace);
          result.outcome = Outcome::never_healthy;
          result.detail = probe.detail;
          return result;
        }
        backoff = std::min(backoff * 2, health->interval);
        delay = std::min(
            backoff, std::max(milliseconds(1), std::chrono::ceil<milliseconds>(deadline - now)));
        continue;
      }
      // Was healthy: `retries` consecutive failures, one per interval, make it unhealthy.
      delay = health->interval;
      if (++failures < health->retries) continue;
      bool restart = false;
      {
        std::lock_guard lock(mutex_);
        if (healthy) {
          healthy = false;
          set_state_locked(n, ServiceState::unhealthy, probe.detail);
        }
        restart = restart_allowed_locked(n, false) && !n.stop_requested;
      }
      if (restart) {
        result.status = running.stop(n.grace);
        result.outcome = Outcome::unhealthy;
        result.detail = probe.detail;
        return result;
      }
    }
  }

  // Stops one node (its thread ends). Without mutex_ held.
  void stop_node(Node& n) {
    std::shared_ptr<runtime::RunningNode> running;
    {
      std::lock_guard lock(mutex_);
      n.stop_requested = true;
      running = n.running;
      if (running) set_state_locked(n, ServiceState::stopping);
      n.wake.notify_all();
    }
    if (running) running->stop(n.grace);
    if (n.thread.joinable()) n.thread.join();
    std::lock_guard lock(mutex_);
    n.running.reset();
    if (n.state == ServiceState::pending || n.state == ServiceState::stopping) {
      set_state_locked(n, ServiceState::stopped);
    }
  }

  // Stops `targets` (indices) and their dependents, dependents first; nodes whose dependents are
  // all stopped stop in parallel.
  void stop_nodes(std::vector<bool> targets) {
    const std::size_t count = nodes_.size();
    for (std::size_t i = count; i-- > 0;) {
      if (!targets[i]) continue;
      for (const std::size_t d : nodes_[i]->plan->dependents) targets[d] = true;
    }
    // Nodes are in topological order, so dependents come later: propagate forward once more.
    for (std::size_t i = 0; i < count; ++i) {
      if (!targets[i]) continue;
      for (const std::size_t d : nodes_[i]->plan->dependents) targets[d] = true;
    }
    std::vector<int> level(count, 0);
    int top = 0;
    for (std::size_t i = count; i-- > 0;) {
      for (const std::size_t d : nodes_[i]->plan->dependents) {
        if (targets[d]) level[i] = std::max(level[i], level[d] + 1);
      }
      top = std::max(top, level[i]);
    }
    for (int l = 0; l <= top; ++l) {
      std::vector<std::thread> stoppers;
      for (std::size_t i = 0; i < count; ++i) {
        if (targets[i] && level[i] == l)
          stoppers.emplace_back([this, i] { stop_node(*nodes_[i]); });
      }
      for (auto& t : stoppers) t.join();
    }
  }

  // ----- state file ---------------------------------------------------------------------------

  void mark_dirty_locked() {
    dirty_ = true;
    writer_cv_.notify_all();
  }

  std::string record_json_locked() const {
    RunRecord record;
    record.project = project_.name;
    record.run_key = run_key(project_);
    record.root_file = project_.root_file.string();
    record.owner_pid = ::getpid();
    record.owner_start_time = owner_start_time_;
    record.updated_ms = unix_ms();
    for (const auto& node : nodes_) {
      const Node& n = *node;
      NodeRecord r;
      r.name = n.name();
      r.kind = n.plan->planned.kind == NodeKind::service ? "service" : "database";
      r.runtime = n.runtime ? n.runtime->name() : n.plan->planned.runtime;
      r.state = std::string(to_string(n.state));
      r.pid = n.running ? n.pid : 0;
      r.pgid = r.pid;  // the host runtime makes every node a process-group leader
      r.start_time = n.running ? n.start_time : 0;
      r.container = n.container;
      r.port = n.plan->planned.port;
      r.restarts = n.restarts;
      r.exit_code = n.exit_code;
      record.nodes.push_back(std::move(r));
    }
    return to_json(record);
  }

  void writer_loop(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (true) {
      writer_cv_.wait(lock, [&] { return dirty_ || stop.stop_requested(); });
      if (!dirty_) return;
      dirty_ = false;
      const std::string text = record_json_locked();
      lock.unlock();
      try {
        context_.state().write(state_key_, text);
      } catch (...) {
        // Disk trouble must not take the services down; the next change retries.
      }
      lock.lock();
    }
  }

  // ----- operations ---------------------------------------------------------------------------

  std::string do_up(OperationScope& scope) {
    {
      std::lock_guard lock(mutex_);
      if (active_) {
        throw Error(ErrorCode::already_exists,
                    "project '" + project_.name + "' is already up in this session");
      }
    }
    if (!lock_fd_) lock_fd_ = acquire_run_lock(run_dir_, project_.name);
    try {
      const ReconcileReport stale = reconcile_run_state(context_, project_);
      for (const auto& killed : stale.killed) {
        scope.emit(Event{EventType::warning,
                         0,
                         "orchestrator",
                         "killed " + killed + " left by a previous session (pid " +
                             std::to_string(stale.owner_pid) + ") that is gone",
                         LogLevel::warn,
                         {}});
      }
      plan_ = build_plan(context_, project_, options_, true);
      nodes_.clear();
      for (auto& planned : plan_.nodes) {
        auto node = std::make_unique<Node>();
        node->plan = &planned;
        node->runtime = factory_(context_, planned);
        if (planned.service != nullptr) node->grace = planned.service->stop_grace_period;
        if (planned.health && !planned.health->log.empty()) {
          try {
            node->log_pattern.emplace(planned.health->log,
                                      std::regex::ECMAScript | std::regex::optimize);
          } catch (const std::regex_error& e) {
            throw Error(ErrorCode::config_invalid,
                        "service '" + planned.planned.name +
                            "': invalid healthcheck.log regex: " + e.what());
          }
        }
        node->log =
            std::make_unique<RotatingLog>(run_dir_ / "logs" / (planned.planned.name + ".log"),
                                          log_max_bytes(), RotatingLog::kDefaultFiles);
        nodes_.push_back(std::move(node));
      }
      std::vector<std::optional<int>> node_ports;
      for (const auto& planned : plan_.nodes) node_ports.push_back(planned.planned.requested_port);
      auto tunnels = start_up_tunnels(context_, project_, node_ports, [this](Event event) {
        std::lock_guard lock(mutex_);
        emit_locked(std::move(event));
      });
      std::lock_guard lock(mutex_);
      tunnels_ = std::move(tunnels);
    } catch (...) {
      nodes_.clear();
      lock_fd_.reset();
      throw;
    }
    scope.emit(
        Event{EventType::plan, 0, "orchestrator", "plan", LogLevel::info, plan_.up.to_json()});
    writer_ = std::jthread([this](std::stop_token stop) { writer_loop(stop); });

    std::unique_lock lock(mutex_);
    scope_ = &scope;
    active_ = true;
    in_up_ = true;
    up_failure_.reset();
    scheduling_ = true;
    mark_dirty_locked();
    schedule_locked();
    std::stop_callback on_cancel(scope.stop_token(), [this] {
      std::lock_guard l(mutex_);
      changed_.notify_all();
    });
    changed_.wait(lock, [&] {
      if (up_failure_ || scope.cancelled()) return true;
      for (const auto& n : nodes_) {
        if (!n->settled()) return false;
      }
      return true;
    });
    in_up_ = false;
    std::optional<Error> failure = up_failure_;
    if (!failure && scope.cancelled()) failure = Error(ErrorCode::cancelled, "up was cancelled");
    if (failure && (!options_.keep_going || scope.cancelled())) {
      lock.unlock();
      shutdown({});
      lock.lock();
      scope_ = nullptr;
      throw *failure;
    }
    scope_ = nullptr;
    std::vector<std::string> failed;
    for (const auto& n : nodes_) {
      if (n->state == ServiceState::failed) failed.push_back(n->name() + ": " + n->message);
    }
    lock.unlock();
    if (!failed.empty()) {
      std::string text = "some services failed (--keep-going: the others keep running):";
      for (const auto& f : failed) text += "\n  " + f;
      throw Error(ErrorCode::command_failed, text);
    }
    return status_json();
  }

  void shutdown(const StopOptions& options) {
    std::vector<bool> targets;
    {
      std::lock_guard lock(mutex_);
      if (!active_) return;
      targets.assign(nodes_.size(), options.only.empty());
      for (const auto& name : options.only) {
        bool found = false;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
          if (nodes_[i]->name() == name) targets[i] = found = true;
        }
        if (!found) throw Error(ErrorCode::not_found, "no node named '" + name + "' is up");
      }
      if (options.only.empty()) scheduling_ = false;
    }
    if (options.only.empty()) {
      // Routes go before the services behind them; stopped outside mutex_ (the tunnels' worker
      // reports through it).
      std::unique_ptr<UpTunnels> tunnels;
      {
        std::lock_guard lock(mutex_);
        tunnels = std::move(tunnels_);
      }
      if (tunnels) tunnels->stop();
    }
    stop_nodes(targets);
    if (options.remove_volumes) {
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!targets[i] || nodes_[i]->plan->database == nullptr) continue;
        try {
          runtime::remove_host_data(run_dir_ / "data" / nodes_[i]->name());
        } catch (const Error&) {
        }
      }
    }
    if (!options.only.empty()) return;
    writer_.request_stop();
    {
      std::lock_guard lock(mutex_);
      writer_cv_.notify_all();
    }
    if (writer_.joinable()) writer_.join();
    context_.state().remove(state_key_);
    std::lock_guard lock(mutex_);
    active_ = false;
    lock_fd_.reset();
  }

  void do_restart(const std::string& service) {
    Node* target = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (!active_) throw Error(ErrorCode::not_found, "project '" + project_.name + "' is not up");
      for (auto& n : nodes_) {
        if (n->name() == service) target = n.get();
      }
      if (target == nullptr)
        throw Error(ErrorCode::not_found, "no node named '" + service + "' is up");
    }
    stop_node(*target);
    std::unique_lock lock(mutex_);
    Node& n = *target;
    n.stop_requested = false;
    n.thread_started = true;
    n.ready_once = false;
    n.launched = false;
    ++n.restarts;
    n.state = ServiceState::pending;
    n.thread = std::thread([this, &n] { run_node(n); });
    changed_.wait(lock, [&] {
      return n.ready_once || n.state == ServiceState::failed ||
             n.state == ServiceState::completed || n.state == ServiceState::stopped;
    });
    if (n.state == ServiceState::failed) {
      throw Error(ErrorCode::command_failed, "service '" + service + "' " + n.message);
    }
  }

  std::uint64_t log_max_bytes() const {
    const auto& env = context_.env();
    if (auto it = env.find("DEVX_LOG_MAX_BYTES"); it != env.end()) {
      const auto value = std::strtoull(it->second.c_str(), nullptr, 10);
      if (value > 0) return value;
    }
    return RotatingLog::kDefaultMaxBytes;
  }

  Context& context_;
  const Project project_;
  const UpOptions options_;
  const RuntimeFactory factory_;
  const std::filesystem::path run_dir_;
  const std::string state_key_;
  // Read once (not under mutex_ on every state write): it cannot change while we run.
  const std::uint64_t owner_start_time_;

  mutable std::recursive_mutex mutex_;
  std::condition_variable_any changed_;
  std::condition_variable_any writer_cv_;
  Plan plan_;
  std::vector<std::unique_ptr<Node>> nodes_;
  bool active_ = false;
  bool in_up_ = false;
  bool scheduling_ = false;
  bool dirty_ = false;
  std::optional<Error> up_failure_;
  OperationScope* scope_ = nullptr;
  core::UniqueFd lock_fd_;
  std::unique_ptr<UpTunnels> tunnels_;  // the project's `tunnels:`, while up
  std::jthread writer_;
  std::stop_source stop_;

  std::mutex listeners_mutex_;
  std::map<int, std::shared_ptr<const std::function<void(const Event&)>>> listeners_;
  int next_listener_ = 1;
  std::atomic<int> listener_count_{0};
};

}  // namespace

RuntimeFactory default_runtime_factory(std::string container_engine) {
  auto host = runtime::make_host_runtime();
  auto none = std::make_shared<VirtualRuntime>();
  // Containers need the dev VM running: wake it once, before the first container node.
  auto vm_resumed = std::make_shared<std::once_flag>();
  auto before_containers = [vm_resumed](Context& context, const NodePlan& node) {
    if (context.dry_run() || node.project == nullptr) return;
    std::call_once(*vm_resumed,
                   [&] { vm::resume_for_containers(context, node.project->root_dir); });
  };
  return [host, none, container_engine, before_containers](
             Context& context, NodePlan& node) -> std::shared_ptr<runtime::NodeRuntime> {
    if (node.database != nullptr) {
      const Database& db = *node.database;
      const auto choice = runtime::choose_database_runtime(context, db, container_engine);
      if (choice.placement == runtime::DatabasePlacement::container)
        before_containers(context, node);
      // The engine's own readiness probe replaces the plan's tcp check.
      HealthCheck health = node.health.value_or(HealthCheck{});
      health.tcp.clear();
      health.exec = runtime::readiness_probe_argv(context, node.run_key, db, choice,
                                                  node.planned.port.value_or(0));
      node.health = std::move(health);
      node.planned.runtime = std::string(runtime::to_string(choice.placement));
      return runtime::make_database_runtime(db, choice);
    }
    switch (node.service->runtime) {
      case ServiceRuntime::host:
        return node.service->command.empty() ? std::shared_ptr<runtime::NodeRuntime>(none) : host;
      case ServiceRuntime::bridge:
        return make_bridge_runtime(*node.project, *node.service);
      case ServiceRuntime::container:
        before_containers(context, node);
        return std::make_shared<runtime::ContainerRuntime>(
            runtime::ContainerEngine::detect_or_throw(context, container_engine));
      case ServiceRuntime::kubernetes:
      case ServiceRuntime::cloud:
        break;
    }
    throw Error(ErrorCode::unsupported, "service '" + node.planned.name + "': runtime '" +
                                            std::string(to_string(node.service->runtime)) +
                                            "' is not supported yet");
  };
}

std::shared_ptr<Session> create_session(Context& context, Project project, UpOptions options,
                                        RuntimeFactory factory) {
  return std::make_shared<SessionImpl>(context, std::move(project), std::move(options),
                                       std::move(factory));
}

}  // namespace orchestrator

std::shared_ptr<Session> Session::create(Context& context, Project project, UpOptions options) {
  auto factory = orchestrator::default_runtime_factory(options.container_engine);
  return orchestrator::create_session(context, std::move(project), std::move(options),
                                      std::move(factory));
}

std::string_view to_string(ServiceState state) noexcept {
  switch (state) {
    case ServiceState::pending:
      return "pending";
    case ServiceState::starting:
      return "starting";
    case ServiceState::running:
      return "running";
    case ServiceState::healthy:
      return "healthy";
    case ServiceState::unhealthy:
      return "unhealthy";
    case ServiceState::completed:
      return "completed";
    case ServiceState::failed:
      return "failed";
    case ServiceState::stopping:
      return "stopping";
    case ServiceState::stopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace devx
