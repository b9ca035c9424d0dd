#include "mesh/auth_key.hpp"

#include <devx/config.hpp>
#include <devx/error.hpp>

#include <regex>

#include "orchestrator/environment.hpp"

namespace devx::mesh {

namespace {

constexpr std::string_view kVariable = "TS_AUTHKEY";

// The characters of the keys the admin console issues (tskey-auth-…); the same rule as the
// Ignition value, so a key accepted here is accepted there.
void validate(const AuthKey& key) {
  static const std::regex kAuthKey("[A-Za-z0-9._+/=:\\-]{1,512}");
  if (!std::regex_match(key.value, kAuthKey))
    throw Error(ErrorCode::invalid_argument,
                "the Tailscale auth key from " + key.source +
                    " contains characters an auth key does not have",
                "paste the key exactly as the Tailscale admin console shows it (tskey-auth-…)");
}

std::optional<AuthKey> from_project(Context& context, const std::filesystem::path& project_dir) {
  const auto start = project_dir.empty() ? std::filesystem::current_path() : project_dir;
  std::filesystem::path file;
  try {
    file = find_project_file(start);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::config_not_found) return std::nullopt;
    throw;
  }
  const auto project = load_project_or_throw(file);
  orchestrator::EnvMap base(context.env().begin(), context.env().end());
  for (const auto& uri : project.env) {
    // The loader made file sources absolute (file://…).
    const auto values = orchestrator::read_env_source(context, uri, base);
    if (auto it = values.find(std::string(kVariable)); it != values.end() && !it->second.empty())
      return AuthKey{it->second, "project:" + uri};
  }
  return std::nullopt;
}

}  // namespace

AuthKey resolve_auth_key(Context& context, const std::string& option,
                         const std::filesystem::path& project_dir) {
  std::optional<AuthKey> key;
  if (!option.empty()) {
    key = AuthKey{option, "option"};
  } else if (auto it = context.env().find(std::string(kVariable));
             it != context.env().end() && !it->second.empty()) {
    key = AuthKey{it->second, "env"};
  } else {
    key = from_project(context, project_dir);
  }
  if (!key)
    throw Error(ErrorCode::invalid_argument, "no Tailscale auth key to join the tailnet with",
                "create a pre-auth key at https://login.tailscale.com/admin/settings/keys and set "
                "TS_AUTHKEY in the environment or in one of the project's env sources (devx.yaml "
                "`env:`)");
  validate(*key);
  return *key;
}

}  // namespace devx::mesh
