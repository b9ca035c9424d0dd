#pragma once
// The field tables of every devx.yaml type (fields.cpp): the one place that says which keys exist.
#include "config/codec.hpp"

namespace devx::config {

template <> struct EnumNames<ServiceRuntime> {
  static const std::vector<std::pair<std::string_view, ServiceRuntime>> names;
};
template <> struct EnumNames<DependencyCondition> {
  static const std::vector<std::pair<std::string_view, DependencyCondition>> names;
};
template <> struct EnumNames<DatabaseEngine> {
  static const std::vector<std::pair<std::string_view, DatabaseEngine>> names;
};
template <> struct EnumNames<DatabaseRuntime> {
  static const std::vector<std::pair<std::string_view, DatabaseRuntime>> names;
};

// argv: a list of strings, or one string run through /bin/sh -c.
struct ArgvCodec {
  static void decode(const YAML::Node& node, std::vector<std::string>& out, DecodeContext& ctx);
  static boost::json::value encode(const std::vector<std::string>& value, EncodeMode mode);
  static boost::json::value schema(SchemaMode mode);
};

// A path resolved against the directory of the file that declares it.
struct PathCodec {
  static void decode(const YAML::Node& node, std::string& out, DecodeContext& ctx);
  static boost::json::value encode(const std::string& value, EncodeMode) {
    return boost::json::string(value);
  }
  static boost::json::value schema(SchemaMode) { return {{"type", "string"}}; }
};

// `depends_on` entries: a name, or {name, condition}.
template <> struct Codec<Dependency> {
  static void decode(const YAML::Node& node, Dependency& out, DecodeContext& ctx);
  static boost::json::value encode(const Dependency& value, EncodeMode mode);
  static boost::json::value schema(SchemaMode mode);
};

#define DEVX_DESCRIBED(T)                 \
  template <>                             \
  inline constexpr bool kDescribed<T> = true; \
  template <>                             \
  const ObjectDesc<T>& describe<T>();
DEVX_DESCRIBED(Project)
DEVX_DESCRIBED(Service)
DEVX_DESCRIBED(HealthCheck)
DEVX_DESCRIBED(Database)
DEVX_DESCRIBED(DatabasePull)
DEVX_DESCRIBED(Tunnel)
DEVX_DESCRIBED(Mock)
DEVX_DESCRIBED(SyncMapping)
DEVX_DESCRIBED(BridgeTarget)
DEVX_DESCRIBED(BridgeIntercept)
DEVX_DESCRIBED(BridgeConfig)
DEVX_DESCRIBED(UiTest)
DEVX_DESCRIBED(PipelineStage)
DEVX_DESCRIBED(Pipeline)
DEVX_DESCRIBED(CommandList)
#undef DEVX_DESCRIBED


// The schema of a profile's body (used for profiles: in the devx.yaml schema).
boost::json::value profile_schema();

// Resolves a file:// (or scheme-less) environment source against `dir`; other URIs unchanged.
std::string absolute_env_source(const std::string& uri, const std::filesystem::path& dir);

}  // namespace devx::config
