#pragma once
// The plan/result document every mutating VM call returns (include/devx/vm.hpp):
//   {"v":1,"operation","vm":{"name","provider"},"dry_run","actions":[…], …}
// Each mutating step goes through here: it is recorded as an action and, unless the plan is a
// dry run, executed. A failed command throws Error(command_failed) naming the step.
#include <devx/context.hpp>
#include <devx/vm.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace devx::vm {

class Plan {
 public:
  Plan(Context& context, std::string operation, std::string vm, std::string provider, bool dry_run);

  bool dry_run() const noexcept { return dry_run_; }
  Context& context() noexcept { return context_; }
  void set_stop(std::stop_token stop) { stop_ = std::move(stop); }

  // Records `argv` and runs it unless dry-run (then returns a successful empty result). `stdin`
  // carries content (secrets included) that must never appear in argv or in the plan.
  CommandResult command(const std::string& description, const std::vector<std::string>& argv,
                        std::optional<std::string> stdin_data = std::nullopt,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Like command(), but a failure is returned instead of thrown.
  CommandResult try_command(const std::string& description, const std::vector<std::string>& argv,
                            std::optional<std::string> stdin_data = std::nullopt,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Records a non-command action: kind "file" | "http" | "state", with extra fields (path, …).
  void note(std::string kind, std::string description, boost::json::object fields = {});

  const boost::json::array& actions() const noexcept { return actions_; }
  // The document with `extra` keys appended.
  boost::json::object document(boost::json::object extra = {}) const;
  std::string to_string(boost::json::object extra = {}) const;

 private:
  Context& context_;
  std::string operation_;
  std::string vm_;
  std::string provider_;
  bool dry_run_;
  std::stop_token stop_;
  boost::json::array actions_;
};

// A command run inside the VM for its caller (vm_exec, mesh_exec): its result whatever its exit
// status. In a dry run the command, which may change anything, is only reported: exit 0 and the
// plan document of `operation` on out.
CommandResult run_in_vm(Context& context, std::string operation, const VmTarget& target,
                        const std::string& description, const std::vector<std::string>& argv,
                        std::optional<std::string> stdin_data);

}  // namespace devx::vm
