#pragma once
// The supervisor of a project and its clients (docs/orchestration.md, "Supervisor and run state").
//
// A supervisor is a process that owns a Session: it brings the project up, keeps its services
// supervised (restart policies), and answers on a Unix control socket until it is told `down`
// or its operation is cancelled (the CLI cancels on SIGTERM/SIGINT). `devx up` runs one in the
// foreground; `devx up --detach` starts one in the background (start_detached) by re-executing
// the CLI. Other commands (`ps`, `down`, `restart`, `logs`) reach it with connect_run().
//
// Control socket: DEVX_HOME/run/<key>/control.sock (mode 0600), or, when that path is longer
// than a sockaddr_un allows (107 bytes), /tmp/devx-<uid>/<key>.sock (directory 0700). The path in
// use is recorded in DEVX_HOME/run/<key>/supervisor.json. Protocol: JSON Lines, one request per
// connection: {"v":1,"cmd":"status"|"down"|"restart"|"events", "service":…, "volumes":…};
// answers {"v":1,"ok":true,"result":{…}} or {"v":1,"ok":false,"error":{…}}; `events` answers
// {"v":1,"ok":true} and then one Event JSON per line until the client closes or the supervisor
// ends ({"v":1,"end":true}).
//
// Crash safety: every service process gets PR_SET_PDEATHSIG(SIGKILL), so a SIGKILLed supervisor
// takes its host processes with it; what it cannot take (grandchildren that changed process
// group, containers) is found from state.json by the next connect_run()/`up`, which reconciles:
// kills the recorded process groups still alive and removes the run's containers by label.
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>
#include <devx/orchestrator.hpp>

#include <cstdint>
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

struct SupervisorOptions {
  // Every event of the session (state changes, warnings, restarts, each output line as a `log`
  // event with source = node name) and the plan. Called on library threads; must not block.
  std::function<void(const Event&)> on_event;
  // Called once, with the status document, when every service is ready and the control socket
  // listens.
  std::function<void(const std::string& status_json)> on_ready;
};

// Runs a supervisor: brings the project up, serves the control socket, supervises until a `down`
// request or cancel(); then stops everything, removes the socket and returns. The Operation's
// events are those of on_event except output lines (a log flood must not grow its queue); its
// result is the final status document. On a failed `up` it fails with the up's error (which is
// also written to DEVX_HOME/run/<key>/supervisor-error.json for start_detached()).
// Error(already_exists) when the project is already up (details.holder_pid).
DEVX_API Operation run_supervisor(Context& context, Project project, UpOptions options,
                                  SupervisorOptions supervisor = {});

// The control socket path of a project (see above).
DEVX_API std::filesystem::path control_socket_path(const Context& context, const Project& project);

// Starts `executable args…` as a detached supervisor: a new session (setsid), stdin /dev/null,
// stdout and stderr appended to DEVX_HOME/run/<key>/supervisor.log, environment = the Context's.
// The command is expected to call run_supervisor for the same project (the CLI runs its hidden
// `devx supervise` command). posix_spawn, no fork without exec. The operation ends when the
// control socket answers (result: the status document, with "supervisor_pid") or fails with the
// supervisor's error when it exits first. cancel() sends SIGTERM to the supervisor and waits for
// it. The supervisor stays a child of the calling process: a long-lived embedder that outlives
// it should reap it (waitpid on the pid in the result); the CLI simply exits.
DEVX_API Operation start_detached(Context& context, const Project& project, UpOptions options,
                                  std::filesystem::path executable, std::vector<std::string> args);

// A connection to a project's run. Thread-compatible (one thread at a time).
class DEVX_API RunClient {
 public:
  struct Impl;
  explicit RunClient(std::shared_ptr<Impl> impl);

  // A supervisor answered on the control socket.
  bool connected() const;
  // A supervisor (or another owner of the run) is alive: connected(), or state.json names a live
  // owner that does not (yet) answer, for example while it is starting.
  bool running() const;
  int supervisor_pid() const;
  // What connect_run() reconciled when it found a dead owner (found = false otherwise).
  const ReconcileReport& reconciled() const;

