#include "vm/auto_resume.hpp"

#include <devx/error.hpp>
#include <devx/vm.hpp>

#include "vm/resolve.hpp"

namespace devx::vm {

bool resume_for_containers(Context& context, const std::filesystem::path& project_dir) {
  VmOptions options;
  options.project_dir = project_dir;
  ResolvedVm resolved;
  try {
    resolved = resolve(context, options);
  } catch (const Error& e) {
    // Several candidates or none: not ours to decide during `up`.
    if (e.code() == ErrorCode::prompt_required || e.code() == ErrorCode::command_not_found)
      return false;
    throw;
  }
  if (!resolved.provider->creates_vm()) return false;
  const std::string& name = resolved.target.name;
  const auto state = resolved.provider->inspect(context, name);
  if (!state.exists || state.running()) return false;
  context.log(LogLevel::info, "vm",
              "starting the " + resolved.target.provider + " VM '" + name +
                  "' the project's containers run in");
  try {
    vm_start(context, options);
  } catch (const Error& e) {
    throw Error(ErrorCode::command_failed,
                "the " + resolved.target.provider + " VM '" + name +
                    "' is stopped and could not be started: " + e.message(),
                "check `devx vm status`, then `devx vm start`");
  }
  return true;
}

}  // namespace devx::vm
