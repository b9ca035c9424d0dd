#pragma once
// What a devx.yaml holds besides the project model itself: its include: entries and its profiles,
// which the loader resolves after the file is decoded.
#include <devx/config.hpp>

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace devx::config {

struct IncludeEntry {
  std::string path;      // as written
  std::string env_file;  // as written; "" when absent
  SourceLocation location;
  YAML::Node node;
};

struct ProfileEntry {
  std::string name;
  YAML::Node node;  // the profile's mapping (services, databases, tunnels, mocks, bridge)
  SourceLocation location;
};

struct FileExtras {
  std::vector<IncludeEntry> includes;
  std::vector<ProfileEntry> profiles;
};

// The keys a profile may contain, and how each is decoded onto the project (profile.cpp).
extern const std::vector<std::string_view> kProfileKeys;

}  // namespace devx::config
