#pragma once
// The root object. Everything libdevx does hangs off a Context; two contexts in one process are
// independent. Threads the context starts are joined on destruction.
#include <devx/clock.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>
#include <devx/http.hpp>
#include <devx/ports.hpp>
#include <devx/process.hpp>
#include <devx/state.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace devx {

struct ContextOptions {
  // State directory; empty: $DEVX_HOME, else ~/.devx (home from the passwd entry, not $HOME).
  std::filesystem::path devx_home;
  // Environment seen by the library (and passed to children); nullopt: the process environment.
  std::optional<std::map<std::string, std::string>> env;
  bool dry_run = false;
  LogLevel log_level = LogLevel::info;
};

class DEVX_API Context {
 public:
  explicit Context(ContextOptions options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const ContextOptions& options() const noexcept;
  const std::filesystem::path& home() const noexcept;
  const std::map<std::string, std::string>& env() const noexcept;
  bool dry_run() const noexcept;

  // Seams. Replace before starting work; the getters are safe from any thread.
  CommandRunner& commands();
  HttpClient& http();
  const Clock& clock() const;
  StateStore& state();
  PortAllocator& ports();
  void set_command_runner(std::shared_ptr<CommandRunner> runner);
  void set_http_client(std::shared_ptr<HttpClient> client);
  void set_clock(std::shared_ptr<Clock> clock);
  void set_state_store(std::shared_ptr<StateStore> store);
  void set_port_allocator(std::shared_ptr<PortAllocator> ports);

  // Logging: goes through spdlog into the context's event stream (never to stdout/stderr).
  void log(LogLevel level, std::string_view source, std::string_view message);
  // Receives every log event and every event emitted by this context's operations, on the thread
  // that produced it. Returns an id for unsubscribe().
  int subscribe(std::function<void(const Event&)> listener);
  void unsubscribe(int id);
  // A file descriptor that becomes readable when any operation of this context has new events or
  // finishes (an eventfd); read it to reset. For integrating with asyncio, libuv, … loops.
  int event_fd() const noexcept;

  // Runs `work` on a context-owned thread. The returned JSON string is the operation's result;
  // an Error thrown by `work` is its failure.
  Operation start(std::string kind, std::function<std::string(OperationScope&)> work);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace devx
