// The public configuration API (include/devx/config.hpp) over the loader and the field tables.
#include "config/duration.hpp"
#include "config/fields.hpp"
#include "config/loader.hpp"
#include "core/utf8.hpp"

#include <yaml-cpp/yaml.h>

namespace devx {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string Diagnostic::to_string() const {
  std::string text = location.file;
  if (location.line > 0) {
    text += ":" + std::to_string(location.line);
    if (location.column > 0) text += ":" + std::to_string(location.column);
  }
  text += severity == Severity::error ? ": error: " : ": warning: ";
  text += message;
  return text;
}

const Service* Project::find_service(std::string_view wanted) const {
  for (const Service& service : services)
    if (service.name == wanted) return &service;
  return nullptr;
}

const Database* Project::find_database(std::string_view wanted) const {
  for (const Database& database : databases)
    if (database.name == wanted) return &database;
  return nullptr;
}

fs::path find_project_file(const fs::path& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  if (!fs::is_directory(dir, ec)) dir = dir.parent_path();
  const fs::path first = dir;
  while (true) {
    const fs::path candidate = dir / "devx.yaml";
    if (fs::is_regular_file(candidate, ec)) return candidate;
    if (dir == dir.root_path() || dir.empty()) break;
    dir = dir.parent_path();
  }
  throw Error(ErrorCode::config_not_found,
              "no devx.yaml in " + first.string() + " or any parent directory",
              "create one (see docs/configuration.md) or pass -f FILE");
}

static fs::path resolve_path(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return find_project_file(path);
  if (!fs::exists(path, ec))
    throw Error(ErrorCode::config_not_found, "no such file: " + path.string(),
                "pass the path of a devx.yaml or of a directory containing one");
  return path;
}

LoadResult load_project(const fs::path& path, const LoadOptions& options) {
  return config::load(resolve_path(path), std::nullopt, options);
}

LoadResult load_project_from_string(std::string_view yaml, const fs::path& virtual_path,
                                    const LoadOptions& options) {
  return config::load(virtual_path, yaml, options);
}

Error config_error(const std::vector<Diagnostic>& diagnostics) {
  std::size_t errors = 0;
  const Diagnostic* first = nullptr;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != Severity::error) continue;
    if (!first) first = &d;
    ++errors;
  }
  std::string message = first ? first->to_string() : "invalid configuration";
  if (errors > 1) message += " (and " + std::to_string(errors - 1) + " more errors)";
  json::value details = json::parse(diagnostics_to_json(diagnostics));
  details.as_object().erase("v");
  details.as_object().erase("ok");
  return Error(ErrorCode::config_invalid, core::valid_utf8(message),
               first ? core::valid_utf8(first->hint) : std::string(), json::serialize(details));
}

Project load_project_or_throw(const fs::path& path, const LoadOptions& options) {
  LoadResult result = load_project(path, options);
  if (!result.project) throw config_error(result.diagnostics);
  return std::move(*result.project);
}

std::string project_to_json(const Project& project) {
  json::object out{{"v", 1}};
  json::value body = config::Codec<Project>::encode(project, config::EncodeMode::resolved);
  for (auto& [key, value] : body.as_object()) out[key] = std::move(value);
  return json::serialize(out);
}

namespace {

// Sections left empty once their defaults are gone are noise in a devx.yaml.
bool is_empty(const json::value& value) {
  return value.is_object() && value.get_object().empty();
}

json::value prune_empty(json::value value) {
  if (value.is_object()) {
    json::object pruned;
    for (auto& [key, item] : value.get_object()) {
      json::value child = prune_empty(std::move(item));
      if (!is_empty(child)) pruned[key] = std::move(child);
    }
    return pruned;
  }
  if (value.is_array()) {
    for (json::value& item : value.get_array()) item = prune_empty(std::move(item));
  }
  return value;
}

void emit_yaml(YAML::Emitter& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.get_object()) {
        out << YAML::Key << std::string(key) << YAML::Value;
        emit_yaml(out, item);
      }
      out << YAML::EndMap;
      break;
    case json::kind::array:
      out << YAML::BeginSeq;
      for (const json::value& item : value.get_array()) emit_yaml(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::string:
      out << std::string(value.get_string());  // the emitter quotes what needs quoting
      break;
    case json::kind::int64:
      out << value.get_int64();
      break;
    case json::kind::uint64:
      out << value.get_uint64();
      break;
    case json::kind::double_:
      out << value.get_double();
      break;
    case json::kind::bool_:
      out << value.get_bool();
      break;
    case json::kind::null:
      out << YAML::Null;
      break;
  }
}

}  // namespace

std::string project_to_yaml(const Project& project) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit_yaml(out, prune_empty(config::Codec<Project>::encode(project, config::EncodeMode::config)));
  return std::string(out.c_str()) + "\n";
}

std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics) {
  json::array list;
  bool ok = true;
  for (const Diagnostic& d : diagnostics) {
    ok &= d.severity != Severity::error;
    list.push_back({{"severity", d.severity == Severity::error ? "error" : "warning"},
                    {"file", core::valid_utf8(d.location.file)},
                    {"line", d.location.line},
                    {"column", d.location.column},
                    {"message", core::valid_utf8(d.message)},
                    {"hint", core::valid_utf8(d.hint)}});
  }
  return json::serialize(json::object{{"v", 1}, {"ok", ok}, {"diagnostics", std::move(list)}});
}

std::string devx_yaml_json_schema() {
  json::value body = config::Codec<Project>::schema(config::SchemaMode::config);
  json::object schema{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                      {"$id", "https://libdevx.dev/schemas/devx.schema.json"},
                      {"title", "devx.yaml"}};
  for (auto& [key, value] : body.as_object()) schema[key] = std::move(value);
  return json::serialize(schema);
}

std::string project_json_schema() {
  json::value body = config::Codec<Project>::schema(config::SchemaMode::resolved);
  json::object schema{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                      {"$id", "https://libdevx.dev/schemas/project.schema.json"},
                      {"title", "resolved devx project"}};
  for (auto& [key, value] : body.as_object()) schema[key] = std::move(value);
  schema["properties"].as_object()["v"] = {{"const", 1}};
  schema["required"] = json::array{"v", "name", "services", "databases", "root_file", "files"};
  return json::serialize(schema);
}

std::string_view to_string(ServiceRuntime runtime) noexcept {
  for (const auto& [name, value] : config::EnumNames<ServiceRuntime>::names)
    if (value == runtime) return name;
  return "host";
}

std::string_view to_string(DependencyCondition condition) noexcept {
  for (const auto& [name, value] : config::EnumNames<DependencyCondition>::names)
    if (value == condition) return name;
  return "service_started";
}

std::string_view to_string(DatabaseEngine engine) noexcept {
  for (const auto& [name, value] : config::EnumNames<DatabaseEngine>::names)
    if (value == engine) return name;
  return "postgres";
}

std::string_view to_string(DatabaseRuntime runtime) noexcept {
  for (const auto& [name, value] : config::EnumNames<DatabaseRuntime>::names)
    if (value == runtime) return name;
  return "auto";
}

int default_port(DatabaseEngine engine) noexcept {
  switch (engine) {
    case DatabaseEngine::postgres:
      return 5432;
    case DatabaseEngine::redis:
      return 6379;
    case DatabaseEngine::mysql:
      return 3306;
    case DatabaseEngine::mongo:
      return 27017;
  }
  return 0;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  return config::parse_duration(text);
}

}  // namespace devx
