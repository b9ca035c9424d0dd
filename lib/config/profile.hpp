#pragma once
#include "config/codec.hpp"
#include "config/file_extras.hpp"

namespace devx::config {

// Layers `profile` over `project` (docs/configuration.md, "Profiles"): entries match by name;
// within a matched entry scalars and lists replace and mappings merge; unmatched entries are
// added (declared in the root file); `bridge` replaces the whole section.
// `root_env` are the environment sources of entries declared in the root file.
void apply_profile(Project& project, const ProfileEntry& profile, const DecodeContext& root_ctx,
                   const std::vector<std::string>& root_env);

}  // namespace devx::config
