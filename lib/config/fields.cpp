// The field tables: every key of devx.yaml, its type and its documentation. docs/configuration.md
// and docs/schemas/devx.schema.json are generated from here.
#include "config/fields.hpp"

#include "config/file_extras.hpp"
#include "config/suggest.hpp"

#include <algorithm>

namespace devx::config {

namespace json = boost::json;

const std::vector<std::pair<std::string_view, ServiceRuntime>> EnumNames<ServiceRuntime>::names = {
    {"host", ServiceRuntime::host},
    {"container", ServiceRuntime::container},
    {"kubernetes", ServiceRuntime::kubernetes},
    {"cloud", ServiceRuntime::cloud},
    {"bridge", ServiceRuntime::bridge}};
const std::vector<std::pair<std::string_view, DependencyCondition>>
    EnumNames<DependencyCondition>::names = {
        {"service_started", DependencyCondition::service_started},
        {"service_healthy", DependencyCondition::service_healthy},
        {"service_completed_successfully", DependencyCondition::service_completed_successfully}};
const std::vector<std::pair<std::string_view, DatabaseEngine>> EnumNames<DatabaseEngine>::names = {
    {"postgres", DatabaseEngine::postgres},
    {"redis", DatabaseEngine::redis},
    {"mysql", DatabaseEngine::mysql},
    {"mongo", DatabaseEngine::mongo}};
const std::vector<std::pair<std::string_view, DatabaseRuntime>> EnumNames<DatabaseRuntime>::names = {
    {"auto", DatabaseRuntime::auto_},
    {"container", DatabaseRuntime::container},
    {"host", DatabaseRuntime::host}};

// ---- special codecs ---------------------------------------------------------------------------

void ArgvCodec::decode(const YAML::Node& node, std::vector<std::string>& out, DecodeContext& ctx) {
  if (node.IsScalar()) {
    if (node.Scalar().empty()) {
      ctx.error(node, "command must not be empty");
      return;
    }
    out = {"/bin/sh", "-c", node.Scalar()};
    return;
  }
  if (!node.IsSequence()) {
    ctx.error(node, "expected a command (a list of arguments or a shell string), got " +
                        std::string(yaml_kind(node)));
    return;
  }
  std::vector<std::string> argv;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) {
      ctx.error(item, "command arguments must be strings, got " + std::string(yaml_kind(item)));
      return;
    }
    argv.push_back(item.Scalar());
  }
  if (argv.empty()) ctx.error(node, "command must not be empty");
  out = std::move(argv);
}

json::value ArgvCodec::encode(const std::vector<std::string>& value, EncodeMode mode) {
  return Codec<std::vector<std::string>>::encode(value, mode);
}

json::value ArgvCodec::schema(SchemaMode mode) {
  if (mode == SchemaMode::resolved) return {{"type", "array"}, {"items", {{"type", "string"}}}};
  return {{"oneOf", json::array{{{"type", "string"}, {"description", "run with /bin/sh -c"}},
                                {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}}}}};
}

// An integer whose range the validator checks (with a message naming the entry); the range is
// also stated in the schema.
template <int Min, int Max>
struct RangeCodec {
  static void decode(const YAML::Node& node, int& out, DecodeContext& ctx) {
    Codec<int>::decode(node, out, ctx);
  }
  static void decode(const YAML::Node& node, std::optional<int>& out, DecodeContext& ctx) {
    Codec<std::optional<int>>::decode(node, out, ctx);
  }
  static std::optional<json::value> encode(int value, EncodeMode) { return value; }
  static std::optional<json::value> encode(const std::optional<int>& value, EncodeMode) {
    if (!value) return std::nullopt;
    return *value;
  }
  static json::value schema(SchemaMode) {
    return {{"type", "integer"}, {"minimum", Min}, {"maximum", Max}};
  }
};
using Port = RangeCodec<1, 65535>;
using PortOrAny = RangeCodec<0, 65535>;

