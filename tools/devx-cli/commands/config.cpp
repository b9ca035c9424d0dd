// devx config validate | show | schema
#include <devx/config.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <memory>
#include <string>

#include "commands/commands.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

int run_validate(Output& out, const ProjectFlags& flags) {
  const auto file = resolve_project_file(out, flags);
  const auto result = devx::load_project(file, load_options(flags));
  if (!result.ok()) {
    // Every diagnostic, then the summary; with --json the error document, diagnostics in details.
    out.error(devx::config_error(result.diagnostics));
    return static_cast<int>(devx::ErrorCode::config_invalid);
  }
  if (out.json()) {
    json::value report = json::parse(devx::diagnostics_to_json(result.diagnostics));
    json::object doc;
    doc["v"] = 1;
    doc["ok"] = true;
    doc["file"] = file.string();
    const auto* diagnostics = report.as_object().if_contains("diagnostics");
    doc["diagnostics"] = diagnostics != nullptr ? *diagnostics : json::array();
    doc["services"] = result.project->services.size();
    doc["databases"] = result.project->databases.size();
    out.document(doc);
    return 0;
  }

  out.diagnostics(diagnostic_lines(result.diagnostics));  // warnings
  if (!out.options().quiet) {
    out.result(out.paint(Style::green, "✓", true) + " " + display_path(file.string()) +
               " is valid (" + plural(result.project->services.size(), "service") + ", " +
               plural(result.project->databases.size(), "database") + ")");
  }
  return 0;
}

struct ShowFlags {
  ProjectFlags project;
  std::string format = "yaml";
};

int run_show(Output& out, const ShowFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  if (out.json()) {
    out.document(json::parse(devx::project_to_json(project)));
  } else if (flags.format == "json") {
    out.result(devx::project_to_json(project));
  } else {
    out.result(devx::project_to_yaml(project));
  }
  return 0;
}

int run_schema(Output& out, const std::string& which) {
  const std::string schema =
      which == "project" ? devx::project_json_schema() : devx::devx_yaml_json_schema();
  if (out.json()) {
    out.document(json::parse(schema));
  } else {
    out.result(schema);
  }
  return 0;
}

}  // namespace

void add_config_commands(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand("config", "Inspect and validate devx.yaml");
  group->require_subcommand(1);

  auto validate_flags = std::make_shared<ProjectFlags>();
  auto* validate = group->add_subcommand("validate", "Check devx.yaml and report every problem");
  add_project_flags(*validate, *validate_flags);
  validate->callback([&cli, validate_flags] {
    cli.action = [validate_flags](Output& out) { return run_validate(out, *validate_flags); };
  });

  auto show_flags = std::make_shared<ShowFlags>();
  auto* show =
      group->add_subcommand("show", "Print the resolved project (includes and profile applied)");
  add_project_flags(*show, show_flags->project);
  show->add_option("--format", show_flags->format, "Output format")
      ->check(CLI::IsMember({"yaml", "json"}))
      ->capture_default_str();
  show->callback([&cli, show_flags] {
    cli.action = [show_flags](Output& out) { return run_show(out, *show_flags); };
  });

  auto which = std::make_shared<std::string>("devx");
  auto* schema = group->add_subcommand(
      "schema", "Print the JSON Schema of devx.yaml (or of the resolved project)");
  schema->add_option("--of", *which, "devx: devx.yaml as written; project: config show --format json")
      ->check(CLI::IsMember({"devx", "project"}))
      ->capture_default_str();
  schema->callback([&cli, which] {
    cli.action = [which](Output& out) { return run_schema(out, *which); };
  });
}

}  // namespace devx::cli
