// devx action <name> — runs customActions[name] (one command after the other, project root,
// project environment). A failing command: exit 10 (command_failed); its own status is in the
// error's details.exit_code (--json) and on stderr.
#include <devx/supervisor.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <iostream>
#include <mutex>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct ActionFlags {
  ProjectFlags project;
  std::string name;
  bool list = false;
};

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

int run_action(Cli& cli, Output& out, const ActionFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  if (flags.list || flags.name.empty()) {
    if (out.json()) {
      json::object actions;
      for (const auto& [name, list] : project.custom_actions) {
        json::array commands;
        for (const auto& argv : list.commands) {
          json::array a;
          for (const auto& s : argv) a.emplace_back(s);
          commands.push_back(std::move(a));
        }
        actions[name] = std::move(commands);
      }
      out.document(json::object{{"v", 1}, {"actions", std::move(actions)}});
      return 0;
    }
    std::string text;
    for (const auto& [name, list] : project.custom_actions) {
      text += name + " (" + std::to_string(list.commands.size()) + " command" +
              (list.commands.size() == 1 ? "" : "s") + ")\n";
    }
    if (flags.name.empty() && !flags.list) {
      throw devx::Error(devx::ErrorCode::invalid_argument, "no action named",
                        text.empty() ? "this project defines no customActions"
                                     : "available: " + text.substr(0, text.size() - 1));
    }
    out.result(text.empty() ? "no customActions defined" : text);
    return 0;
  }
  const auto commands = devx::action_commands(project, flags.name);
  if (out.options().dry_run) {
    if (out.json()) {
      json::array list;
      for (const auto& argv : commands) {
        json::array a;
        for (const auto& s : argv) a.emplace_back(s);
        list.push_back(std::move(a));
      }
      out.document(json::object{
          {"v", 1}, {"dry_run", true}, {"action", flags.name}, {"commands", std::move(list)}});
    } else {
      std::string text = "Would run action \"" + flags.name + "\" (" +
                         std::to_string(commands.size()) + " commands):\n";
      for (std::size_t i = 0; i < commands.size(); ++i) {
        text += "  " + std::to_string(i + 1) + ". " + join(commands[i]) + "\n";
      }
      out.result(text);
    }
    return 0;
  }
  auto context = make_context(out.options());
  auto mutex = std::make_shared<std::mutex>();
  const bool json_mode = out.json();
  // Child output: stdout/stderr as the child wrote it; with --json all of it on stderr, so stdout
  // keeps the single result document.
  auto op = devx::run_action(*context, project, flags.name,
                             [mutex, json_mode](std::string_view line, bool from_stderr) {
                               std::lock_guard lock(*mutex);
                               auto& stream = json_mode || from_stderr ? std::cerr : std::cout;
                               stream << line << '\n' << std::flush;
                             });
  cli.cancel->set(op);
  op.on_event([&out](const devx::Event& e) {
    if (e.type == devx::EventType::progress) out.status("▸ " + e.message);
  });
  const auto result = op.result();
  cli.cancel->clear();
  if (out.json()) out.document(json::parse(result));
  return 0;
}

}  // namespace

void add_action_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ActionFlags>();
  auto* cmd = app.add_subcommand("action", "Run one of the project's customActions");
  add_project_flags(*cmd, flags->project);
  cmd->add_option("name", flags->name, "The action");
  cmd->add_flag("--list", flags->list, "List the actions");
  cmd->callback([&cli, flags] {
    cli.action = [&cli, flags](Output& out) { return run_action(cli, out, *flags); };
  });
}

}  // namespace devx::cli
