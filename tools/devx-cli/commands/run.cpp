// devx run -- command… — the command with the project's environment injected, in place of devx
// (its exit status is passed through).
#include <devx/supervisor.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct RunFlags {
  ProjectFlags project;
  std::vector<std::string> command;
};

int run_run(Output& out, const RunFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  auto context = make_context(out.options());
  const auto spec = devx::project_command(*context, project, flags.command);
  if (out.options().dry_run) {
    std::string argv;
    json::array list;
    for (const auto& a : spec.argv) {
      argv += (argv.empty() ? "" : " ") + a;
      list.emplace_back(a);
    }
    if (out.json()) {
      out.document(json::object{
          {"v", 1}, {"dry_run", true}, {"argv", std::move(list)}, {"cwd", spec.cwd.string()}});
    } else {
      out.result("Dry run: would run `" + argv + "` with the environment of '" + project.name +
                 "'");
    }
    return 0;
  }
  replace_process(spec);
}

}  // namespace

void add_run_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Run a command with the project's environment (-- cmd…)");
  add_project_flags(*cmd, flags->project);
  cmd->add_option("command", flags->command, "The command, after --")->required();
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_run(out, *flags); }; });
}

}  // namespace devx::cli
