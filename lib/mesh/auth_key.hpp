#pragma once
// Where the Tailscale pre-auth key comes from: the caller, $TS_AUTHKEY of the context's
// environment, or TS_AUTHKEY in the project's environment sources (devx.yaml `env:`).
#include <devx/context.hpp>

#include <filesystem>
#include <string>

namespace devx::mesh {

struct AuthKey {
  std::string value;   // secret
  std::string source;  // "option" | "env" | "project:<uri>"
};

// Error(invalid_argument) when no source has a key, or the key has characters a Tailscale key
// does not have (the message never contains the key).
AuthKey resolve_auth_key(Context& context, const std::string& option,
                         const std::filesystem::path& project_dir);

}  // namespace devx::mesh
