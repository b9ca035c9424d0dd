// devx map
#include <devx/topology.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "atomic_write.hpp"
#include "commands/commands.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct MapFlags {
  ProjectFlags project;
  std::string format = "mermaid";
  std::string output;
};

int run_map(Output& out, const MapFlags& flags) {
  const auto format = devx::parse_map_format(flags.format);
  if (!format) {
    throw devx::Error(devx::ErrorCode::invalid_argument, "unknown map format: " + flags.format,
                      "use --format mermaid, dot or json");
  }
  const auto project = load_project_for_command(out, flags.project);

  if (flags.output.empty()) {
    const auto text = devx::render_map(project, *format);
    if (out.json()) {
      json::object doc;
      doc["v"] = 1;
      doc["format"] = flags.format;
      // A JSON map is embedded as JSON, the text formats as a string.
      doc["map"] = *format == devx::MapFormat::json ? json::parse(text) : json::value(text);
      out.document(doc);
    } else {
      out.result(text);
    }
    return 0;
  }

  // The file: a Markdown document around the Mermaid map, or the raw DOT / JSON rendering.
  const auto content = *format == devx::MapFormat::mermaid ? devx::render_map_document(project)
                                                           : devx::render_map(project, *format);
  const auto path = std::filesystem::absolute(flags.output).lexically_normal();
  if (out.options().dry_run) {
    out.status("Dry run: would write the topology (" + flags.format + ", " +
               std::to_string(content.size()) + " bytes) to " + path.string());
    if (out.json()) {
      json::object doc;
      doc["v"] = 1;
      doc["dry_run"] = true;
      doc["would_write"] = path.string();
      out.document(doc);
    }
    return 0;
  }
  write_file_atomically(path, content);
  out.status("Topology written to " + path.string());
  if (out.json()) {
    json::object doc;
    doc["v"] = 1;
    doc["written"] = path.string();
    out.document(doc);
  }
  return 0;
}

}  // namespace

void add_map_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<MapFlags>();
  auto* cmd =
      app.add_subcommand("map", "Draw the project's topology (services, databases, tunnels)");
  add_project_flags(*cmd, flags->project);
  cmd->add_option("--format", flags->format, "Output format")
      ->check(CLI::IsMember({"mermaid", "dot", "json"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", flags->output,
                  "Write to FILE atomically (mermaid: a Markdown document) instead of stdout");
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_map(out, *flags); }; });
}

}  // namespace devx::cli
