// Context: options, environment snapshot, DEVX_HOME, the seams, logging and the operations'
// worker threads. Nothing here is process-global: two contexts share no state (not even spdlog's
// logger registry), and everything a context starts is stopped and joined by its destructor.
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <pwd.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/operation_state.hpp"
#include "core/process_runner.hpp"
#include "core/unique_fd.hpp"

extern char** environ;  // NOLINT: POSIX

namespace devx {
namespace {

using core::UniqueFd;

std::int64_t to_unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Subscribers and the event fd of one context. Shared with the context's operations, which may
// outlive it (an Operation handle kept by the caller); close() makes it inert.
class EventHub {
 public:
  EventHub() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!fd_) {
      throw Error(ErrorCode::io, std::string("eventfd: ") + std::strerror(errno));  // NOLINT
    }
  }

  int fd() const noexcept { return fd_.get(); }

  int subscribe(std::function<void(const Event&)> listener) {
    if (!listener) throw Error(ErrorCode::invalid_argument, "subscribe() needs a listener");
    std::lock_guard lock(mutex_);
    const int id = next_id_++;
    listeners_.emplace(id, std::make_shared<const Listener>(std::move(listener)));
    return id;
  }

  void unsubscribe(int id) {
    std::lock_guard lock(mutex_);
    listeners_.erase(id);
  }

  // Calls every listener on this thread, outside the lock (a listener may (un)subscribe or log).
  void publish(const Event& event) {
    std::vector<std::shared_ptr<const Listener>> snapshot;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      snapshot.reserve(listeners_.size());
      for (const auto& [id, listener] : listeners_) snapshot.push_back(listener);
    }
    for (const auto& listener : snapshot) {
      try {
        (*listener)(event);
      } catch (...) {
        // A failing listener must not break the operation or the other listeners.
      }
    }
  }

  void notify() noexcept {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof one);
  }

  void close() noexcept {
    std::lock_guard lock(mutex_);
    closed_ = true;
    listeners_.clear();
    fd_.reset();
  }

 private:
  using Listener = std::function<void(const Event&)>;
  std::mutex mutex_;
  std::map<int, std::shared_ptr<const Listener>> listeners_;
  int next_id_ = 1;
  bool closed_ = false;
  UniqueFd fd_;
};

LogLevel from_spdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return LogLevel::trace;
    case spdlog::level::debug:
      return LogLevel::debug;
    case spdlog::level::info:
      return LogLevel::info;
    case spdlog::level::warn:
      return LogLevel::warn;
    case spdlog::level::err:
    case spdlog::level::critical:
      return LogLevel::error;
    default:
      return LogLevel::off;
  }
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::off;
}

// Turns spdlog records into log events. null_mutex: EventHub is thread-safe, and a listener that
// logs again must not deadlock on a sink mutex.
class EventSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  EventSink(std::shared_ptr<EventHub> hub, std::function<std::int64_t()> now_ms)
      : hub_(std::move(hub)), now_ms_(std::move(now_ms)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    Event event;
    event.type = EventType::log;
    event.time_ms = now_ms_ ? now_ms_() : to_unix_ms(msg.time);
    event.source.assign(msg.logger_name.data(), msg.logger_name.size());
    event.message.assign(msg.payload.data(), msg.payload.size());
    event.level = from_spdlog(msg.level);
    hub_->publish(event);
  }
  void flush_() override {}

 private:
  std::shared_ptr<EventHub> hub_;
  std::function<std::int64_t()> now_ms_;
};

// The home directory from the passwd entry: $HOME may be stale under sudo or in services.
std::optional<std::string> passwd_home() {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
  while (true) {
    passwd entry{};
    passwd* found = nullptr;
    const int rc = ::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1U << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr || found->pw_dir == nullptr || found->pw_dir[0] == '\0') {
      return std::nullopt;
    }
    return std::string(found->pw_dir);
  }
}

std::filesystem::path resolve_home(const ContextOptions& options,
                                   const std::map<std::string, std::string>& env) {
  std::filesystem::path home = options.devx_home;
  if (home.empty()) {
    if (const auto it = env.find("DEVX_HOME"); it != env.end() && !it->second.empty()) {
      home = it->second;
    } else if (auto user_home = passwd_home()) {
      home = std::filesystem::path(*user_home) / ".devx";
    } else if (const auto h = env.find("HOME"); h != env.end() && !h->second.empty()) {
      home = std::filesystem::path(h->second) / ".devx";
    } else {
      throw Error(ErrorCode::not_found, "cannot determine the home directory of this user",
                  "set DEVX_HOME to the directory devx should keep its state in");
    }
  }
  return std::filesystem::absolute(home).lexically_normal();
}

}  // namespace

struct Context::Impl {
  ContextOptions options;
  std::map<std::string, std::string> env;
  std::filesystem::path home;
  std::shared_ptr<EventHub> hub = std::make_shared<EventHub>();

  mutable std::mutex seams_mutex;
  std::shared_ptr<CommandRunner> runner;
  std::shared_ptr<HttpClient> http;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<StateStore> state;
  std::shared_ptr<PortAllocator> ports;
  // Seams that were replaced: kept alive so references handed out earlier never dangle.
  std::vector<std::shared_ptr<void>> retired;

  std::mutex log_mutex;
  std::shared_ptr<EventSink> sink;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;

  struct Worker {
    std::shared_ptr<OperationState> state;
    std::jthread thread;
  };
  std::mutex workers_mutex;
  std::list<Worker> workers;

  std::shared_ptr<Clock> current_clock() const {
    std::lock_guard lock(seams_mutex);
    return clock;
  }

  template <typename T>
  T& get(const std::shared_ptr<T>& seam) const {
    std::lock_guard lock(seams_mutex);
    return *seam;
  }

