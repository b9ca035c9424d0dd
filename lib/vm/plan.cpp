#include "vm/plan.hpp"

#include <devx/error.hpp>

#include "core/json.hpp"
#include "vm/provider.hpp"

namespace devx::vm {

namespace json = boost::json;

Plan::Plan(Context& context, std::string operation, std::string vm, std::string provider,
           bool dry_run)
    : context_(context),
      operation_(std::move(operation)),
      vm_(std::move(vm)),
      provider_(std::move(provider)),
      dry_run_(dry_run) {}

CommandResult Plan::try_command(const std::string& description,
                                const std::vector<std::string>& argv,
                                std::optional<std::string> stdin_data,
                                std::chrono::milliseconds timeout) {
  json::array words;
  for (const auto& a : argv) words.emplace_back(a);
  json::object action{{"kind", "command"}, {"description", description}, {"argv", words}};
  if (stdin_data) action["stdin_bytes"] = stdin_data->size();
  actions_.push_back(std::move(action));
  if (dry_run_) {
    CommandResult planned;
    planned.exit_code = 0;
    return planned;
  }
  CommandSpec spec;
  spec.argv = argv;
  spec.stdin_data = std::move(stdin_data);
  spec.timeout = timeout;
  spec.stop = stop_;
  return context_.commands().run(spec);
}

CommandResult Plan::command(const std::string& description, const std::vector<std::string>& argv,
                            std::optional<std::string> stdin_data,
                            std::chrono::milliseconds timeout) {
  auto result = try_command(description, argv, std::move(stdin_data), timeout);
  if (!result.ok()) throw command_error(description, argv, result);
  return result;
}

void Plan::note(std::string kind, std::string description, json::object fields) {
  json::object action{{"kind", std::move(kind)}, {"description", std::move(description)}};
  for (auto& [k, v] : fields) action[k] = std::move(v);
  actions_.push_back(std::move(action));
}

json::object Plan::document(json::object extra) const {
  json::object doc{{"v", 1},
                   {"operation", operation_},
                   {"vm", json::object{{"name", vm_}, {"provider", provider_}}},
                   {"dry_run", dry_run_},
                   {"actions", actions_}};
  for (auto& [k, v] : extra) doc[k] = std::move(v);
  return doc;
}

std::string Plan::to_string(json::object extra) const {
  return core::to_json_string(document(std::move(extra)));
}

CommandResult run_in_vm(Context& context, std::string operation, const VmTarget& target,
                        const std::string& description, const std::vector<std::string>& argv,
                        std::optional<std::string> stdin_data) {
  if (context.dry_run()) {
    Plan plan(context, std::move(operation), target.name, target.provider, true);
    plan.command(description, argv, std::move(stdin_data));
    CommandResult planned;
    planned.exit_code = 0;
    planned.out = plan.to_string();
    return planned;
  }
  CommandSpec spec;
  spec.argv = argv;
  spec.stdin_data = std::move(stdin_data);
  return context.commands().run(spec);
}

}  // namespace devx::vm