// Environment variables: YAML users write PORT: 8080 and DEBUG: true, so any scalar is text.
struct EnvMapCodec {
  static void decode(const YAML::Node& node, std::map<std::string, std::string>& out,
                     DecodeContext& ctx) {
    Codec<std::map<std::string, std::string>>::decode(node, out, ctx);
  }
  static json::value encode(const std::map<std::string, std::string>& value, EncodeMode mode) {
    return Codec<std::map<std::string, std::string>>::encode(value, mode);
  }
  static json::value schema(SchemaMode mode) {
    if (mode == SchemaMode::resolved)
      return {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
    json::array types{"string", "number", "boolean"};
    if (mode == SchemaMode::overlay) types.emplace_back("null");  // null removes the variable
    return {{"type", "object"}, {"additionalProperties", {{"type", std::move(types)}}}};
  }
};

// A list of commands (each a list of arguments or a shell string).
struct ArgvListCodec {
  static void decode(const YAML::Node& node, std::vector<std::vector<std::string>>& out,
                     DecodeContext& ctx) {
    if (!node.IsSequence()) {
      ctx.error(node, "expected a list of commands, got " + std::string(yaml_kind(node)));
      return;
    }
    std::vector<std::vector<std::string>> commands;
    for (const YAML::Node& item : node) ArgvCodec::decode(item, commands.emplace_back(), ctx);
    out = std::move(commands);
  }
  static json::value encode(const std::vector<std::vector<std::string>>& value, EncodeMode mode) {
    json::array array;
    for (const auto& argv : value) array.push_back(ArgvCodec::encode(argv, mode));
    return array;
  }
  static json::value schema(SchemaMode mode) {
    return {{"type", "array"}, {"items", ArgvCodec::schema(mode)}};
  }
};

// `command:` stored as a one-element list of commands.
struct SingleArgvListCodec {
  static void decode(const YAML::Node& node, std::vector<std::vector<std::string>>& out,
                     DecodeContext& ctx) {
    std::vector<std::string> argv;
    ArgvCodec::decode(node, argv, ctx);
    out = {std::move(argv)};
  }
  static std::optional<json::value> encode(const std::vector<std::vector<std::string>>&,
                                           EncodeMode) {
    return std::nullopt;  // always encoded as `commands`
  }
  static json::value schema(SchemaMode mode) { return ArgvCodec::schema(mode); }
};

std::string absolute_env_source(const std::string& uri, const std::filesystem::path& dir) {
  std::string path;
  if (uri.rfind("file://", 0) == 0) {
    path = uri.substr(7);
  } else if (uri.find("://") == std::string::npos) {
    path = uri;
  } else {
    return uri;
  }
  std::filesystem::path p(path);
  if (p.is_relative()) p = dir / p;
  return "file://" + p.lexically_normal().string();
}

void PathCodec::decode(const YAML::Node& node, std::string& out, DecodeContext& ctx) {
  std::string text;
  Codec<std::string>::decode(node, text, ctx);
  if (text.empty()) return;
  std::filesystem::path p(text);
  if (p.is_relative()) p = ctx.dir / p;
  out = p.lexically_normal().string();
}

struct EnvSourceListCodec {
  static void decode(const YAML::Node& node, std::vector<std::string>& out, DecodeContext& ctx) {
    std::vector<std::string> sources;
    Codec<std::vector<std::string>>::decode(node, sources, ctx);
    for (std::string& source : sources) source = absolute_env_source(source, ctx.dir);
    out = std::move(sources);
  }
  static json::value encode(const std::vector<std::string>& value, EncodeMode mode) {
    return Codec<std::vector<std::string>>::encode(value, mode);
  }
  static json::value schema(SchemaMode) {
    return {{"type", "array"},
            {"items", {{"type", "string"},
                       {"description",
                        "file://PATH (relative to this file), 1password://, op://, bitwarden://, "
                        "bw://, gcp://"}}}};
  }
};

void Codec<Dependency>::decode(const YAML::Node& node, Dependency& out, DecodeContext& ctx) {
  out.location = ctx.location(node);
  if (node.IsScalar()) {
    out.name = node.Scalar();
    return;
  }
  if (!node.IsMap()) {
    ctx.error(node, "expected a dependency name or {name, condition}, got " +
                        std::string(yaml_kind(node)));
    return;
  }
  static constexpr std::string_view keys[] = {"name", "condition"};
  static constexpr bool required[] = {true, false};
  decode_object_fields(
      node, "dependency", keys, required,
      [&](std::size_t index, const YAML::Node& value) {
        if (index == 0) {
          Codec<std::string>::decode(value, out.name, ctx);
        } else {
          Codec<DependencyCondition>::decode(value, out.condition, ctx);
          out.condition_declared = true;
        }
      },
      ctx);
}

json::value Codec<Dependency>::encode(const Dependency& value, EncodeMode mode) {
  json::object object{{"name", value.name}};
  if (mode == EncodeMode::resolved || value.condition_declared)
    object["condition"] = Codec<DependencyCondition>::encode(value.condition, mode);
  if (mode == EncodeMode::resolved) object["location"] = location_json(value.location);
  return object;
}

json::value Codec<Dependency>::schema(SchemaMode mode) {
  json::object object{
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{"name", {{"type", "string"}, {"description", "a service or database name"}}},
        {"condition",
         with_doc(Codec<DependencyCondition>::schema(mode),
                  "when the dependent may start; default service_healthy if the dependency "
                  "has a health check, else service_started")}}},
      {"required", json::array{"name"}}};
  if (mode == SchemaMode::resolved) {
    object["properties"].as_object()["location"] = location_schema();
    object["required"] = json::array{"name", "condition", "location"};
    return object;
  }
  return {{"oneOf", json::array{{{"type", "string"}}, std::move(object)}}};
}

