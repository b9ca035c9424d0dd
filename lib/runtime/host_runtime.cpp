// Host runtime. The process (and everything it forks) lives in its own process group, so stop()
// can reach grandchildren (`npm` → `node`, `sh -c 'a & b'`). The group is signalled even after
// the leader exited on its own: a background child keeps the group alive and must not survive.
#include "runtime/host_runtime.hpp"

#include <devx/error.hpp>

#include <signal.h>

#include <cerrno>
#include <thread>
#include <utility>

namespace devx::runtime {
namespace {

using std::chrono::milliseconds;

bool group_alive(int pgid) { return pgid > 0 && (::kill(-pgid, 0) == 0 || errno == EPERM); }

ExitStatus to_status(const CommandResult& result) {
  ExitStatus status;
  status.exit_code = result.exit_code;
  status.signal = result.signal;
  return status;
}

class HostNode final : public RunningNode {
 public:
  explicit HostNode(std::unique_ptr<ChildProcess> child)
      : child_(std::move(child)), pgid_(child_->pid()) {}

  ~HostNode() override {
    // ChildProcess kills a running leader's group; members that outlived the leader are ours too.
    if (group_alive(pgid_)) ::kill(-pgid_, SIGKILL);
  }

  int pid() const noexcept override { return pgid_; }

  std::optional<ExitStatus> wait_for(milliseconds timeout) override {
    auto result = child_->wait_for(timeout);
    if (!result) return std::nullopt;
    return to_status(*result);
  }

  ExitStatus stop(milliseconds grace) override {
    if (auto done = child_->wait_for(milliseconds::zero())) {
      // The leader is gone; its group may not be.
      stop_orphans(grace);
      return to_status(*done);
    }
    // SIGTERM to the group, grace, SIGKILL to the group (the ChildProcess does all three).
    const CommandResult result = child_->terminate(grace);
    if (group_alive(pgid_)) ::kill(-pgid_, SIGKILL);
    return to_status(result);
  }

 private:
  void stop_orphans(milliseconds grace) {
    if (!group_alive(pgid_)) return;
    ::kill(-pgid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    auto pause = milliseconds(1);
    while (group_alive(pgid_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, milliseconds(50));
    }
    if (group_alive(pgid_)) ::kill(-pgid_, SIGKILL);
  }

  std::unique_ptr<ChildProcess> child_;
  int pgid_;
};

class HostRuntime final : public NodeRuntime {
 public:
  std::string name() const override { return "host"; }

  std::unique_ptr<RunningNode> launch(Context& context, const LaunchSpec& spec) override {
    if (spec.argv.empty()) {
      throw Error(ErrorCode::invalid_argument, "service '" + spec.name + "' has no command");
    }
    CommandSpec command;
    command.argv = spec.argv;
    if (!spec.cwd.empty()) command.cwd = spec.cwd;
    command.env = spec.env;
    command.inherit_env = false;
    command.output = OutputMode::stream;
    command.on_line = spec.on_line;
    return std::make_unique<HostNode>(context.commands().spawn(command));
  }
};

}  // namespace

std::shared_ptr<NodeRuntime> make_host_runtime() { return std::make_shared<HostRuntime>(); }

}  // namespace devx::runtime
