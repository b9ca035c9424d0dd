#include "nuke/engine_volumes.hpp"

#include <devx/context.hpp>
#include <devx/error.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/json.hpp"

namespace devx::cleanup {
namespace {

namespace json = boost::json;

void add_volume(std::vector<VolumeSummary>& out, const json::value& item) {
  if (!item.is_object()) return;
  const auto& o = item.get_object();
  VolumeSummary v;
  v.name = core::string_field(o, "Name");
  v.mountpoint = core::string_field(o, "Mountpoint");
  v.labels = runtime::labels_of(o.if_contains("Labels"));
  if (!v.name.empty()) out.push_back(std::move(v));
}

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  const auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

}  // namespace

std::vector<std::string> volume_ls_argv(const runtime::ContainerEngine& engine,
                                        const std::map<std::string, std::string>& labels) {
  std::vector<std::string> argv{engine.executable(), "volume", "ls"};
  for (const auto& [key, value] : labels) {
    argv.insert(argv.end(), {"--filter", "label=" + key + "=" + value});
  }
  argv.insert(argv.end(), {"--format", "json"});
  return argv;
}

std::vector<VolumeSummary> parse_volume_ls(std::string_view output) {
  std::vector<VolumeSummary> volumes;
  const json::value doc = core::parse_json_or_null(output);
  if (doc.is_array()) {
    for (const auto& item : doc.get_array()) add_volume(volumes, item);
    return volumes;
  }
  std::string_view rest = output;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    add_volume(volumes, core::parse_json_or_null(rest.substr(0, nl)));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return volumes;
}

std::vector<VolumeSummary> list_volumes(Context& context, const runtime::ContainerEngine& engine,
                                        const std::map<std::string, std::string>& labels) {
  CommandSpec spec;
  spec.argv = volume_ls_argv(engine, labels);
  spec.timeout = std::chrono::seconds(30);
  const CommandResult result = context.commands().run(spec);
  if (!result.ok()) {
    throw Error(ErrorCode::command_failed,
                std::string(engine.name()) + " volume ls failed: " + last_line(result.err),
                "check that " + std::string(engine.name()) + " works (" +
                    std::string(engine.name()) + " info)");
  }
  return parse_volume_ls(result.out);
}

}  // namespace devx::cleanup