struct RestartCodec {
  static void decode(const YAML::Node& node, RestartPolicy& out, DecodeContext& ctx) {
    if (!node.IsScalar()) {
      ctx.error(node, "expected a restart policy, got " + std::string(yaml_kind(node)));
      return;
    }
    const std::string& text = node.Scalar();
    const char* hint = "use no, on-failure, on-failure:N or always";
    if (text == "no" || text == "false") {
      out = {RestartPolicyKind::no, 0};
    } else if (text == "always") {
      out = {RestartPolicyKind::always, 0};
    } else if (text == "on-failure") {
      out = {RestartPolicyKind::on_failure, 0};
    } else if (text.rfind("on-failure:", 0) == 0) {
      const std::string count = text.substr(11);
      const bool digits = !count.empty() && count.size() < 7 &&
                          count.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoi(count) < 1) {
        ctx.error(node, "invalid restart retry count in '" + text + "'", hint);
        return;
      }
      out = {RestartPolicyKind::on_failure, std::stoi(count)};
    } else {
      ctx.error(node, "invalid restart policy '" + text + "'", hint);
    }
  }
  static json::value encode(const RestartPolicy& value, EncodeMode) {
    switch (value.kind) {
      case RestartPolicyKind::no:
        return "no";
      case RestartPolicyKind::always:
        return "always";
      case RestartPolicyKind::on_failure:
        break;
    }
    return value.max_retries ? json::value("on-failure:" + std::to_string(value.max_retries))
                             : json::value("on-failure");
  }
  static json::value schema(SchemaMode) {
    return {{"type", "string"}, {"pattern", "^(no|always|on-failure(:[1-9][0-9]*)?)$"}};
  }
};

// Reads a nested single-purpose section (`ai:`, `state:`, `test:`) into flat project members.
template <class Section, class Get, class Set>
Field<Project> section_field(std::string_view key, std::string_view doc, Get get, Set set) {
  return Field<Project>{
      key, doc, false,
      [get, set](const YAML::Node& node, Project& project, DecodeContext& ctx) {
        Section section = node.IsNull() ? Section{} : get(project);
        if (!node.IsNull()) Codec<Section>::decode(node, section, ctx);
        set(project, std::move(section));
      },
      [get](const Project& project, EncodeMode mode) -> std::optional<json::value> {
        return Codec<Section>::encode(get(project), mode);
      },
      [](SchemaMode mode) { return Codec<Section>::schema(mode); }};
}

struct AiSection {
  bool bridge = true;
};
struct StateSection {
  std::string relay;
};
struct TestSection {
  std::optional<UiTest> ui;
};
template <> inline constexpr bool kDescribed<AiSection> = true;
template <> inline constexpr bool kDescribed<StateSection> = true;
template <> inline constexpr bool kDescribed<TestSection> = true;

template <>
const ObjectDesc<AiSection>& describe<AiSection>() {
  static const ObjectDesc<AiSection> desc{
      "ai section", "Local AI integration.",
      {field<&AiSection::bridge>("bridge", "devx shell: expose host LLM endpoints (default true)")}};
  return desc;
}

