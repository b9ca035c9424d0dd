#pragma once
// The topology map of a project: services, databases, tunnels and their edges.
#include <devx/config.hpp>
#include <devx/export.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace devx {

enum class MapFormat { mermaid, dot, json };

// Parses "mermaid" | "dot" | "json"; nullopt otherwise.
DEVX_API std::optional<MapFormat> parse_map_format(std::string_view text) noexcept;

// Renders the map. Node ids are unique and safe for the format, labels are escaped.
DEVX_API std::string render_map(const Project& project, MapFormat format);

// The Markdown document `devx map -o FILE` writes: a title and the Mermaid map in a fence.
DEVX_API std::string render_map_document(const Project& project);

}  // namespace devx