  template <typename T>
  void replace(std::shared_ptr<T>& seam, std::shared_ptr<T> next, const char* what) {
    if (!next) throw Error(ErrorCode::invalid_argument, std::string(what) + " must not be null");
    std::lock_guard lock(seams_mutex);
    retired.push_back(std::move(seam));
    seam = std::move(next);
  }

  spdlog::logger& logger_for(std::string_view source) {
    // Loggers are created directly (never through spdlog::create/registry), one per source, all
    // writing into this context's sink.
    std::lock_guard lock(log_mutex);
    if (auto it = loggers.find(source); it != loggers.end()) return *it->second;
    auto logger = std::make_shared<spdlog::logger>(std::string(source), sink);
    logger->set_level(to_spdlog(options.log_level));
    // spdlog's default error handler prints to stderr; a library must stay silent.
    logger->set_error_handler([](const std::string&) {});
    return *loggers.emplace(std::string(source), std::move(logger)).first->second;
  }
};

Context::Context(ContextOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.options = std::move(options);
  impl.env = impl.options.env ? *impl.options.env : core::process_environment();
  impl.home = resolve_home(impl.options, impl.env);
  // Children inherit the snapshot, like everything else in the library (and no racy reads of
  // environ while the host may call setenv).
  impl.runner = core::make_system_command_runner(impl.env);
  impl.http = make_curl_http_client();
  impl.clock = make_system_clock();
  impl.state = make_file_state_store(impl.home);
  impl.ports = make_system_port_allocator();
  impl.sink = std::make_shared<EventSink>(
      impl.hub, [&impl] { return to_unix_ms(impl.current_clock()->now()); });
}

Context::~Context() {
  std::list<Impl::Worker> workers;
  {
    std::lock_guard lock(impl_->workers_mutex);
    workers.swap(impl_->workers);
  }
  for (auto& worker : workers) worker.state->cancel();
  for (auto& worker : workers) {
    // A context destroyed from one of its own operations cannot join that thread.
    if (worker.thread.get_id() == std::this_thread::get_id()) worker.thread.detach();
  }
  workers.clear();  // joins
  impl_->hub->close();
}

const ContextOptions& Context::options() const noexcept { return impl_->options; }
const std::filesystem::path& Context::home() const noexcept { return impl_->home; }
const std::map<std::string, std::string>& Context::env() const noexcept { return impl_->env; }
bool Context::dry_run() const noexcept { return impl_->options.dry_run; }

CommandRunner& Context::commands() { return impl_->get(impl_->runner); }
HttpClient& Context::http() { return impl_->get(impl_->http); }
const Clock& Context::clock() const { return impl_->get(impl_->clock); }
StateStore& Context::state() { return impl_->get(impl_->state); }
PortAllocator& Context::ports() { return impl_->get(impl_->ports); }

void Context::set_command_runner(std::shared_ptr<CommandRunner> runner) {
  impl_->replace(impl_->runner, std::move(runner), "command runner");
}
void Context::set_http_client(std::shared_ptr<HttpClient> client) {
  impl_->replace(impl_->http, std::move(client), "HTTP client");
}
void Context::set_clock(std::shared_ptr<Clock> clock) {
  impl_->replace(impl_->clock, std::move(clock), "clock");
}
void Context::set_state_store(std::shared_ptr<StateStore> store) {
  impl_->replace(impl_->state, std::move(store), "state store");
}
void Context::set_port_allocator(std::shared_ptr<PortAllocator> ports) {
  impl_->replace(impl_->ports, std::move(ports), "port allocator");
}

void Context::log(LogLevel level, std::string_view source, std::string_view message) {
  if (level == LogLevel::off || level < impl_->options.log_level) return;
  impl_->logger_for(source).log(to_spdlog(level),
                                spdlog::string_view_t(message.data(), message.size()));
}

int Context::subscribe(std::function<void(const Event&)> listener) {
  return impl_->hub->subscribe(std::move(listener));
}

void Context::unsubscribe(int id) { impl_->hub->unsubscribe(id); }

int Context::event_fd() const noexcept { return impl_->hub->fd(); }

Operation Context::start(std::string kind, std::function<std::string(OperationScope&)> work) {
  if (!work) throw Error(ErrorCode::invalid_argument, "Context::start() needs work to run");
  std::shared_ptr<EventHub> hub = impl_->hub;
  std::shared_ptr<Clock> clock = impl_->current_clock();
  auto state = std::make_shared<OperationState>(
      std::move(kind),
      [hub](const Event* event) {
        if (event != nullptr) hub->publish(*event);
        hub->notify();
      },
      [clock] { return to_unix_ms(clock->now()); });

  std::lock_guard lock(impl_->workers_mutex);
  // Join the threads of operations that already finished (they are exiting or gone).
  for (auto it = impl_->workers.begin(); it != impl_->workers.end();) {
    it = it->state->done() ? impl_->workers.erase(it) : std::next(it);
  }
  impl_->workers.push_back(
      Impl::Worker{state, std::jthread([state, work = std::move(work)]() mutable {
                     OperationScope scope(state);
                     std::string result;
                     std::exception_ptr error;
                     try {
                       result = work(scope);
                     } catch (...) {
                       error = std::current_exception();
                     }
                     // Release what the work captured (a Session, a Project …) before waiters
                     // wake: otherwise the caller may drop its last handle first and the object
                     // would be destroyed later on this thread, racing with the caller's teardown.
                     work = nullptr;
                     if (error) {
                       state->finish_with_exception(error);
                     } else {
                       state->finish_with_result(std::move(result));
                     }
                   })});
  return Operation(state);
}

}  // namespace devx