template <>
const ObjectDesc<StateSection>& describe<StateSection>() {
  static const ObjectDesc<StateSection> desc{
      "state section", "Shared state snapshots.",
      {field<&StateSection::relay>("relay", "s3://bucket/prefix or gs://bucket/prefix")}};
  return desc;
}

template <>
const ObjectDesc<TestSection>& describe<TestSection>() {
  static const ObjectDesc<TestSection> desc{
      "test section", "Test suites run by devx test.",
      {field<&TestSection::ui>("ui", "the UI test suite (devx test ui)")}};
  return desc;
}

// ---- model descriptions -----------------------------------------------------------------------

template <>
const ObjectDesc<HealthCheck>& describe<HealthCheck>() {
  static const ObjectDesc<HealthCheck> desc{
      "healthcheck",
      "How readiness is probed. Set exactly one of http, tcp, exec, log.",
      {field<&HealthCheck::http>("http", "URL polled with GET; 2xx or 3xx is healthy"),
       field<&HealthCheck::tcp>("tcp", "host:port that must accept a TCP connection"),
       field_with<&HealthCheck::exec, ArgvCodec>("exec", "command whose exit status 0 is healthy"),
       field<&HealthCheck::log>("log", "regular expression matched against each output line"),
       field<&HealthCheck::interval>("interval", "longest gap between probes (default 1s)"),
       field<&HealthCheck::timeout>("timeout", "deadline of one probe (default 5s)"),
       field<&HealthCheck::start_period>(
           "start_period",
           "time after start in which failures do not count, so a slow start is not a failure; "
           "a success ends it early (default 30s)"),
       field<&HealthCheck::retries>(
           "retries", "consecutive failures after start_period before unhealthy (default 3)")},
      {{"location", [](const HealthCheck& h) { return location_json(h.location); },
        location_schema}}};
  return desc;
}

template <>
const ObjectDesc<SyncMapping>& describe<SyncMapping>() {
  static const ObjectDesc<SyncMapping> desc{
      "sync mapping",
      "A file synchronisation session (Mutagen) from the host into a container.",
      {field<&SyncMapping::container>("container", "target container name", true),
       field_with<&SyncMapping::src, PathCodec>("src", "host path, relative to this file", true),
       field<&SyncMapping::dest>("dest", "path inside the container", true),
       field<&SyncMapping::ignore>("ignore", "extra ignore patterns")}};
  return desc;
}

template <>
const ObjectDesc<BridgeTarget>& describe<BridgeTarget>() {
  static const ObjectDesc<BridgeTarget> desc{
      "bridge target",
      "A remote Kubernetes Service forwarded to a local port.",
      {field<&BridgeTarget::service>("service", "Kubernetes Service name", true),
       field<&BridgeTarget::namespace_>("namespace", "namespace (default: bridge.namespace)"),
       field_with<&BridgeTarget::port, Port>("port", "Service port", true),
       field_with<&BridgeTarget::local_port, PortOrAny>("local_port", "local port (0 = any free port)")}};
  return desc;
}

template <>
const ObjectDesc<BridgeIntercept>& describe<BridgeIntercept>() {
  static const ObjectDesc<BridgeIntercept> desc{
      "bridge intercept",
      "A remote Kubernetes Service whose traffic is sent to a local process.",
      {field<&BridgeIntercept::service>("service", "Kubernetes Service name", true),
       field<&BridgeIntercept::namespace_>("namespace", "namespace (default: bridge.namespace)"),
       field_with<&BridgeIntercept::port, Port>("port", "Service port to intercept", true),
       field_with<&BridgeIntercept::local_port, PortOrAny>("local_port",
                                           "local port receiving the traffic (default: port)"),
       field<&BridgeIntercept::mode>("mode", "steal (the only mode so far)")}};
  return desc;
}

template <>
const ObjectDesc<BridgeConfig>& describe<BridgeConfig>() {
  static const ObjectDesc<BridgeConfig> desc{
      "bridge section",
      "Access to a remote Kubernetes cluster.",
      {field<&BridgeConfig::kubeconfig>("kubeconfig", "kubeconfig path (default ~/.kube/config)"),
       field<&BridgeConfig::context>("context", "kubeconfig context"),
       field<&BridgeConfig::namespace_>("namespace", "default namespace (default: default)"),
       field<&BridgeConfig::agent_image>("agent_image", "image of the in-cluster intercept agent"),
       field<&BridgeConfig::targets>("targets", "Services forwarded by devx bridge connect"),
       field<&BridgeConfig::intercepts>("intercepts", "Services intercepted by devx bridge")},
      {{"location", [](const BridgeConfig& b) { return location_json(b.location); },
        location_schema}}};
  return desc;
}

