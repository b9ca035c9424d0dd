#pragma once
// Helpers shared by the lifecycle commands (up, down, ps, logs, restart, exec, run, action,
// supervise): the Context from the global flags, the status table, service colours, and
// replacing the CLI by a command (exec, run).
#include <devx/context.hpp>
#include <devx/supervisor.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "output.hpp"

namespace devx::cli {

std::unique_ptr<devx::Context> make_context(const GlobalOptions& globals);

// `devx ps` table of a status document ({"services":[…]}).
std::string status_table(const std::string& status_json, bool colour);

// A stable colour per service name for "name | line" prefixes; "" without colour.
std::string service_prefix(std::string_view name, std::size_t width, bool colour);

// Whether stdout is coloured (a TTY, no --no-color, no NO_COLOR).
bool stdout_colour(const Output& out);

// execve()s the command in place of devx: the exit status is the command's own. SIGINT/SIGTERM
// are unblocked first (main.cpp blocks them for its watcher thread). Throws
// Error(command_not_found) when it cannot be executed.
[[noreturn]] void replace_process(const devx::ExecSpec& spec);

}  // namespace devx::cli
