// run_supervisor: a Session behind a control socket. Threading: the operation's thread brings the
// project up and then accepts connections; each connection gets a handler thread (one request);
// `events` connections are fed from the session's listener thread(s) through the Hub. Every
// thread is joined before the operation returns.
#include <devx/error.hpp>
#include <devx/supervisor.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "orchestrator/plan.hpp"
#include "orchestrator/run_state.hpp"
#include "supervisor/control_socket.hpp"

namespace devx {
namespace supervisor {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Subscribers of the `events` command.
class Hub {
 public:
  void add(int fd) {
    std::lock_guard lock(mutex_);
    fds_.insert(fd);
  }
  void remove(int fd) {
    std::lock_guard lock(mutex_);
    fds_.erase(fd);
  }
  void broadcast(const std::string& line) {
    std::lock_guard lock(mutex_);
    for (auto it = fds_.begin(); it != fds_.end();) {
      // A subscriber that cannot keep up is dropped (its handler sees the shutdown and closes).
      if (!send_line(*it, line)) {
        ::shutdown(*it, SHUT_RDWR);
        it = fds_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  std::mutex mutex_;
  std::set<int> fds_;
};

// The status document of a supervisor: the session's plus running / supervisor_pid.
std::string status_document(const std::string& session_status, bool running) {
  json::value doc = core::parse_json_or_null(session_status);
  if (!doc.is_object()) doc = json::object{{"v", 1}};
  auto& o = doc.get_object();
  o["running"] = running;
  o["supervisor_pid"] = running ? ::getpid() : 0;
  return core::to_json_string(doc);
}

std::string ok_line(const std::string& result_json) {
  json::object out{{"v", 1}, {"ok", true}};
  out["result"] = core::parse_json_or_null(result_json);
  return core::to_json_string(out);
}

std::string error_line(const Error& error) {
  json::object out{{"v", 1}, {"ok", false}};
  out["error"] = core::parse_json_or_null(error.to_json());
  return core::to_json_string(out);
}

class Supervisor {
 public:
  Supervisor(Context& context, Project project, UpOptions options, SupervisorOptions hooks)
      : context_(context),
        project_(std::move(project)),
        options_(std::move(options)),
        hooks_(std::move(hooks)),
        run_dir_(run_directory(context_, project_)),
        key_(orchestrator::run_key(project_)),
        wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  std::string run(OperationScope& scope) {
    scope_ = &scope;
    std::error_code ec;
    std::filesystem::create_directories(run_dir_, ec);
    std::filesystem::remove(run_dir_ / "supervisor-error.json", ec);
    session_ = Session::create(context_, project_, options_);
    const int subscription = session_->subscribe([this](const Event& e) { sink(e); });
    struct Unsubscribe {
      Supervisor* self;
      int id;
      ~Unsubscribe() { self->session_->unsubscribe(id); }
    } unsubscribe{this, subscription};

    std::string status;
    try {
      Operation up = session_->up();
      up.on_event([this](const Event& e) {
        // State changes, warnings and output reach sink() through the subscription; the plan and
        // the reconciliation warnings exist only on the operation.
        if (e.type == EventType::plan || e.type == EventType::progress ||
            (e.type == EventType::warning && e.source == "orchestrator")) {
          sink(e);
        }
      });
      std::stop_callback cancel_up(scope.stop_token(), [up]() mutable { up.cancel(); });
      status = up.result();
      serve(scope, status);
    } catch (const Error& e) {
      record_failure(e);
      throw;
    }
    return final_status_;
  }

 private:
  void sink(const Event& e) {
    if (e.type != EventType::log && scope_ != nullptr) scope_->emit(e);
    if (hooks_.on_event) hooks_.on_event(e);
    if (subscribers_.load() > 0) hub_.broadcast(e.to_json());
  }

  void record_failure(const Error& e) {
    try {
      std::error_code ec;
      std::filesystem::create_directories(run_dir_, ec);
      context_.state().write("run/" + key_ + "/supervisor-error.json", e.to_json());
    } catch (...) {
      // The error still reaches the caller through the operation.
    }
  }

  void serve(OperationScope& scope, const std::string& up_status) {
    socket_path_ = socket_path_for(run_dir_, key_);
    core::UniqueFd listener;
    try {
      listener = listen_unix(socket_path_);
      json::object record{{"v", 1},
                          {"pid", ::getpid()},
                          {"start_time", orchestrator::process_start_time(::getpid()).value_or(0)},
                          {"socket", socket_path_.string()},
                          {"started_ms", unix_ms()}};
      context_.state().write("run/" + key_ + "/supervisor.json", core::to_json_string(record));
    } catch (...) {
      stop_session({});
      throw;
    }
    if (hooks_.on_ready) hooks_.on_ready(status_document(up_status, true));

    std::stop_callback on_cancel(scope.stop_token(), [this] { wake(); });
    while (!woken()) {
      pollfd fds[2] = {{listener.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      const int ready = ::poll(fds, 2, -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if ((fds[0].revents & POLLIN) == 0) continue;
      core::UniqueFd client(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!client) continue;
      std::lock_guard lock(handlers_mutex_);
      handlers_.emplace_back(
          [this, fd = std::make_shared<core::UniqueFd>(std::move(client))] { handle(*fd); });
    }
    listener.reset();
    std::error_code ec;
    std::filesystem::remove(socket_path_, ec);
    stop_session({});
    hub_.broadcast(core::to_json_string(json::object{{"v", 1}, {"end", true}}));
    wake();
    {
      std::vector<std::thread> handlers;
      {
        std::lock_guard lock(handlers_mutex_);
        handlers.swap(handlers_);
      }
      for (auto& t : handlers) t.join();
    }
    context_.state().remove("run/" + key_ + "/supervisor.json");
  }

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
  }
  bool woken() const {
    pollfd p{wake_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  // Stops everything once; later calls return the same final status.
  std::string stop_session(const StopOptions& options) {
    std::lock_guard lock(down_mutex_);
    if (!stopped_) {
      std::string status = session_->down(options).result();
      final_status_ = status_document(status, false);
      stopped_ = true;
    }
    return final_status_;
  }

  void handle(core::UniqueFd& fd) {
    LineReader reader(fd.get());
    const auto line = reader.next(milliseconds(10000));
    if (!line) return;
    try {
      const json::object request = core::parse_json_object_or_throw(*line, "control request");
      const auto* cmd = request.if_contains("cmd");
      const std::string command =
          cmd != nullptr && cmd->is_string() ? std::string(cmd->get_string()) : std::string();
      if (command == "status") {
        send_line(fd.get(), ok_line(status_document(session_->status_json(), !stopped_)));
      } else if (command == "restart") {
        const auto* service = request.if_contains("service");
        if (service == nullptr || !service->is_string()) {
          throw Error(ErrorCode::invalid_argument, "restart needs a \"service\"");
        }
        session_->restart(std::string(service->get_string())).result();
        send_line(fd.get(), ok_line(status_document(session_->status_json(), true)));
      } else if (command == "down") {
        StopOptions options;
        if (const auto* v = request.if_contains("volumes"); v != nullptr && v->is_bool()) {
          options.remove_volumes = v->get_bool();
        }
        const std::string status = stop_session(options);
        send_line(fd.get(), ok_line(status));
        wake();
      } else if (command == "events") {
        send_line(fd.get(), core::to_json_string(json::object{{"v", 1}, {"ok", true}}));
        hub_.add(fd.get());
        ++subscribers_;
        // Until the client hangs up or the supervisor ends.
        pollfd fds[2] = {{fd.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
        while (true) {
          if (::poll(fds, 2, -1) < 0 && errno == EINTR) continue;
          if (fds[1].revents != 0) break;
          char buffer[256];
          if (::recv(fd.get(), buffer, sizeof buffer, 0) <= 0) break;
        }
        --subscribers_;
        hub_.remove(fd.get());
      } else {
        throw Error(ErrorCode::invalid_argument, "unknown control command '" + command + "'",
                    "use status, down, restart or events");
      }
    } catch (const Error& e) {
      send_line(fd.get(), error_line(e));
    } catch (const std::exception& e) {
      send_line(fd.get(), error_line(Error(ErrorCode::internal, e.what())));
    }
  }

  Context& context_;
  const Project project_;
  const UpOptions options_;
  const SupervisorOptions hooks_;
  const std::filesystem::path run_dir_;
  const std::string key_;
  core::UniqueFd wake_;
  OperationScope* scope_ = nullptr;
  std::shared_ptr<Session> session_;
  std::filesystem::path socket_path_;
  Hub hub_;
  std::atomic<int> subscribers_{0};
  std::mutex handlers_mutex_;
  std::vector<std::thread> handlers_;
  std::mutex down_mutex_;
  std::atomic<bool> stopped_{false};
  std::string final_status_;
};

}  // namespace
}  // namespace supervisor

Operation run_supervisor(Context& context, Project project, UpOptions options,
                         SupervisorOptions hooks) {
  auto supervisor = std::make_shared<supervisor::Supervisor>(context, std::move(project),
                                                             std::move(options), std::move(hooks));
  return context.start("supervise",
                       [supervisor](OperationScope& scope) { return supervisor->run(scope); });
}

std::filesystem::path control_socket_path(const Context& context, const Project& project) {
  return supervisor::socket_path_for(run_directory(context, project),
                                     orchestrator::run_key(project));
}

}  // namespace devx