template <>
const ObjectDesc<Service>& describe<Service>() {
  static const ObjectDesc<Service> desc{
      "service",
      "A node of the dependency graph started by devx up.",
      {field<&Service::name>("name", "unique among services and databases", true),
       field<&Service::runtime>("runtime", "where it runs (default host)"),
       field_with<&Service::command, ArgvCodec>("command", "what to run"),
       field<&Service::image>("image", "container image (runtime: container)"),
       field_with<&Service::port, Port>("port", "host port; shifted when busy and exported as PORT"),
       field_with<&Service::container_port, Port>("container_port",
                                       "port inside the container (default: port)"),
       field_with<&Service::working_dir, PathCodec>(
           "working_dir", "working directory, relative to this file (default: its directory)"),
       field_with<&Service::env, EnvMapCodec>("env", "extra environment variables"),
       field<&Service::depends_on>("depends_on", "services and databases to wait for"),
       Field<Service>{
           "healthcheck", "readiness probe", false,
           [](const YAML::Node& node, Service& service, DecodeContext& ctx) {
             // Naming a probe kind replaces the whole check; only timings merge with the base.
             bool names_kind = node.IsNull();
             if (node.IsMap())
               for (const char* kind : {"http", "tcp", "exec", "log"}) names_kind |= bool(node[kind]);
             if (names_kind) service.healthcheck.reset();
             if (!node.IsNull()) Codec<std::optional<HealthCheck>>::decode(node, service.healthcheck, ctx);
           },
           [](const Service& service, EncodeMode mode) {
             return encode_value(service.healthcheck, mode);
           },
           [](SchemaMode mode) { return Codec<HealthCheck>::schema(mode); }},
       field_with<&Service::restart, RestartCodec>("restart",
                                                   "no | on-failure[:N] | always (default no)"),
       field<&Service::stop_grace_period>(
           "stop_grace_period", "time between SIGTERM and SIGKILL on stop (default 10s)"),
       field<&Service::sync>("sync", "file synchronisation into containers"),
       field<&Service::bridge_target>("bridge_target", "runtime: bridge — forward a remote Service"),
       field<&Service::bridge_intercept>("bridge_intercept",
                                         "runtime: bridge — intercept a remote Service")},
      {{"env_sources",
        [](const Service& s) { return Codec<std::vector<std::string>>::encode(s.env_sources, EncodeMode::resolved); },
        [] { return Codec<std::vector<std::string>>::schema(SchemaMode::config); }},
       {"dir", [](const Service& s) { return json::value(s.dir.string()); },
        [] { return json::value{{"type", "string"}}; }},
       {"location", [](const Service& s) { return location_json(s.location); }, location_schema}}};
  return desc;
}

template <>
const ObjectDesc<DatabasePull>& describe<DatabasePull>() {
  static const ObjectDesc<DatabasePull> desc{
      "database pull",
      "How devx db pull fetches a dump.",
      {field<&DatabasePull::command>("command", "shell command writing a dump to stdout", true),
       field<&DatabasePull::format>("format", "sql | custom (pg_restore; postgres only)"),
       field<&DatabasePull::jobs>("jobs", "parallel restore jobs (0 = number of CPUs)")}};
  return desc;
}

struct SeedSection {
  std::string command;
};
template <> inline constexpr bool kDescribed<SeedSection> = true;
template <>
const ObjectDesc<SeedSection>& describe<SeedSection>() {
  static const ObjectDesc<SeedSection> desc{
      "database seed", "How devx db seed fills the database.",
      {field<&SeedSection::command>("command", "shell command run on the host", true)}};
  return desc;
}

