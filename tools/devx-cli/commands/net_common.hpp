#pragma once
// What the networking commands (tunnel, mesh, sites, webhook, mail) share: serving a long-running
// operation in the foreground until Ctrl-C, showing a document (--json) or its human form,
// confirming a library prompt and retrying, and the Cloudflare settings from the flags.
#include <devx/events.hpp>
#include <devx/tunnel.hpp>

#include <CLI/CLI.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/commands.hpp"
#include "commands/plan_output.hpp"
#include "output.hpp"

namespace devx::cli {

// Runs a service (a catcher, a proxy chain, a tunnel route) in the foreground. Events go to
// stderr prefixed by `label` (`on_state` renders state events), or, with --json, every event and
// then the result are JSON Lines on stdout. Ctrl-C / SIGTERM is how a service normally ends: the
// operation cleans up, `stopped` is shown and the exit code is 0. Returns the result document
// ("" when stopped by a signal). A dry run's result is its plan, printed as such. Without
// `stream` (work that ends by itself) --json prints only the result document.
std::string serve_in_foreground(Cli& cli, Output& out, devx::Operation op, std::string_view label,
                                std::string_view stopped,
                                std::function<std::string(const devx::Event&)> on_state = {},
                                bool stream = true);

// The document itself with --json; otherwise `human(doc)`.
void show_document(Output& out, const std::string& document,
                   const std::function<void(const boost::json::value&)>& human);

// A result that may be a dry run's plan: the plan (print_plan) or `human(doc)`.
void show_result(Output& out, const std::string& document,
                 const std::function<void(const boost::json::value&)>& human);

// Calls `call(assume_yes)` and, when the library asks for a confirmation (Error(prompt_required)
// with details.confirm), asks (-y answers; no terminal: the error names -y) and calls again with
// assume_yes. A dry run changes nothing, so it is retried without asking.
std::string with_confirmation(Output& out, bool dry_run,
                              const std::function<std::string(bool assume_yes)>& call);

// --env-file FILE (repeatable): dotenv files searched for the Cloudflare token after the
// environment. Without the flag, ./.env when it exists.
void add_env_file_flag(CLI::App& command, std::vector<std::string>& files);
devx::CloudflareSettings cloudflare_settings(const std::vector<std::string>& env_files);

// The secret of --basic-auth, else $DEVX_BASIC_AUTH; never echoed.
std::string basic_auth_secret(const std::string& flag);

// `tailscale ARGS…` in the dev VM with the terminal attached (`devx mesh exec`, and `devx exec
// tailscale` when the project has no service of that name): devx is replaced by the command, so
// the exit status is tailscale's. A dry run prints the argv instead.
int run_tailscale(Output& out, const std::string& provider, const std::string& name,
                  const std::vector<std::string>& args);

// A JSON value in a table cell: strings as they are, null as "-", others serialised.
std::string cell(const boost::json::value& object, std::string_view key);

}  // namespace devx::cli
