#pragma once
// Helpers shared by the runtime tests: a recording CommandRunner seam, temporary DEVX_HOMEs,
// free ports and bounded polling (bounds are generous and never asserted on).
#include <devx/context.hpp>
#include <devx/process.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;  // NOLINT: POSIX

namespace devx::test {

// Forwards to the system runner and records every argv (and the env it added).
class RecordingRunner final : public CommandRunner {
 public:
  explicit RecordingRunner(std::shared_ptr<CommandRunner> inner) : inner_(std::move(inner)) {}

  CommandResult run(const CommandSpec& spec) override {
    record(spec);
    return inner_->run(spec);
  }
  std::unique_ptr<ChildProcess> spawn(const CommandSpec& spec) override {
    record(spec);
    return inner_->spawn(spec);
  }
  std::vector<std::vector<std::string>> argvs() const {
    std::lock_guard lock(mutex_);
    return argvs_;
  }

 private:
  void record(const CommandSpec& spec) {
    std::lock_guard lock(mutex_);
    argvs_.push_back(spec.argv);
  }
  std::shared_ptr<CommandRunner> inner_;
  mutable std::mutex mutex_;
  std::vector<std::vector<std::string>> argvs_;
};

inline std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// A temporary DEVX_HOME that other users can traverse (host databases run as devx-db when the
// tests run as root), removed at the end.
class TempHome {
 public:
  TempHome() {
    std::string pattern = (std::filesystem::temp_directory_path() / "devx-rt-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
    std::filesystem::permissions(path_, std::filesystem::perms(0755));
  }
  ~TempHome() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline int free_port(Context& context) {
  auto reservation = context.ports().reserve(0);
  const int port = reservation.port();
  reservation.release();
  return port;
}

// Polls `ready` until it is true or `limit` passes (a bound against hanging, not a timing check).
inline bool eventually(const std::function<bool()>& ready,
                       std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  auto pause = std::chrono::milliseconds(5);
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
  return ready();
}

inline CommandResult run_command(Context& context, std::vector<std::string> argv,
                                 std::map<std::string, std::string> env = {}) {
  CommandSpec spec;
  spec.argv = std::move(argv);
  spec.env = std::move(env);
  spec.timeout = std::chrono::seconds(120);
  return context.commands().run(spec);
}

}  // namespace devx::test