template <>
const ObjectDesc<Database>& describe<Database>() {
  static const ObjectDesc<Database> desc{
      "database",
      "A database server started by devx up.",
      {field<&Database::name>("name", "node name (default: the engine)"),
       field<&Database::engine>("engine", "database engine", true),
       field_with<&Database::port, PortOrAny>("port", "host port (default: the engine's; shifted when busy)"),
       field<&Database::version>("version", "engine version (container image tag)"),
       field<&Database::runtime>("runtime",
                                 "container, host (installed server binaries) or auto (default)"),
       field<&Database::pull>("pull", "where devx db pull gets data"),
       Field<Database>{
           "seed", "how devx db seed fills the database", false,
           [](const YAML::Node& node, Database& db, DecodeContext& ctx) {
             SeedSection seed{db.seed_command};
             if (!node.IsNull()) Codec<SeedSection>::decode(node, seed, ctx);
             db.seed_command = node.IsNull() ? std::string() : seed.command;
           },
           [](const Database& db, EncodeMode mode) -> std::optional<json::value> {
             if (db.seed_command.empty()) return std::nullopt;
             return Codec<SeedSection>::encode(SeedSection{db.seed_command}, mode);
           },
           [](SchemaMode mode) { return Codec<SeedSection>::schema(mode); }}},
      {{"dir", [](const Database& d) { return json::value(d.dir.string()); },
        [] { return json::value{{"type", "string"}}; }},
       {"location", [](const Database& d) { return location_json(d.location); }, location_schema}}};
  return desc;
}

struct SecretCodec {
  static void decode(const YAML::Node& node, std::string& out, DecodeContext& ctx) {
    Codec<std::string>::decode(node, out, ctx);
  }
  // user:password → user:******** (secrets never appear in output).
  static json::value encode(const std::string& value, EncodeMode) {
    if (value.empty()) return "";
    const auto colon = value.find(':');
    return json::value(colon == std::string::npos ? std::string("********")
                                                  : value.substr(0, colon) + ":********");
  }
  static json::value schema(SchemaMode) { return {{"type", "string"}, {"pattern", "^[^:]+:.+$"}}; }
};

template <>
const ObjectDesc<Tunnel>& describe<Tunnel>() {
  static const ObjectDesc<Tunnel> desc{
      "tunnel",
      "A public Cloudflare Tunnel route to a local port.",
      {field<&Tunnel::name>("name", "subdomain label (default port-<port>)"),
       field_with<&Tunnel::port, Port>("port", "local port", true),
       field_with<&Tunnel::basic_auth, SecretCodec>("basic_auth", "user:password in front"),
       field<&Tunnel::throttle>("throttle", "traffic-shaping profile (3g, edge, slow)")},
      {{"location", [](const Tunnel& t) { return location_json(t.location); }, location_schema}}};
  return desc;
}

template <>
const ObjectDesc<Mock>& describe<Mock>() {
  static const ObjectDesc<Mock> desc{
      "mock",
      "An OpenAPI mock server (devx mock up).",
      {field<&Mock::name>("name", "mock name; exported as MOCK_<NAME>_URL", true),
       field<&Mock::url>("url", "OpenAPI document URL or path", true),
       field_with<&Mock::port, PortOrAny>("port", "local port (0 = any free port)")},
      {{"location", [](const Mock& m) { return location_json(m.location); }, location_schema}}};
  return desc;
}

template <>
const ObjectDesc<UiTest>& describe<UiTest>() {
  static const ObjectDesc<UiTest> desc{
      "ui test", "The UI test suite.",
      {field<&UiTest::setup>("setup", "shell command run first"),
       field<&UiTest::command>("command", "shell command running the tests", true)}};
  return desc;
}

template <class S>
void require_one_of_command_keys(const YAML::Node& node, S&, DecodeContext& ctx) {
  if (node["command"] && node["commands"])
    ctx.error(node["commands"], "set either command or commands, not both");
}

template <>
const ObjectDesc<PipelineStage>& describe<PipelineStage>() {
  static const ObjectDesc<PipelineStage> desc{
      "pipeline stage",
      "A stage run by devx agent ship.",
      {field_with<&PipelineStage::commands, SingleArgvListCodec>("command", "one command"),
       field_with<&PipelineStage::commands, ArgvListCodec>("commands", "several commands, in order"),
       field_with<&PipelineStage::before, ArgvListCodec>("before", "commands run before"),
       field_with<&PipelineStage::after, ArgvListCodec>("after", "commands run after")},
      {},
      require_one_of_command_keys<PipelineStage>};
  return desc;
}

