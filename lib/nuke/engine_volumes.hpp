#pragma once
// Volume listing for nuke: `<engine> volume ls --filter label=… --format json` and its output
// (Podman: one JSON array, Labels an object; Docker: JSON Lines, Labels a "k=v,k2=v2" string).
// The rest of the engine CLI (ps, rm, volume rm) goes through runtime::ContainerEngine.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/container_engine.hpp"

namespace devx::cleanup {

struct VolumeSummary {
  std::string name;
  std::string mountpoint;
  std::map<std::string, std::string> labels;
};

std::vector<std::string> volume_ls_argv(const runtime::ContainerEngine& engine,
                                        const std::map<std::string, std::string>& labels);
std::vector<VolumeSummary> parse_volume_ls(std::string_view output);
// Throws Error(command_failed) when the engine cannot list volumes.
std::vector<VolumeSummary> list_volumes(Context& context, const runtime::ContainerEngine& engine,
                                        const std::map<std::string, std::string>& labels);

}  // namespace devx::cleanup
