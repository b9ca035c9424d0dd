#pragma once
// Running external commands. Every child gets its own process group and, on Linux,
// PR_SET_PDEATHSIG(SIGKILL) so nothing outlives a crashed host process. No signal handlers are
// installed and only our own children are reaped (pidfd), never waitpid(-1).
#include <devx/export.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace devx {

enum class OutputMode {
  capture,  // collected into CommandResult::out / err
  stream,   // delivered line by line to CommandSpec::on_line
  discard,  // /dev/null
};

struct CommandSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::optional<std::filesystem::path> cwd;
  // Added to (or, without inherit_env, replacing) the environment. Secrets go here, never in argv.
  std::map<std::string, std::string> env;
  bool inherit_env = true;
  std::optional<std::string> stdin_data;  // nullopt: stdin is /dev/null
  OutputMode output = OutputMode::capture;
  // For OutputMode::stream: called with each line (without '\n') on the thread running the command.
  std::function<void(std::string_view line, bool from_stderr)> on_line;
  std::chrono::milliseconds timeout{0};      // 0 = none
  std::chrono::milliseconds kill_grace{2000}; // SIGTERM to the group, then SIGKILL after this
  std::stop_token stop;                      // cancellation
};

struct CommandResult {
  int pid = -1;
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the signal that ended the process, 0 if it exited
  bool timed_out = false;
  bool cancelled = false;
  std::string out;
  std::string err;
  bool ok() const noexcept { return signal == 0 && exit_code == 0 && !timed_out && !cancelled; }
};

// A started child process (its own process group). Destroying it kills the group if still running.
class DEVX_API ChildProcess {
 public:
  virtual ~ChildProcess() = default;
  virtual int pid() const noexcept = 0;
  // Waits up to `timeout` for the process to end; nullopt if it is still running.
  virtual std::optional<CommandResult> wait_for(std::chrono::milliseconds timeout) = 0;
  // SIGTERM to the whole group, up to `grace` for it to end, then SIGKILL; waits and reaps.
  virtual CommandResult terminate(std::chrono::milliseconds grace) = 0;
};

class DEVX_API CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs to completion (or timeout / cancellation). Throws Error(command_not_found) when argv[0]
  // cannot be executed, Error(invalid_argument) for an empty argv.
  virtual CommandResult run(const CommandSpec& spec) = 0;
  // Starts without waiting; output modes as for run() (capture is kept until the end).
  virtual std::unique_ptr<ChildProcess> spawn(const CommandSpec& spec) = 0;
};

// The real runner (fork/exec with the guarantees described above).
DEVX_API std::shared_ptr<CommandRunner> make_system_command_runner();

}  // namespace devx