template <>
const ObjectDesc<Pipeline>& describe<Pipeline>() {
  static const ObjectDesc<Pipeline> desc{
      "pipeline",
      "Explicit pipeline stages (otherwise detected from the stack).",
      {field<&Pipeline::test>("test", "test stage"), field<&Pipeline::lint>("lint", "lint stage"),
       field<&Pipeline::build>("build", "build stage"),
       field<&Pipeline::verify>("verify", "verify stage")}};
  return desc;
}

template <>
const ObjectDesc<CommandList>& describe<CommandList>() {
  static const ObjectDesc<CommandList> desc{
      "custom action",
      "A named action run by devx action.",
      {field_with<&CommandList::commands, SingleArgvListCodec>("command", "one command"),
       field_with<&CommandList::commands, ArgvListCodec>("commands", "several commands, in order")},
      {},
      [](const YAML::Node& node, CommandList& list, DecodeContext& ctx) {
        require_one_of_command_keys(node, list, ctx);
        if (!node["command"] && !node["commands"])
          ctx.error(node, "custom action needs command or commands");
      }};
  return desc;
}

namespace {

json::value include_schema() {
  json::value entry{
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{"path", {{"type", "string"}, {"description", "devx.yaml to include, relative to this file"}}},
        {"env_file",
         {{"type", "string"},
          {"description", "dotenv file for the included sub-project, relative to this file"}}}}},
      {"required", json::array{"path"}}};
  json::value item{{"oneOf", json::array{{{"type", "string"}}, std::move(entry)}}};
  return {{"type", "array"}, {"items", std::move(item)}};
}

void decode_includes(const YAML::Node& node, Project&, DecodeContext& ctx) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    ctx.error(node, "expected a list of includes, got " + std::string(yaml_kind(node)));
    return;
  }
  static constexpr std::string_view keys[] = {"path", "env_file"};
  static constexpr bool required[] = {true, false};
  for (const YAML::Node& item : node) {
    IncludeEntry entry;
    entry.location = ctx.location(item);
    entry.node = item;
    if (item.IsScalar()) {
      entry.path = item.Scalar();
    } else if (item.IsMap()) {
      decode_object_fields(
          item, "include", keys, required,
          [&](std::size_t index, const YAML::Node& value) {
            Codec<std::string>::decode(value, index == 0 ? entry.path : entry.env_file, ctx);
          },
          ctx);
    } else {
      ctx.error(item, "expected an include path or {path, env_file}, got " +
                          std::string(yaml_kind(item)));
      continue;
    }
    if (entry.path.empty()) {
      if (item.IsScalar()) ctx.error(item, "include path must not be empty");
      continue;
    }
    ctx.extras->includes.push_back(std::move(entry));
  }
}

void decode_profiles(const YAML::Node& node, Project&, DecodeContext& ctx) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    ctx.error(node, "expected a mapping of profile names, got " + std::string(yaml_kind(node)));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar().empty()) {
      ctx.error(it->first, "profile names must be non-empty strings");
      continue;
    }
    for (const ProfileEntry& existing : ctx.extras->profiles) {
      if (existing.name == it->first.Scalar())
        ctx.error(it->first, "duplicate profile '" + existing.name + "'");
    }
    ctx.extras->profiles.push_back({it->first.Scalar(), it->second, ctx.location(it->first)});
  }
}

// One of the VM providers; a string rather than an enumeration because providers are plug-ins.
struct ProviderCodec {
  static constexpr std::string_view kNames[] = {"auto",   "podman",   "lima", "colima",
                                                "docker", "orbstack", "host"};
  static void decode(const YAML::Node& node, std::string& out, DecodeContext& ctx) {
    std::string text;
    Codec<std::string>::decode(node, text, ctx);
    if (std::find(std::begin(kNames), std::end(kNames), text) != std::end(kNames)) {
      out = text;
      return;
    }
    const std::string suggestion = closest_match(text, kNames);
    if (node.IsScalar())
      ctx.error(node, "unknown provider '" + text + "'",
                suggestion.empty() ? "use auto, podman, lima, colima, docker, orbstack or host"
                                   : "did you mean '" + suggestion + "'?");
  }
  static json::value encode(const std::string& value, EncodeMode) { return json::value(value); }
  static json::value schema(SchemaMode) {
    json::array names;
    for (std::string_view name : kNames) names.emplace_back(name);
    return {{"type", "string"}, {"enum", std::move(names)}};
  }
};

