#pragma once
// The field table machinery behind devx.yaml. Every model type has one description (its keys,
// their types and documentation); the same description decodes YAML (strictly, with
// file:line:col diagnostics), encodes the resolved JSON, and emits the JSON Schema, so the three
// cannot drift apart.
//
// Decoding writes into an existing value: a mapping only touches the keys it has. That is how a
// profile is layered over the base configuration (scalars and lists replace, mappings merge key
// by key). An explicit YAML null resets a key to its default.
#include <devx/config.hpp>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <concepts>
#include <type_traits>
#include <vector>

namespace devx::config {

struct FileExtras;  // include: and profiles: of one file, collected while decoding it

struct DecodeContext {
  std::string file;            // absolute path of the file being decoded
  std::filesystem::path dir;   // its directory
  std::vector<Diagnostic>* diagnostics = nullptr;
  bool overlay = false;        // decoding a profile entry: required keys may be absent
  FileExtras* extras = nullptr;

  SourceLocation location(const YAML::Node& node) const;
  void error(const YAML::Node& node, std::string message, std::string hint = {}) const;
  void warning(const YAML::Node& node, std::string message, std::string hint = {}) const;
};

enum class EncodeMode {
  resolved,  // the resolved project: every effective value plus provenance
  config,    // devx.yaml-shaped: only keys a user can write
};

enum class SchemaMode {
  config,    // devx.yaml as written
  overlay,   // a profile entry: nothing is required
  resolved,  // the resolved project JSON (EncodeMode::resolved)
};

// A human name for the node's YAML type, for "expected X, got Y" messages.
std::string_view yaml_kind(const YAML::Node& node);

template <class T>
struct Codec;

// ---- object descriptions --------------------------------------------------------------------

template <class S>
struct Field {
  std::string_view key;
  std::string_view doc;
  bool required = false;
  std::function<void(const YAML::Node&, S&, DecodeContext&)> decode;
  // nullopt: the key is omitted (an unset optional).
  std::function<std::optional<boost::json::value>(const S&, EncodeMode)> encode;
  std::function<boost::json::value(SchemaMode)> schema;
};

// Provenance and derived values: encoded in resolved mode only, never read from YAML.
template <class S>
struct DerivedField {
  std::string_view key;
  std::function<boost::json::value(const S&)> encode;
  std::function<boost::json::value()> schema;
};

template <class S>
struct ObjectDesc {
  std::string_view what;  // "service", used in messages
  std::string_view doc;
  std::vector<Field<S>> fields;
  std::vector<DerivedField<S>> derived = {};
  // Checks that span several keys (e.g. "command or commands, not both"); runs after decoding.
  std::function<void(const YAML::Node&, S&, DecodeContext&)> after_decode = {};
};

// Specialised in fields.cpp for every model type, which fields.hpp also marks as kDescribed.
template <class S>
const ObjectDesc<S>& describe();

template <class T>
inline constexpr bool kDescribed = false;

template <class T>
concept Described = kDescribed<T>;

// ---- primitive codecs -----------------------------------------------------------------------

template <>
struct Codec<std::string> {
  static void decode(const YAML::Node& node, std::string& out, DecodeContext& ctx);
  static boost::json::value encode(const std::string& value, EncodeMode) { return boost::json::string(value); }
  static boost::json::value schema(SchemaMode) { return {{"type", "string"}}; }
};

template <>
struct Codec<int> {
  static void decode(const YAML::Node& node, int& out, DecodeContext& ctx);
  static boost::json::value encode(int value, EncodeMode) { return value; }
  static boost::json::value schema(SchemaMode) { return {{"type", "integer"}}; }
};

template <>
struct Codec<bool> {
  static void decode(const YAML::Node& node, bool& out, DecodeContext& ctx);
  static boost::json::value encode(bool value, EncodeMode) { return value; }
  static boost::json::value schema(SchemaMode) { return {{"type", "boolean"}}; }
};

template <>
struct Codec<Milliseconds> {
  static void decode(const YAML::Node& node, Milliseconds& out, DecodeContext& ctx);
  static boost::json::value encode(Milliseconds value, EncodeMode);
  static boost::json::value schema(SchemaMode);
};

template <class T>
struct Codec<std::vector<T>> {
  static void decode(const YAML::Node& node, std::vector<T>& out, DecodeContext& ctx) {
    if (!node.IsSequence()) {
      ctx.error(node, "expected a list, got " + std::string(yaml_kind(node)));
      return;
    }
    std::vector<T> decoded;
    decoded.reserve(node.size());
    for (const YAML::Node& item : node) {
      if (item.IsNull()) {
        ctx.error(item, "empty list entry");
        continue;
      }
      Codec<T>::decode(item, decoded.emplace_back(), ctx);
    }
    out = std::move(decoded);  // lists replace, even in a profile
  }
  static boost::json::value encode(const std::vector<T>& value, EncodeMode mode) {
    boost::json::array array;
    array.reserve(value.size());
    for (const T& item : value) array.push_back(Codec<T>::encode(item, mode));
    return array;
  }
  static boost::json::value schema(SchemaMode mode) {
    return {{"type", "array"}, {"items", Codec<T>::schema(mode)}};
  }
};

template <class T>
struct Codec<std::optional<T>> {
  static void decode(const YAML::Node& node, std::optional<T>& out, DecodeContext& ctx) {
    // Decode a copy so that a value with errors does not leave a half-set default behind.
    T value = out ? *out : T{};
    const std::size_t before = ctx.diagnostics->size();
    Codec<T>::decode(node, value, ctx);
    if (ctx.diagnostics->size() == before) out = std::move(value);
  }
  static boost::json::value schema(SchemaMode mode) { return Codec<T>::schema(mode); }
};

template <class T>
struct Codec<std::map<std::string, T>> {
  static void decode(const YAML::Node& node, std::map<std::string, T>& out, DecodeContext& ctx);
  static boost::json::value encode(const std::map<std::string, T>& value, EncodeMode mode) {
    boost::json::object object;
    for (const auto& [key, item] : value) object[key] = Codec<T>::encode(item, mode);
    return object;
  }
  static boost::json::value schema(SchemaMode mode) {
    return {{"type", "object"}, {"additionalProperties", Codec<T>::schema(mode)}};
  }
};

// Enumerations are described by a name table (specialised in fields.cpp).
template <class E>
struct EnumNames;

template <class E>
void decode_enum(const YAML::Node& node, E& out, DecodeContext& ctx);

template <class E>
  requires std::is_enum_v<E> && requires { EnumNames<E>::names; }
struct Codec<E> {
  static void decode(const YAML::Node& node, E& out, DecodeContext& ctx) {
    decode_enum(node, out, ctx);
  }
  static boost::json::value encode(E value, EncodeMode) {
    for (const auto& [name, item] : EnumNames<E>::names)
      if (item == value) return boost::json::string(name);
    return nullptr;
  }
  static boost::json::value schema(SchemaMode) {
    boost::json::array names;
    for (const auto& entry : EnumNames<E>::names) names.emplace_back(entry.first);
    return {{"type", "string"}, {"enum", names}};
  }
};

// Objects with a description.
// (Member definitions forward to function templates: clang rejects out-of-line definitions of
// members of constrained partial specialisations.)
template <class S>
void decode_described(const YAML::Node& node, S& out, DecodeContext& ctx);
template <class S>
boost::json::value encode_described(const S& value, EncodeMode mode);
template <class S>
boost::json::value schema_described(SchemaMode mode);

template <Described S>
struct Codec<S> {
  static void decode(const YAML::Node& node, S& out, DecodeContext& ctx) {
    decode_described(node, out, ctx);
  }
  static boost::json::value encode(const S& value, EncodeMode mode) {
    return encode_described(value, mode);
  }
  static boost::json::value schema(SchemaMode mode) { return schema_described<S>(mode); }
};

// ---- helpers to write descriptions ----------------------------------------------------------

template <class M>
struct MemberTraits;
template <class C, class M>
struct MemberTraits<M C::*> {
  using Class = C;
  using Type = M;
};

// In config mode a value equal to its default is left out (a devx.yaml names what differs),
// unless the key is required.
template <class T>
struct IsContainer : std::false_type {};
template <class T>
struct IsContainer<std::vector<T>> : std::true_type {};
template <class K, class T>
struct IsContainer<std::map<K, T>> : std::true_type {};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class S, class T>
bool is_default(const S&, const T& value, T S::*member, EncodeMode mode) {
  if (mode != EncodeMode::config) return false;
  static const S defaults{};
  if constexpr (IsContainer<T>::value) {
    return value.empty() && (defaults.*member).empty();
  } else if constexpr (IsOptional<T>::value) {
    return !value && !(defaults.*member);
  } else if constexpr (std::equality_comparable<T>) {
    return value == defaults.*member;
  }
  return false;
}

template <class T>
std::optional<boost::json::value> encode_value(const T& value, EncodeMode mode) {
  return Codec<T>::encode(value, mode);
}
template <class T>
std::optional<boost::json::value> encode_value(const std::optional<T>& value, EncodeMode mode) {
  if (!value) return std::nullopt;
  return Codec<T>::encode(*value, mode);
}

// A key stored in a member of the same type: field<&Service::name>("name", "…").
template <auto Member>
Field<typename MemberTraits<decltype(Member)>::Class> field(std::string_view key,
                                                             std::string_view doc,
                                                             bool required = false) {
  using S = typename MemberTraits<decltype(Member)>::Class;
  using T = typename MemberTraits<decltype(Member)>::Type;
  return Field<S>{
      key, doc, required,
      [](const YAML::Node& node, S& object, DecodeContext& ctx) {
        if (node.IsNull()) {
          object.*Member = S{}.*Member;  // explicit null resets to the default
          return;
        }
        Codec<T>::decode(node, object.*Member, ctx);
      },
      [required](const S& object, EncodeMode mode) -> std::optional<boost::json::value> {
        if (!required && is_default(object, object.*Member, Member, mode)) return std::nullopt;
        return encode_value(object.*Member, mode);
      },
      [](SchemaMode mode) { return Codec<T>::schema(mode); }};
}

// A key stored in a member but read and written by another codec (e.g. ArgvCodec for commands).
template <auto Member, class CodecT>
Field<typename MemberTraits<decltype(Member)>::Class> field_with(std::string_view key,
                                                                  std::string_view doc,
                                                                  bool required = false) {
  using S = typename MemberTraits<decltype(Member)>::Class;
  return Field<S>{key, doc, required,
                  [](const YAML::Node& node, S& object, DecodeContext& ctx) {
                    if (node.IsNull()) {
                      object.*Member = S{}.*Member;
                      return;
                    }
                    CodecT::decode(node, object.*Member, ctx);
                  },
                  [required](const S& object, EncodeMode mode) -> std::optional<boost::json::value> {
                    if (!required && is_default(object, object.*Member, Member, mode))
                      return std::nullopt;
                    return std::optional<boost::json::value>(CodecT::encode(object.*Member, mode));
                  },
                  [](SchemaMode mode) { return CodecT::schema(mode); }};
}

// Adds a description to a schema.
boost::json::value with_doc(boost::json::value schema, std::string_view doc);
boost::json::value location_schema();
boost::json::value location_json(const SourceLocation& location);

// ---- template definitions -------------------------------------------------------------------

template <class T>
void Codec<std::map<std::string, T>>::decode(const YAML::Node& node, std::map<std::string, T>& out,
                                             DecodeContext& ctx) {
  if (!node.IsMap()) {
    ctx.error(node, "expected a mapping, got " + std::string(yaml_kind(node)));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      ctx.error(it->first, "keys must be strings");
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (it->second.IsNull()) {
      out.erase(key);  // a profile can remove a key with null
      continue;
    }
    Codec<T>::decode(it->second, out[key], ctx);  // mappings merge key by key
  }
}

template <class E>
void decode_enum(const YAML::Node& node, E& out, DecodeContext& ctx) {
  if (!node.IsScalar()) {
    ctx.error(node, "expected a string, got " + std::string(yaml_kind(node)));
    return;
  }
  const std::string& text = node.Scalar();
  std::string allowed;
  for (const auto& [name, value] : EnumNames<E>::names) {
    if (text == name) {
      out = value;
      return;
    }
    allowed += allowed.empty() ? "" : ", ";
    allowed += name;
  }
  ctx.error(node, "invalid value '" + text + "' (expected one of: " + allowed + ")");
}

// Dispatches each key of `node` to apply(index of the key in `keys`), reporting unknown
// (with a suggestion), duplicate and — unless overlaying — missing required keys.
void decode_object_fields(const YAML::Node& node, std::string_view what,
                          std::span<const std::string_view> keys, std::span<const bool> required,
                          const std::function<void(std::size_t, const YAML::Node&)>& apply,
                          DecodeContext& ctx);

template <class S>
void decode_described(const YAML::Node& node, S& out, DecodeContext& ctx) {
  const ObjectDesc<S>& desc = describe<S>();
  if (!node.IsMap()) {
    ctx.error(node, "expected a mapping for " + std::string(desc.what) + ", got " +
                        std::string(yaml_kind(node)));
    return;
  }
  // Entries with a `location` member record where they were declared; a profile entry keeps the
  // position of the entry it overlays.
  if constexpr (requires { out.location = SourceLocation{}; }) {
    if (!ctx.overlay) out.location = ctx.location(node);
  }
  static const std::vector<std::string_view> keys = [&] {
    std::vector<std::string_view> list;
    for (const Field<S>& f : desc.fields) list.push_back(f.key);
    return list;
  }();
  static const std::unique_ptr<bool[]> required = [&] {
    auto flags = std::make_unique<bool[]>(desc.fields.size());
    for (std::size_t i = 0; i < desc.fields.size(); ++i) flags[i] = desc.fields[i].required;
    return flags;
  }();
  decode_object_fields(
      node, desc.what, keys, std::span<const bool>(required.get(), desc.fields.size()),
      [&](std::size_t index, const YAML::Node& value) { desc.fields[index].decode(value, out, ctx); },
      ctx);
  if (desc.after_decode) desc.after_decode(node, out, ctx);
}

template <class S>
boost::json::value encode_described(const S& value, EncodeMode mode) {
  const ObjectDesc<S>& desc = describe<S>();
  boost::json::object object;
  for (const Field<S>& f : desc.fields) {
    if (!f.encode) continue;
    if (auto encoded = f.encode(value, mode)) object[f.key] = std::move(*encoded);
  }
  if (mode == EncodeMode::resolved)
    for (const DerivedField<S>& d : desc.derived) object[d.key] = d.encode(value);
  return object;
}

template <class S>
boost::json::value schema_described(SchemaMode mode) {
  const ObjectDesc<S>& desc = describe<S>();
  boost::json::object properties;
  boost::json::array required;
  for (const Field<S>& f : desc.fields) {
    boost::json::value field_schema = with_doc(f.schema(mode), f.doc);
    // In a profile, null resets a key to its default.
    if (mode == SchemaMode::overlay)
      field_schema = {{"anyOf", boost::json::array{std::move(field_schema), {{"type", "null"}}}}};
    properties[f.key] = std::move(field_schema);
    if (f.required && mode == SchemaMode::config) required.emplace_back(f.key);
  }
  if (mode == SchemaMode::resolved)
    for (const DerivedField<S>& d : desc.derived) properties[d.key] = d.schema();
  boost::json::object schema{{"type", "object"},
                             {"description", desc.doc},
                             {"additionalProperties", false},
                             {"properties", std::move(properties)}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

}  // namespace devx::config
