#pragma once
// The credential checks of `devx doctor`. A check reports whether something is configured and
// where it came from, never a secret's value.
#include <devx/context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace devx::doctor {

struct CredentialCheck {
  std::string area;
  std::string name;
  bool configured = false;
  std::string detail;
  std::string how_to_fix;  // "" when configured
};

struct CredentialInputs {
  std::vector<std::string> areas;  // only these areas' checks run
  std::filesystem::path env_file;  // the dotenv file to consult; may not exist
  // The installed path of a catalog binary ("gh", "tailscale"), nullopt when missing.
  std::function<std::optional<std::filesystem::path>(const std::string& binary)> installed;
  std::chrono::milliseconds timeout{5000};
};

std::vector<CredentialCheck> check_credentials(Context& context, const CredentialInputs& inputs);

}  // namespace devx::doctor