std::optional<json::value> encode_nothing(const Project&, EncodeMode) { return std::nullopt; }

}  // namespace

const std::vector<std::string_view> kProfileKeys = {"services", "databases", "tunnels", "mocks",
                                                    "bridge"};

json::value profile_schema() {
  json::object properties{
      {"services", Codec<std::vector<Service>>::schema(SchemaMode::overlay)},
      {"databases", Codec<std::vector<Database>>::schema(SchemaMode::overlay)},
      {"tunnels", Codec<std::vector<Tunnel>>::schema(SchemaMode::overlay)},
      {"mocks", Codec<std::vector<Mock>>::schema(SchemaMode::overlay)},
      {"bridge", Codec<BridgeConfig>::schema(SchemaMode::config)}};
  return {{"type", "object"},
          {"description",
           "Overlay applied with --profile: entries match by name; scalars and lists replace, "
           "mappings merge; null resets a key."},
          {"additionalProperties", false},
          {"properties", std::move(properties)}};
}

template <>
const ObjectDesc<Project>& describe<Project>() {
  static const ObjectDesc<Project> desc{
      "devx.yaml",
      "A devx project.",
      {field<&Project::name>("name", "project name (default: the directory name)"),
       field<&Project::domain>("domain", "base domain of public tunnels"),
       field_with<&Project::provider, ProviderCodec>("provider", "VM provider (default auto)"),
       section_field<AiSection>(
           "ai", "local AI integration", [](const Project& p) { return AiSection{p.ai_bridge}; },
           [](Project& p, AiSection s) { p.ai_bridge = s.bridge; }),
       field_with<&Project::env, EnvSourceListCodec>("env", "environment sources"),
       Field<Project>{"include", "other devx.yaml files composed into this project", false,
                      decode_includes, encode_nothing,
                      [](SchemaMode) { return include_schema(); }},
       field<&Project::tunnels>("tunnels", "public tunnel routes"),
       field<&Project::databases>("databases", "database servers"),
       field<&Project::services>("services", "services"),
       field<&Project::mocks>("mocks", "OpenAPI mock servers"),
       Field<Project>{
           "test", "test suites", false,
           [](const YAML::Node& node, Project& p, DecodeContext& ctx) {
             TestSection section{p.ui_test};
             if (!node.IsNull()) Codec<TestSection>::decode(node, section, ctx);
             p.ui_test = node.IsNull() ? std::nullopt : section.ui;
           },
           [](const Project& p, EncodeMode mode) -> std::optional<json::value> {
             if (!p.ui_test) return std::nullopt;
             return Codec<TestSection>::encode(TestSection{p.ui_test}, mode);
           },
           [](SchemaMode mode) { return Codec<TestSection>::schema(mode); }},
       field<&Project::pipeline>("pipeline", "pipeline stages"),
       field<&Project::custom_actions>("customActions", "named actions for devx action"),
       field<&Project::bridge>("bridge", "remote Kubernetes cluster"),
       section_field<StateSection>(
           "state", "shared state",
           [](const Project& p) { return StateSection{p.state_relay}; },
           [](Project& p, StateSection s) { p.state_relay = std::move(s.relay); }),
       Field<Project>{"profiles", "named overlays selected with --profile", false,
                      decode_profiles, encode_nothing,
                      [](SchemaMode) {
                        return json::value{{"type", "object"},
                                           {"additionalProperties", profile_schema()}};
                      }}},
      {{"profiles", [](const Project& p) { return Codec<std::vector<std::string>>::encode(p.profiles, EncodeMode::resolved); },
        [] { return Codec<std::vector<std::string>>::schema(SchemaMode::config); }},
       {"profile", [](const Project& p) { return json::value(p.active_profile); },
        [] { return json::value{{"type", "string"}}; }},
       {"root_file", [](const Project& p) { return json::value(p.root_file.string()); },
        [] { return json::value{{"type", "string"}}; }},
       {"root_dir", [](const Project& p) { return json::value(p.root_dir.string()); },
        [] { return json::value{{"type", "string"}}; }},
       {"files",
        [](const Project& p) {
          json::array files;
          for (const auto& f : p.files) files.emplace_back(f.string());
          return json::value(std::move(files));
        },
        [] { return Codec<std::vector<std::string>>::schema(SchemaMode::config); }}}};
  return desc;
}

}  // namespace devx::config
