// customActions: the commands of an action, run one after the other in the project root with
// the project environment (project_command), stopping at the first failure.
#include <devx/error.hpp>
#include <devx/supervisor.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"

namespace devx {

namespace json = boost::json;

std::vector<std::vector<std::string>> action_commands(const Project& project,
                                                      const std::string& name) {
  const auto it = project.custom_actions.find(name);
  if (it == project.custom_actions.end()) {
    std::string names;
    for (const auto& [n, list] : project.custom_actions) names += (names.empty() ? "" : ", ") + n;
    throw Error(ErrorCode::not_found,
                "action \"" + name + "\" not found" +
                    (names.empty() ? std::string(" (no customActions defined)")
                                   : " — available actions: " + names),
                "define it under customActions in devx.yaml",
                core::to_json_string(json::object{{"action", name}}));
  }
  return it->second.commands;
}

Operation run_action(Context& context, const Project& project, std::string name,
                     std::function<void(std::string_view, bool)> on_output) {
  const auto commands = action_commands(project, name);
  const ExecSpec base = project_command(context, project, {"true"});
  const auto root = project.root_dir;
  return context.start("action", [&context, commands, base, root, name,
                                  on_output = std::move(on_output)](OperationScope& scope) {
    const auto started = std::chrono::steady_clock::now();
    json::array done;
    int exit_code = 0;
    for (const auto& argv : commands) {
      scope.progress(
          "action", "running: " + [&] {
            std::string text;
            for (const auto& a : argv) text += (text.empty() ? "" : " ") + a;
            return text;
          }());
      CommandSpec spec;
      spec.argv = argv;
      spec.cwd = root;
      spec.env = base.env;
      spec.inherit_env = false;
      spec.output = OutputMode::stream;
      spec.on_line = [&](std::string_view line, bool from_stderr) {
        if (on_output) on_output(line, from_stderr);
      };
      spec.stop = scope.stop_token();
      const CommandResult result = context.commands().run(spec);
      exit_code = result.signal != 0 ? 128 + result.signal : result.exit_code;
      json::array a;
      for (const auto& s : argv) a.emplace_back(s);
      done.push_back(json::object{{"argv", std::move(a)}, {"exit_code", exit_code}});
      if (exit_code != 0) {
        json::object details{{"action", name}, {"exit_code", exit_code}, {"commands", done}};
        throw Error(ErrorCode::command_failed,
                    "action \"" + name + "\": command " + std::to_string(done.size()) +
                        " exited with status " + std::to_string(exit_code),
                    "the command's own exit status is in details.exit_code",
                    core::to_json_string(details));
      }
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    json::object result{{"v", 1},
                        {"action", name},
                        {"exit_code", exit_code},
                        {"duration_ms", elapsed},
                        {"commands", std::move(done)}};
    return core::to_json_string(result);
  });
}

}  // namespace devx
