#include "config/codec.hpp"

#include "config/duration.hpp"
#include "config/suggest.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace devx::config {

SourceLocation DecodeContext::location(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

void DecodeContext::error(const YAML::Node& node, std::string message, std::string hint) const {
  diagnostics->push_back({Severity::error, location(node), std::move(message), std::move(hint)});
}

void DecodeContext::warning(const YAML::Node& node, std::string message, std::string hint) const {
  diagnostics->push_back({Severity::warning, location(node), std::move(message), std::move(hint)});
}

std::string_view yaml_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

void Codec<std::string>::decode(const YAML::Node& node, std::string& out, DecodeContext& ctx) {
  if (!node.IsScalar()) {
    ctx.error(node, "expected a string, got " + std::string(yaml_kind(node)));
    return;
  }
  out = node.Scalar();
}

void Codec<int>::decode(const YAML::Node& node, int& out, DecodeContext& ctx) {
  if (!node.IsScalar()) {
    ctx.error(node, "expected an integer, got " + std::string(yaml_kind(node)));
    return;
  }
  const std::string& text = node.Scalar();
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < std::numeric_limits<int>::min() ||
      value > std::numeric_limits<int>::max()) {
    ctx.error(node, "expected an integer, got '" + text + "'");
    return;
  }
  out = static_cast<int>(value);
}

void Codec<bool>::decode(const YAML::Node& node, bool& out, DecodeContext& ctx) {
  if (!node.IsScalar()) {
    ctx.error(node, "expected true or false, got " + std::string(yaml_kind(node)));
    return;
  }
  const std::string& text = node.Scalar();
  if (text == "true" || text == "True" || text == "TRUE") {
    out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out = false;
  } else {
    ctx.error(node, "expected true or false, got '" + text + "'");
  }
}

void Codec<Milliseconds>::decode(const YAML::Node& node, Milliseconds& out, DecodeContext& ctx) {
  if (!node.IsScalar()) {
    ctx.error(node, "expected a duration, got " + std::string(yaml_kind(node)));
    return;
  }
  const auto parsed = parse_duration(node.Scalar());
  if (!parsed) {
    ctx.error(node, "invalid duration '" + node.Scalar() + "'",
              "write a number with a unit: 500ms, 5s, 1m30s");
    return;
  }
  if (parsed->count() < 0) {
    ctx.error(node, "duration must not be negative");
    return;
  }
  out = *parsed;
}

boost::json::value Codec<Milliseconds>::encode(Milliseconds value, EncodeMode) {
  return boost::json::string(format_duration(value));
}

boost::json::value Codec<Milliseconds>::schema(SchemaMode) {
  return {{"type", "string"},
          {"pattern", R"(^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$)"},
          {"examples", boost::json::array{"500ms", "5s", "1m30s"}}};
}

void decode_object_fields(const YAML::Node& node, std::string_view what,
                          std::span<const std::string_view> keys, std::span<const bool> required,
                          const std::function<void(std::size_t, const YAML::Node&)>& apply,
                          DecodeContext& ctx) {
  std::uint64_t seen = 0;  // objects have fewer than 64 keys
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;  // a copy: `it->` yields a temporary
    if (!key_node.IsScalar()) {
      ctx.error(key_node, "keys of " + std::string(what) + " must be strings");
      continue;
    }
    const std::string& key = key_node.Scalar();
    std::size_t index = 0;
    while (index < keys.size() && keys[index] != key) ++index;
    if (index == keys.size()) {
      const std::string suggestion = closest_match(key, keys);
      ctx.error(key_node, "unknown key '" + key + "' in " + std::string(what),
                suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'?");
      continue;
    }
    const std::uint64_t bit = std::uint64_t{1} << index;
    if (seen & bit) {
      ctx.error(key_node, "duplicate key '" + key + "' in " + std::string(what));
      continue;
    }
    seen |= bit;
    apply(index, it->second);
  }
  if (ctx.overlay) return;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (required[i] && !(seen & (std::uint64_t{1} << i)))
      ctx.error(node, std::string(what) + " is missing the required key '" + std::string(keys[i]) + "'");
  }
}

boost::json::value with_doc(boost::json::value schema, std::string_view doc) {
  if (!doc.empty() && schema.is_object()) schema.as_object()["description"] = doc;
  return schema;
}

boost::json::value location_schema() {
  return {{"type", "object"},
          {"properties",
           {{"file", {{"type", "string"}}},
            {"line", {{"type", "integer"}}},
            {"column", {{"type", "integer"}}}}},
          {"required", boost::json::array{"file", "line", "column"}}};
}

boost::json::value location_json(const SourceLocation& location) {
  return {{"file", location.file}, {"line", location.line}, {"column", location.column}};
}

}  // namespace devx::config
