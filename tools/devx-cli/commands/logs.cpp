// devx logs [-f] [--since D|T] [--tail N] [services…] — the run's log files, merged by time.
#include <devx/supervisor.hpp>

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <thread>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

struct LogsFlags {
  ProjectFlags project;
  std::vector<std::string> services;
  bool follow = false;
  std::string since;
  int tail = -1;
};

int run_logs(Cli& cli, Output& out, const LogsFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  auto context = make_context(out.options());
  devx::LogQuery query;
  query.services = flags.services;
  if (flags.tail >= 0) query.tail = static_cast<std::size_t>(flags.tail);
  if (!flags.since.empty()) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    query.since_ms = devx::parse_log_since(flags.since, now);
    if (!query.since_ms) {
      throw devx::Error(devx::ErrorCode::invalid_argument, "invalid --since: " + flags.since,
                        "use a duration (90s, 5m, 1h30m) or an RFC 3339 time");
    }
  }
  std::size_t width = 0;
  for (const auto& s : project.services) width = std::max(width, s.name.size());
  const bool colour = stdout_colour(out);
  const bool json_mode = out.json();
  auto print = [&](const devx::LogLine& line) {
    if (json_mode) {
      std::cout << line.to_json() << '\n';
    } else {
      std::cout << service_prefix(line.service, width, colour) << line.line << '\n';
    }
  };
  if (!flags.follow) {
    for (const auto& line : devx::read_logs(*context, project, query)) print(line);
    std::cout << std::flush;
    return 0;
  }
  // Following runs as an operation so Ctrl-C (main.cpp) ends it cleanly.
  const devx::Context* ctx = context.get();
  auto op = context->start("logs", [ctx, &project, &query, &print](devx::OperationScope& scope) {
    devx::follow_logs(
        *ctx, project, query,
        [&](const devx::LogLine& line) {
          print(line);
          std::cout << std::flush;
        },
        scope.stop_token());
    return std::string("{}");
  });
  cli.cancel->set(op);
  try {
    op.result();
  } catch (const devx::Error& e) {
    cli.cancel->clear();
    if (e.code() == devx::ErrorCode::cancelled) return 0;  // Ctrl-C is how -f ends
    throw;
  }
  cli.cancel->clear();
  return 0;
}

}  // namespace

void add_logs_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<LogsFlags>();
  auto* cmd = app.add_subcommand("logs", "Show (or follow) the output of the project's services");
  add_project_flags(*cmd, flags->project, false);  // -f is --follow
  cmd->add_option("services", flags->services, "Only these services (default: all)");
  cmd->add_flag("-f,--follow", flags->follow, "Keep printing new lines until Ctrl-C");
  cmd->add_option("--since", flags->since, "Lines since a duration ago (5m) or a time (RFC 3339)");
  cmd->add_option("-n,--tail", flags->tail, "Only the last N lines")->check(CLI::NonNegativeNumber);
  cmd->callback([&cli, flags] {
    cli.action = [&cli, flags](Output& out) { return run_logs(cli, out, *flags); };
  });
}

}  // namespace devx::cli
