#include "config/profile.hpp"

#include "config/fields.hpp"
#include "config/suggest.hpp"
#include "config/validate.hpp"

namespace devx::config {
namespace {

// The name an overlay entry matches on: `name`, else what the entry type defaults it from.
std::string entry_name(const YAML::Node& item, std::string_view fallback_key,
                       std::string_view fallback_prefix) {
  if (const YAML::Node name = item["name"]; name && name.IsScalar()) return name.Scalar();
  if (fallback_key.empty()) return {};
  if (const YAML::Node other = item[std::string(fallback_key)]; other && other.IsScalar())
    return std::string(fallback_prefix) + other.Scalar();
  return {};
}

template <class T, class Prepare>
void overlay_list(std::vector<T>& entries, const YAML::Node& list, std::string_view what,
                  std::string_view fallback_key, std::string_view fallback_prefix,
                  DecodeContext ctx, Prepare prepare_new) {
  if (!list.IsSequence()) {
    ctx.error(list, "expected a list of " + std::string(what) + "s, got " + std::string(yaml_kind(list)));
    return;
  }
  for (const YAML::Node& item : list) {
    if (!item.IsMap()) {
      ctx.error(item, "expected a mapping for " + std::string(what) + ", got " + std::string(yaml_kind(item)));
      continue;
    }
    const std::string name = entry_name(item, fallback_key, fallback_prefix);
    if (name.empty()) {
      ctx.error(item, "a profile " + std::string(what) + " needs a name to match or add");
      continue;
    }
    auto existing = std::find_if(entries.begin(), entries.end(), [&](const T& entry) {
      return entry.name == name;
    });
    if (existing != entries.end()) {
      DecodeContext overlay = ctx;
      overlay.overlay = true;
      Codec<T>::decode(item, *existing, overlay);
    } else {
      T added;
      Codec<T>::decode(item, added, ctx);
      prepare_new(added);
      entries.push_back(std::move(added));
    }
  }
}

}  // namespace

void apply_profile(Project& project, const ProfileEntry& profile, const DecodeContext& root_ctx,
                   const std::vector<std::string>& root_env) {
  DecodeContext ctx = root_ctx;
  const YAML::Node& body = profile.node;
  if (body.IsNull()) return;
  if (!body.IsMap()) {
    ctx.error(body, "profile '" + profile.name + "' must be a mapping, got " + std::string(yaml_kind(body)));
    return;
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    const YAML::Node value = it->second;  // a copy: `it->` yields a temporary
    if (key == "services") {
      overlay_list(project.services, value, "service", "", "", ctx, [&](Service& service) {
        service.dir = project.root_dir;
        if (service.working_dir.empty()) service.working_dir = project.root_dir.string();
        service.env_sources = root_env;
      });
    } else if (key == "databases") {
      overlay_list(project.databases, value, "database", "engine", "", ctx,
                   [&](Database& database) {
                     database.dir = project.root_dir;
                     apply_name_default(database);
                   });
    } else if (key == "tunnels") {
      overlay_list(project.tunnels, value, "tunnel", "port", "port-", ctx, [](Tunnel& tunnel) { apply_name_default(tunnel); });
    } else if (key == "mocks") {
      overlay_list(project.mocks, value, "mock", "", "", ctx, [](Mock&) {});
    } else if (key == "bridge") {
      if (value.IsNull()) {
        project.bridge.reset();
      } else {
        project.bridge.emplace();
        Codec<BridgeConfig>::decode(value, *project.bridge, ctx);
      }
    } else {
      const std::string suggestion = closest_match(key, kProfileKeys);
      ctx.error(it->first, "unknown key '" + key + "' in profile '" + profile.name + "'",
                suggestion.empty() ? "a profile may set services, databases, tunnels, mocks and bridge"
                                   : "did you mean '" + suggestion + "'?");
    }
  }
}

}  // namespace devx::config
