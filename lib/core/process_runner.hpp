#pragma once
// Private construction of the system command runner.
#include <devx/process.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace devx::core {

// A runner whose children inherit `base_env` (when CommandSpec::inherit_env is set) instead of
// the host process environment; nullopt means the process environment, read at each start.
// Used by Context so that Context::env() is what children see.
std::shared_ptr<CommandRunner> make_system_command_runner(
    std::optional<std::map<std::string, std::string>> base_env);

// A copy of the host process environment (`environ`), read now.
std::map<std::string, std::string> process_environment();

}  // namespace devx::core
