#pragma once
// What the vm, doctor and nuke commands share: showing a plan (one line per action), turning a
// library Error(prompt_required) carrying {"confirm","plan"} into a question and a retry, running
// an Operation in the foreground with its events on stderr, and small text helpers.
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/events.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/commands.hpp"
#include "output.hpp"

namespace devx::cli {

// `word` quoted for a POSIX shell only when it needs it (so the line can be pasted).
std::string shell_quote(std::string_view word);
std::string shell_join(const std::vector<std::string>& argv);

// Bytes as people read them, base 1024: "512 B", "1.5 KiB", "12.0 MiB".
std::string human_size(std::uint64_t bytes);

// A string member of a JSON object; "" when it is absent or not a string.
std::string json_text(const boost::json::value& object, std::string_view key);

// Rows of cells as left-aligned columns separated by two spaces (no trailing blanks).
std::string aligned_columns(const std::vector<std::vector<std::string>>& rows);

// The lines of a plan document's "actions": "would run: <argv>", "would write: <path>",
// "would call: <METHOD> <url>", "would <kind>: <description>"; each followed by the description
// when that adds something.
std::vector<std::string> plan_action_lines(const boost::json::value& plan);

// A dry run's plan: the document itself with --json, else its action lines on stdout.
void print_plan(Output& out, const boost::json::value& plan);

// Replaces devx with `argv` (the terminal attached, its exit status devx's), with the context's
// environment; in a dry run prints instead the plan of `operation`: that one command.
int run_in_place_of_devx(Output& out, devx::Context& context, std::string_view operation,
                         std::string_view description, const std::vector<std::string>& argv);

// The details of a library error as JSON; an empty object when there are none.
boost::json::object error_details(const devx::Error& error);

// For an Error(prompt_required) whose details hold "confirm": shows details.plan on stderr and
// asks the question (-y answers yes). Returns true to retry with the confirmation granted; throws
// Error(cancelled) when the answer is no, and Error(prompt_required) with the library's details
// and the flag to pass when there is no terminal. Returns false for any other error (the caller
// rethrows it).
bool confirm_library_prompt(Output& out, const devx::Error& error);

// Waits for `op` in the foreground: Ctrl-C / SIGTERM cancel it. Progress, warnings and logs go to
// stderr prefixed by `label`; with `json_lines` every event is a JSON line on stdout instead.
// `on_state` (optional) renders state events in human mode. Returns the result document or
// throws the operation's error.
std::string run_in_foreground(Cli& cli, Output& out, devx::Operation op, std::string_view label,
                              bool json_lines = false,
                              std::function<std::string(const devx::Event&)> on_state = {});

}  // namespace devx::cli
