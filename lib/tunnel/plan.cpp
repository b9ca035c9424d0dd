#include "tunnel/plan.hpp"

#include "core/json.hpp"

namespace devx::tunnel {

namespace json = boost::json;

TunnelPlan::TunnelPlan(Context& context, std::string operation)
    : operation_(std::move(operation)), dry_run_(context.dry_run()) {}

void TunnelPlan::attach(CloudflareApi& api) {
  api.set_recorder(
      [this](const ApiCall& call) {
        actions_.push_back(json::object{{"kind", "http"},
                                        {"description", call.description},
                                        {"method", call.method},
                                        {"url", call.url}});
      },
      dry_run_);
}

void TunnelPlan::note_command(const std::string& description,
                              const std::vector<std::string>& argv) {
  json::array words;
  for (const auto& word : argv) words.emplace_back(word);
  actions_.push_back(
      json::object{{"kind", "command"}, {"description", description}, {"argv", words}});
}

void TunnelPlan::note(std::string kind, std::string description, json::object fields) {
  json::object action{{"kind", std::move(kind)}, {"description", std::move(description)}};
  for (auto& [k, v] : fields) action[k] = std::move(v);
  actions_.push_back(std::move(action));
}

json::object TunnelPlan::document(json::object extra) const {
  json::object doc{
      {"v", 1}, {"operation", operation_}, {"dry_run", dry_run_}, {"actions", actions_}};
  for (auto& [k, v] : extra) doc[k] = std::move(v);
  return doc;
}

std::string TunnelPlan::to_string(json::object extra) const {
  return core::to_json_string(document(std::move(extra)));
}

}  // namespace devx::tunnel
