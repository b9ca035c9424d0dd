// start_detached: posix_spawn (POSIX_SPAWN_SETSID: a new session, so the terminal's Ctrl-C and
// hang-up never reach the supervisor) of the command that runs the supervisor, then wait until
// its control socket answers or it exits. Only our own child is waited for (waitpid on its pid).
#include <devx/error.hpp>
#include <devx/supervisor.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/json.hpp"
#include "orchestrator/plan.hpp"
#include "supervisor/control_socket.hpp"

namespace devx {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

std::string tail_of(const std::filesystem::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) {
    all.push_back(line);
    if (all.size() > lines) all.erase(all.begin());
  }
  std::string out;
  for (const auto& l : all) out += "\n  " + l;
  return out;
}

// Returns the exit status once the child ended (reaped), nullopt while it runs.
std::optional<int> reap(pid_t pid, bool block) {
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, block ? 0 : WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r == 0) return std::nullopt;
    if (errno == EINTR) continue;
    return -1;
  }
}

}  // namespace

Operation start_detached(Context& context, const Project& project, UpOptions options,
                         std::filesystem::path executable, std::vector<std::string> args) {
  (void)options;  // carried by `args` (the CLI passes its flags on); kept for the API's shape
  const auto run_dir = run_directory(context, project);
  const std::string key = orchestrator::run_key(project);
  return context.start(
      "detach",
      [&context, project, run_dir, key, executable = std::move(executable),
       args = std::move(args)](OperationScope& scope) -> std::string {
        // Already up: say so before starting a second supervisor (which would fail the same way).
        {
          RunClient existing = connect_run(context, project);
          if (existing.running()) {
            json::object details{{"project", project.name},
                                 {"holder_pid", existing.supervisor_pid()}};
            throw Error(ErrorCode::already_exists,
                        "project '" + project.name + "' is already up (held by pid " +
                            std::to_string(existing.supervisor_pid()) + ")",
                        "run `devx down` for this project, or use the running session",
                        core::to_json_string(details));
          }
        }
        std::error_code ec;
        std::filesystem::create_directories(run_dir, ec);
        std::filesystem::remove(run_dir / "supervisor-error.json", ec);
        const auto log_path = run_dir / "supervisor.log";

        std::vector<std::string> argv_storage;
        argv_storage.push_back(executable.string());
        for (const auto& a : args) argv_storage.push_back(a);
        std::vector<char*> argv;
        for (auto& a : argv_storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_storage;
        for (const auto& [k, v] : context.env()) env_storage.push_back(k + "=" + v);
        std::vector<char*> envp;
        for (auto& e : env_storage) envp.push_back(e.data());
        envp.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        // A clean signal state: the caller (the CLI) blocks SIGINT/SIGTERM in all its threads.
        sigset_t none;
        sigemptyset(&none);
        sigset_t defaults;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGINT);
        sigaddset(&defaults, SIGTERM);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGHUP);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(
            &attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid = 0;
        const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) {
          throw Error(
              ErrorCode::command_not_found,
              "cannot start the supervisor " + executable.string() + ": " + std::strerror(rc));
        }
        scope.progress("supervisor", "supervisor started (pid " + std::to_string(pid) + "), log " +
                                         log_path.string());

        bool terminated = false;
        while (true) {
          if (scope.cancelled() && !terminated) {
            ::kill(pid, SIGTERM);  // our child: it stops what it started, then exits
            terminated = true;
          }
          if (const auto status = reap(pid, false)) {
            if (auto text = context.state().read("run/" + key + "/supervisor-error.json")) {
              const json::value doc = core::parse_json_or_null(*text);
              if (doc.is_object()) throw supervisor::error_from_json(doc);
            }
            throw Error(ErrorCode::command_failed,
                        "the supervisor exited with status " + std::to_string(*status) +
                            " before the project was up; last lines of " + log_path.string() + ":" +
                            tail_of(log_path, 20),
                        "see the supervisor log");
          }
          if (!terminated && supervisor::connect_unix(control_socket_path(context, project))) {
            RunClient client = connect_run(context, project);
            if (client.connected()) {
              json::value doc = core::parse_json_or_null(client.status_json());
              if (doc.is_object()) doc.get_object()["supervisor_pid"] = pid;
              return core::to_json_string(doc);
            }
          }
          std::this_thread::sleep_for(milliseconds(20));
        }
      });
}

}  // namespace devx