  // {"v":1,"project":…,"running":bool,"supervisor_pid":…,"services":[…]}: from the supervisor,
  // from state.json while an owner starts, or with no services when not running.
  std::string status_json();
  // Stops everything and ends the supervisor; returns the final status document.
  // Not running: nothing to stop ({"v":1,"project":…,"running":false,…}); with remove_volumes the
  // host database data under the run directory is removed too.
  std::string down(StopOptions options = {});
  // Restarts one service; returns the status document. Error(not_found) when not running.
  std::string restart(const std::string& service);
  // Calls `on_event` with every event of the supervisor until `stop` is requested or the
  // supervisor ends. Error(not_found) when not running.
  void events(const std::function<void(const Event&)>& on_event, std::stop_token stop);

 private:
  std::shared_ptr<Impl> impl_;
};

// Connects to the project's supervisor. When none answers and state.json names an owner that is
// gone, reconciles first (reconcile_run_state, then removes the run's containers by label) and
// reports "not running".
DEVX_API RunClient connect_run(Context& context, const Project& project);

// ----- logs -------------------------------------------------------------------------------------

struct LogLine {
  std::int64_t time_ms = 0;  // 0 when the line has no timestamp
  std::string service;
  std::string stream;  // "out" | "err"
  std::string line;
  // {"time":"2026-11-28T16:57:13.123Z","time_ms":…,"service":…,"stream":…,"line":…}
  DEVX_API std::string to_json() const;
};

struct LogQuery {
  std::vector<std::string> services;     // empty = every node with a log file
  std::optional<std::size_t> tail;       // the last N lines (of the merged stream)
  std::optional<std::int64_t> since_ms;  // lines at or after this Unix time (ms)
};

// `--since` of `devx logs`: a duration before `now_ms` ("90s", "5m", "1h30m", "2d", "250ms") or
// an RFC 3339 time ("2026-11-28T16:57:13Z", "2026-11-28T17:57:13.5+01:00"). nullopt when
// malformed.
DEVX_API std::optional<std::int64_t> parse_log_since(std::string_view text, std::int64_t now_ms);

// The lines of the run's log files (rotated ones included), merged by time, oldest first.
// Error(not_found) for a service without a log file.
DEVX_API std::vector<LogLine> read_logs(const Context& context, const Project& project,
                                        const LogQuery& query);
// read_logs(), then every new line (polling the files every 100 ms, following rotation) until
// `stop` is requested. `on_line` runs on the calling thread.
DEVX_API void follow_logs(const Context& context, const Project& project, const LogQuery& query,
                          const std::function<void(const LogLine&)>& on_line, std::stop_token stop);

// ----- exec / run / action ----------------------------------------------------------------------

// A command to run in place of the caller (the CLI execve()s it).
struct ExecSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // the complete environment (holds secrets)
  std::filesystem::path cwd;
};

// `devx exec <service> -- command…`: a host service's environment (service_environment with the
// running ports pinned) and working directory; a container service: `<engine> exec -i [-t]
// --env NAME… <container> command…` with the values in `env` (never in argv).
DEVX_API ExecSpec exec_in_service(Context& context, const Project& project,
                                  const std::string& service, std::vector<std::string> command,
                                  bool tty = false);
// `devx run -- command…`: the project's environment sources (env / env_file) over the process
// environment, plus DEVX_PROJECT; cwd = the current directory.
DEVX_API ExecSpec project_command(Context& context, const Project& project,
                                  std::vector<std::string> command);

// The commands of customActions[name], or Error(not_found) listing the available names.
DEVX_API std::vector<std::vector<std::string>> action_commands(const Project& project,
                                                               const std::string& name);
// Runs customActions[name] sequentially in the project root with the project environment,
// stopping at the first failure. Output lines go to `on_output` (on the operation's thread).
// Result: {"v":1,"action":…,"exit_code":…,"duration_ms":…,"commands":[{"argv":[…],"exit_code":…}]}.
// A failing command: Error(command_failed) with details {"exit_code":…,"command":…}.
DEVX_API Operation
run_action(Context& context, const Project& project, std::string name,
           std::function<void(std::string_view line, bool from_stderr)> on_output = {});

}  // namespace devx
