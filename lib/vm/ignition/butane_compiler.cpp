// The Butane (fcos variant) → Ignition compiler: decodes the YAML with positions, translates it as
// Butane's base/v0_x translators do, validates it as Butane and Ignition would, and writes the
// document in the key order of Ignition's Go structs.
#include <devx/ignition.hpp>

#include "config/codec.hpp"
#include "config/suggest.hpp"
#include "core/utf8.hpp"
#include "vm/ignition/encoding.hpp"
#include "vm/ignition/go_json.hpp"

#include <devx/config.hpp>
#include <devx/error.hpp>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>

namespace devx {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct SpecVersion {
  std::string_view variant;
  std::string_view butane;
  std::string_view ignition;
  int ignition_minor;  // 3.<minor>.0
};

constexpr std::array<SpecVersion, 3> kVersions{{
    {"fcos", "1.3.0", "3.2.0", 2},
    {"fcos", "1.4.0", "3.3.0", 3},
    {"fcos", "1.5.0", "3.4.0", 4},
}};

// Aliases can make a small document expand exponentially; this bounds the work per compile.
constexpr std::size_t kNodeBudget = 2'000'000;
// A `local:` file is embedded in the config; anything larger is a mistake.
constexpr std::uintmax_t kLocalFileLimit = 64u << 20;

struct BudgetExceeded {};

// Errors quote paths and document text, which may be any bytes; error JSON must be valid UTF-8.
[[noreturn]] void fail(ErrorCode code, const std::string& message, const std::string& hint = {}) {
  throw Error(code, core::valid_utf8(message), core::valid_utf8(hint));
}

// A plain (unquoted, untagged) scalar, or one explicitly tagged with `tag` (e.g. !!int).
bool is_plain(const YAML::Node& node, std::string_view tag) {
  return node.Tag() == "?" || node.Tag() == "tag:yaml.org,2002:" + std::string(tag);
}

// Go's path.Clean.
std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == ".") {
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!rooted)
        parts.push_back(part);
    } else {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out = rooted ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

// Go's path.Join for two elements.
std::string join_path(std::string_view base, std::string_view rest) {
  if (rest.empty()) return clean_path(base);
  if (base.empty()) return clean_path(rest);
  return clean_path(std::string(base) + "/" + std::string(rest));
}

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// Butane's isTypicalMode (base/util): an unsurprising permission set.
bool is_typical_mode(std::int64_t mode, bool directory) {
  if (mode == 0) return true;
  const std::array<std::int64_t, 3> perms{mode & 07, (mode & 070) >> 3, (mode & 0700) >> 6};
  bool had_r = false, had_w = false, had_x = false;
  for (const std::int64_t perm : perms) {
    const bool r = perm & 4, w = perm & 2, x = perm & 1;
    if ((!r && had_r) || (!w && had_w) || (!x && had_x)) return false;
    if (x && had_r && !had_x) return false;
    if ((w || x) && !r) return false;
    had_r = had_r || r;
    had_w = had_w || w;
    had_x = had_x || x;
  }
  if (!had_r) return false;
  if (directory) {
    if (!had_x) return false;
    if (mode & 04000) return false;
    if ((mode & 03000) && !had_w) return false;
  } else {
    if (mode & 06000) {
      if (!had_x) return false;
      if (mode & 2) return false;
    }
    if (mode & 01000) return false;
  }
  return true;
}

// Butane's CheckForDecimalMode: 644 (decimal) where 0644 was meant.
bool looks_decimal(std::int64_t mode, bool directory) {
  if (mode < 0 || mode > 7777) return false;
  std::int64_t octal = 0;
  for (std::int64_t divisor = 1000; divisor > 0; divisor /= 10) {
    const std::int64_t digit = (mode / divisor) % 10;
    if (digit > 7) return false;
    octal = (octal << 3) | digit;
  }
  return !is_typical_mode(mode, directory) && is_typical_mode(octal, directory);
}

struct Field {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// The keys of one YAML mapping, checked against the keys the schema allows.
struct Fields {
  YAML::Node node;
  std::vector<Field> entries;

  // nullptr when the key is absent or null (Go's yaml decodes null into a nil pointer).
  const Field* get(std::string_view key) const {
    for (const Field& field : entries)
      if (field.key == key) return field.value.IsNull() ? nullptr : &field;
    return nullptr;
  }
  bool has(std::string_view key) const { return get(key) != nullptr; }
};

struct Owner {
  std::optional<std::int64_t> id;
  std::optional<std::string> name;
  bool empty() const { return !id && !name; }
  json::object to_json() const {
    json::object out;
    if (id) out["id"] = *id;
    if (name) out["name"] = *name;
    return out;
  }
};

struct Resource {
  std::optional<std::string> compression;
  json::array http_headers;
  std::optional<std::string> source;
  std::optional<std::string> hash;
  bool empty() const { return !compression && http_headers.empty() && !source && !hash; }
  json::object to_json() const {
    json::object out;
    if (compression) out["compression"] = *compression;
    if (!http_headers.empty()) out["httpHeaders"] = http_headers;
    if (source) out["source"] = *source;
    if (hash) out["verification"] = json::object{{"hash", *hash}};
    return out;
  }
};

enum class NodeKind { file, directory, link };

std::string_view node_kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::file:
      return "file";
    case NodeKind::directory:
      return "directory";
    case NodeKind::link:
      return "link";
  }
  return "node";
}

struct StorageNode {
  NodeKind kind = NodeKind::file;
  Owner group;
  std::optional<bool> overwrite;
  std::string path;
  Owner user;
  // file
  std::vector<Resource> append;
  Resource contents;
  std::optional<std::int64_t> mode;
  // link
  std::optional<bool> hard;
  std::optional<std::string> target;
  // where it was declared (a tree entry points at its tree)
  YAML::Node at;
  std::string where;

  json::object to_json() const {
    json::object out;
    if (!group.empty()) out["group"] = group.to_json();
    if (overwrite) out["overwrite"] = *overwrite;
    out["path"] = path;
    if (!user.empty()) out["user"] = user.to_json();
    if (kind == NodeKind::file) {
      if (!append.empty()) {
        json::array list;
        for (const Resource& resource : append) list.push_back(resource.to_json());
        out["append"] = std::move(list);
      }
      if (!contents.empty()) out["contents"] = contents.to_json();
    }
    if (kind == NodeKind::link) {
      if (hard) out["hard"] = *hard;
      if (target) out["target"] = *target;
    }
    if (kind != NodeKind::link && mode) out["mode"] = *mode;
    return out;
  }
};

struct UnitOut {
  std::string name;
  YAML::Node at;
  std::string where;
  bool masked = false;
  bool has_contents = false;
  std::vector<std::string> dropin_names;
};

class Compiler {
 public:
  explicit Compiler(const ButaneOptions& options)
      : options_(options), source_name_(core::valid_utf8(options.source_name)) {}

  ButaneOutput compile(std::string_view document) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(document));
    } catch (const YAML::Exception& e) {
      const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
      const int column = e.mark.is_null() ? 0 : e.mark.column + 1;
      diagnostics_.push_back({Severity::error,
                              {core::valid_utf8(options_.source_name), line, column},
                              core::valid_utf8("invalid YAML: " + e.msg),
                              {}});
      throw config_error(diagnostics_);
    }
    json::object config;
    try {
      config = translate_root(root);
    } catch (const BudgetExceeded&) {
      error(root,
            "the document expands to more than " + std::to_string(kNodeBudget) +
                " YAML nodes (through aliases)",
            "write the entries out instead of repeating anchors");
    }
    finish_diagnostics();
    ButaneOutput output;
    output.ignition_version = std::string(spec_->ignition);
    output.ignition = ignition::go_marshal(config, options_.pretty) + "\n";
    for (Diagnostic& diagnostic : diagnostics_)
      if (diagnostic.severity == Severity::warning)
        output.warnings.push_back(std::move(diagnostic));
    return output;
  }

 private:
  // --- diagnostics -------------------------------------------------------------------------

  SourceLocation where(const YAML::Node& node) const {
    if (!node.IsDefined()) return {source_name_, 0, 0};
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return {source_name_, 0, 0};
    return {source_name_, mark.line + 1, mark.column + 1};
  }

  // Messages quote the document, which may be any bytes; diagnostics are JSON, so valid UTF-8.
  void error(const YAML::Node& at, const std::string& message, const std::string& hint = {}) {
    diagnostics_.push_back(
        {Severity::error, where(at), core::valid_utf8(message), core::valid_utf8(hint)});
  }

  void warning(const YAML::Node& at, const std::string& message, const std::string& hint = {}) {
    diagnostics_.push_back(
        {Severity::warning, where(at), core::valid_utf8(message), core::valid_utf8(hint)});
  }

  // Strict mode makes warnings fatal (butane --strict); any error aborts with all diagnostics.
  void finish_diagnostics() {
    bool failed = false;
    for (Diagnostic& diagnostic : diagnostics_) {
      if (diagnostic.severity == Severity::warning && options_.strict) {
        diagnostic.severity = Severity::error;
        diagnostic.message += " (a warning; strict mode makes it an error)";
      }
      failed = failed || diagnostic.severity == Severity::error;
    }
    if (failed) throw config_error(diagnostics_);
  }

  [[noreturn]] void unsupported(const YAML::Node& at, const std::string& what,
                                const std::string& hint) {
    const SourceLocation location = where(at);
    fail(ErrorCode::unsupported,
         location.file + ":" + std::to_string(location.line) + ":" +
             std::to_string(location.column) + ": " + what + " is not supported by devx's compiler",
         hint);
  }

  void count_node() {
    if (++visited_ > kNodeBudget) throw BudgetExceeded{};
  }

  // --- typed access ------------------------------------------------------------------------

  std::optional<Fields> mapping(const YAML::Node& node, const std::string& what,
                                std::span<const std::string_view> keys) {
    count_node();
    if (!node.IsMap()) {
      error(node, what + " must be a mapping, got " + std::string(config::yaml_kind(node)));
      return std::nullopt;
    }
    Fields fields{node, {}};
    for (auto it = node.begin(); it != node.end(); ++it) {
      count_node();
      const YAML::Node key_node = it->first;
      if (!key_node.IsScalar()) {
        error(key_node, "keys of " + what + " must be strings, got " +
                            std::string(config::yaml_kind(key_node)));
        continue;
      }
      const std::string key = key_node.Scalar();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        const std::string suggestion = config::closest_match(key, keys);
        error(key_node, "unknown key '" + key + "' in " + (what.empty() ? "the config" : what),
              suggestion.empty() ? "" : "did you mean '" + suggestion + "'?");
        continue;
      }
      const bool duplicate = std::any_of(fields.entries.begin(), fields.entries.end(),
                                         [&](const Field& field) { return field.key == key; });
      if (duplicate) {
        error(key_node,
              "key '" + key + "' is defined twice in " + (what.empty() ? "the config" : what));
        continue;
      }
      fields.entries.push_back({key, key_node, it->second});
    }
    return fields;
  }

  static std::string child(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
  }

  static std::string item(const std::string& parent, std::size_t index) {
    return parent + "[" + std::to_string(index) + "]";
  }

  std::optional<std::string> string_value(const Fields& fields, std::string_view key,
                                          const std::string& what) {
    const Field* field = fields.get(key);
    if (!field) return std::nullopt;
    count_node();
    if (!field->value.IsScalar()) {
      error(field->value, child(what, key) + " must be a string, got " +
                              std::string(config::yaml_kind(field->value)));
      return std::nullopt;
    }
    return field->value.Scalar();
  }

  std::optional<bool> bool_value(const Fields& fields, std::string_view key,
                                 const std::string& what) {
    const Field* field = fields.get(key);
    if (!field) return std::nullopt;
    count_node();
    static constexpr std::array<std::string_view, 11> kTrue{
        "true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
    static constexpr std::array<std::string_view, 11> kFalse{
        "false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF"};
    if (field->value.IsScalar() && is_plain(field->value, "bool")) {
      const std::string& text = field->value.Scalar();
      if (std::find(kTrue.begin(), kTrue.end(), text) != kTrue.end()) return true;
      if (std::find(kFalse.begin(), kFalse.end(), text) != kFalse.end()) return false;
    }
    error(field->value, child(what, key) + " must be true or false, got " + describe(field->value));
    return std::nullopt;
  }

  static std::string describe(const YAML::Node& node) {
    if (node.IsScalar()) return "'" + node.Scalar() + "'";
    return std::string(config::yaml_kind(node));
  }

  // YAML integers as Go's yaml.v3 reads them: decimal, 0x…, 0o…, 0b… or a leading 0 for octal
  // (so `mode: 0644` is 420); '_' separators allowed.
  static std::optional<std::int64_t> parse_integer(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    if (text.empty()) return std::nullopt;
    bool negative = false;
    std::size_t i = 0;
    if (text[0] == '+' || text[0] == '-') {
      negative = text[0] == '-';
      i = 1;
    }
    int base = 10;
    if (text.size() > i + 1 && text[i] == '0') {
      const char marker = text[i + 1];
      if (marker == 'x' || marker == 'X') {
        base = 16;
        i += 2;
      } else if (marker == 'o' || marker == 'O') {
        base = 8;
        i += 2;
      } else if (marker == 'b' || marker == 'B') {
        base = 2;
        i += 2;
      } else {
        base = 8;
        i += 1;
      }
    }
    if (i >= text.size()) return std::nullopt;
    std::uint64_t value = 0;
    for (; i < text.size(); ++i) {
      int digit = -1;
      const char c = text[i];
      if (c >= '0' && c <= '9') digit = c - '0';
      if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      if (digit < 0 || digit >= base) return std::nullopt;
      if (value > (std::uint64_t{1} << 62) / static_cast<unsigned>(base)) return std::nullopt;
      value = value * static_cast<unsigned>(base) + static_cast<unsigned>(digit);
    }
    if (value > (std::uint64_t{1} << 62)) return std::nullopt;
    const auto signed_value = static_cast<std::int64_t>(value);
    return negative ? -signed_value : signed_value;
  }

  std::optional<std::int64_t> int_value(const Fields& fields, std::string_view key,
                                        const std::string& what) {
    const Field* field = fields.get(key);
    if (!field) return std::nullopt;
    count_node();
    if (field->value.IsScalar() && is_plain(field->value, "int")) {
      if (auto value = parse_integer(field->value.Scalar())) return value;
    }
    error(field->value, child(what, key) + " must be an integer, got " + describe(field->value),
          field->value.IsScalar() && field->value.Tag() == "!" ? "write the number without quotes"
                                                               : "");
    return std::nullopt;
  }

  // User and group ids: what a Linux uid_t/gid_t can name without the -1 "no change" value.
  std::optional<std::int64_t> id_value(const Fields& fields, std::string_view key,
                                       const std::string& what) {
    std::optional<std::int64_t> id = int_value(fields, key, what);
    if (id && (*id < 0 || *id > 2147483647)) {
      error(fields.get(key)->value, child(what, key) + " must be between 0 and 2147483647");
      return std::nullopt;
    }
    return id;
  }

  std::vector<YAML::Node> sequence(const Fields& fields, std::string_view key,
                                   const std::string& what) {
    const Field* field = fields.get(key);
    if (!field) return {};
    count_node();
    if (!field->value.IsSequence()) {
      error(field->value, child(what, key) + " must be a list, got " +
                              std::string(config::yaml_kind(field->value)));
      return {};
    }
    std::vector<YAML::Node> items;
    for (const YAML::Node& entry : field->value) {
      count_node();
      items.push_back(entry);
    }
    return items;
  }

  std::vector<std::string> string_list(const Fields& fields, std::string_view key,
                                       const std::string& what) {
    std::vector<std::string> out;
    std::size_t index = 0;
    for (const YAML::Node& entry : sequence(fields, key, what)) {
      if (!entry.IsScalar())
        error(entry, item(child(what, key), index) + " must be a string, got " +
                         std::string(config::yaml_kind(entry)));
      else
        out.push_back(entry.Scalar());
      ++index;
    }
    return out;
  }

  // --- validation helpers ------------------------------------------------------------------

  // Ignition's URL rules for a resource source.
  void check_url(const YAML::Node& at, const std::string& what, const std::string& url,
                 bool has_headers) {
    const std::size_t colon = url.find(':');
    const std::string scheme = colon == std::string::npos ? "" : url.substr(0, colon);
    const std::string rest = colon == std::string::npos ? url : url.substr(colon + 1);
    const bool hierarchical = rest.rfind("//", 0) == 0;
    if (scheme == "http" || scheme == "https" || scheme == "tftp" || scheme == "s3" ||
        scheme == "gs") {
      const std::size_t host_end = rest.find_first_of("/?#", 2);
      if (!hierarchical ||
          rest.substr(2, host_end == std::string::npos ? std::string::npos : host_end - 2).empty())
        error(at, what + ": unable to parse url '" + url + "' (no host)");
      if (url.find_first_of(" \t\r\n") != std::string::npos)
        error(at, what + ": unable to parse url '" + url + "' (contains whitespace)");
    } else if (scheme == "data") {
      if (!ignition::decode_data_url(url))
        error(at, what + ": unable to parse url: not a valid data URL",
              "use inline: or local: and let the compiler encode the contents");
    } else if (scheme == "arn" && spec_->ignition_minor >= 3) {
      if (url.rfind("arn:aws:s3:", 0) != 0 && url.rfind("arn:aws-", 0) != 0)
        error(at, what + ": invalid S3 ARN format");
    } else {
      error(at, what + ": invalid url scheme '" + scheme + "'",
            std::string("use http, https, tftp, s3, gs, data") +
                (spec_->ignition_minor >= 3 ? " or arn" : ""));
    }
    if (has_headers && scheme != "http" && scheme != "https")
      error(at, what + ": cannot use HTTP headers with this source scheme");
  }

  void check_hash(const YAML::Node& at, const std::string& what, const std::string& hash) {
    const std::size_t dash = hash.find('-');
    if (dash == std::string::npos) {
      error(at, what + ": malformed hash specifier", "write sha512-<hex> or sha256-<hex>");
      return;
    }
    const std::string function = hash.substr(0, dash);
    const std::string sum = hash.substr(dash + 1);
    std::size_t expected = 0;
    if (function == "sha512") expected = 128;
    if (function == "sha256" && spec_->ignition_minor >= 2) expected = 64;
    if (expected == 0) {
      error(at, what + ": unrecognized hash function '" + function + "'", "use sha512 or sha256");
      return;
    }
    if (sum.size() != expected || !is_hex(sum))
      error(at, what + ": incorrect size for hash sum (" + function + " needs " +
                    std::to_string(expected) + " hex digits)");
  }

  void check_mode(const YAML::Node& at, const std::string& what, std::int64_t mode,
                  bool directory) {
    if (mode < 0 || mode > 07777) {
      error(at, what + ": illegal file mode " + std::to_string(mode),
            "modes are 0000-07777; write them in octal with a leading 0");
      return;
    }
    if ((mode & 07000) && spec_->ignition_minor < 4)
      error(at,
            what +
                ": setuid/setgid/sticky bits are not supported in spec versions older "
                "than 3.4.0",
            "use version 1.5.0 of the fcos variant");
    if (looks_decimal(mode, directory))
      warning(at,
              what +
                  ": unreasonable mode would be reasonable if specified in octal; "
                  "remember to add a leading zero",
              "write 0" + std::to_string(mode) + " instead of " + std::to_string(mode));
  }

  // --- local files -------------------------------------------------------------------------

  // The canonical files directory, or nullopt (with an error) when none is configured.
  std::optional<fs::path> files_dir(const YAML::Node& at, const std::string& what) {
    if (options_.files_dir.empty()) {
      error(at, what + ": local sources need a files directory",
            "pass --files-dir DIR (ButaneOptions::files_dir)");
      return std::nullopt;
    }
    if (!canonical_files_dir_) {
      std::error_code ec;
      fs::path canonical = fs::canonical(options_.files_dir, ec);
      if (ec || !fs::is_directory(canonical, ec))
        fail(ErrorCode::io,
             "files directory " + options_.files_dir.string() + " is not a directory",
             "pass an existing directory as --files-dir");
      canonical_files_dir_ = canonical;
    }
    return canonical_files_dir_;
  }

  static bool within(const fs::path& path, const fs::path& base) {
    auto mismatch = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
    return mismatch.first == base.end();
  }

  // The real path of `relative` under the files directory; nullopt (with an error) when it
  // escapes it, lexically or through a symlink.
  std::optional<fs::path> local_path(const YAML::Node& at, const std::string& what,
                                     const std::string& relative) {
    const std::optional<fs::path> base = files_dir(at, what);
    if (!base) return std::nullopt;
    const fs::path joined = (*base / fs::path(relative).relative_path()).lexically_normal();
    if (!within(joined, *base)) {
      error(at, what + ": local path '" + relative + "' escapes the files directory");
      return std::nullopt;
    }
    std::error_code ec;
    const fs::path real = fs::canonical(joined, ec);
    if (ec) {
      const SourceLocation location = where(at);
      fail(ErrorCode::io,
           location.file + ":" + std::to_string(location.line) + ":" +
               std::to_string(location.column) + ": " + what + ": cannot read local '" + relative +
               "': " + ec.message(),
           "local paths are relative to the files directory " + base->string());
    }
    if (!within(real, *base)) {
      error(at, what + ": local path '" + relative +
                    "' resolves (through a symlink) outside the files directory");
      return std::nullopt;
    }
    return real;
  }

  std::optional<std::string> read_local(const YAML::Node& at, const std::string& what,
                                        const std::string& relative) {
    const std::optional<fs::path> path = local_path(at, what, relative);
    if (!path) return std::nullopt;
    return read_file(at, what, *path);
  }

  std::string read_file(const YAML::Node& at, const std::string& what, const fs::path& path) {
    const SourceLocation location = where(at);
    const std::string prefix = location.file + ":" + std::to_string(location.line) + ":" +
                               std::to_string(location.column) + ": " + what + ": ";
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      fail(ErrorCode::io, prefix + path.string() + " is not a regular file");
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec || size > kLocalFileLimit)
      fail(ErrorCode::io, prefix + path.string() + " is larger than " +
                              std::to_string(kLocalFileLimit >> 20) + " MiB");
    std::ifstream in(path, std::ios::binary);
    std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) fail(ErrorCode::io, prefix + "cannot read " + path.string());
    return contents;
  }

  // --- translation -------------------------------------------------------------------------

  json::object translate_root(const YAML::Node& root) {
    if (!root.IsMap()) {
      error(root, "a Butane config must be a mapping with 'variant' and 'version', got " +
                      std::string(config::yaml_kind(root)));
      finish_diagnostics();
    }
    resolve_version(root);
    std::vector<std::string_view> keys{"variant", "version", "ignition",   "passwd",
                                       "storage", "systemd", "boot_device"};
    if (spec_->ignition_minor >= 3) keys.push_back("kernel_arguments");
    if (spec_->ignition_minor >= 4) keys.push_back("grub");
    const std::optional<Fields> fields = mapping(root, "", keys);
    json::object out;
    out["ignition"] = translate_ignition(fields->get("ignition"));
    if (const Field* boot = fields->get("boot_device"))
      unsupported(boot->key_node, "boot_device",
                  "configure the boot disk with butane; devx's VMs boot from the provider's image");
    if (const Field* grub = fields->get("grub"))
      unsupported(grub->key_node, "grub", "set GRUB passwords with butane");
    if (const Field* kargs = fields->get("kernel_arguments")) {
      json::object translated = translate_kernel_arguments(kargs->value);
      if (!translated.empty()) out["kernelArguments"] = std::move(translated);
    }
    if (const Field* passwd = fields->get("passwd")) {
      json::object translated = translate_passwd(passwd->value);
      if (!translated.empty()) out["passwd"] = std::move(translated);
    }
    std::vector<UnitOut> units;
    json::object systemd;
    if (const Field* section = fields->get("systemd"))
      systemd = translate_systemd(section->value, units);
    if (const Field* storage = fields->get("storage")) {
      json::object translated = translate_storage(storage->value, units);
      if (!translated.empty()) out["storage"] = std::move(translated);
    }
    if (!systemd.empty()) out["systemd"] = std::move(systemd);
    return out;
  }

  void resolve_version(const YAML::Node& root) {
    std::optional<std::string> variant, version;
    // Node::operator= would overwrite the node it refers to; reset() rebinds.
    YAML::Node variant_node(root), version_node(root);
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) continue;
      if (key.Scalar() == "variant" && it->second.IsScalar()) {
        variant = it->second.Scalar();
        variant_node.reset(it->second);
      }
      if (key.Scalar() == "version" && it->second.IsScalar()) {
        version = it->second.Scalar();
        version_node.reset(it->second);
      }
    }
    if (!variant || !version) {
      error(root,
            std::string("the config must set ") +
                (!variant ? (!version ? "'variant' and 'version'" : "'variant'") : "'version'"),
            "start the document with 'variant: fcos' and 'version: 1.5.0'");
      finish_diagnostics();
    }
    std::string supported;
    for (const SpecVersion& spec : kVersions) {
      if (spec.variant == *variant && spec.butane == *version) {
        spec_ = &spec;
        return;
      }
      supported += (supported.empty() ? "" : ", ") + std::string(spec.variant) + " " +
                   std::string(spec.butane);
    }
    const bool known_variant = *variant == "fcos";
    const SourceLocation location = where(known_variant ? version_node : variant_node);
    fail(ErrorCode::unsupported,
         location.file + ":" + std::to_string(location.line) + ":" +
             std::to_string(location.column) + ": " +
             (known_variant ? "unsupported version " + *version + " of variant fcos"
                            : "unsupported variant '" + *variant + "'"),
         "supported: " + supported);
  }

  json::object translate_ignition(const Field* field) {
    json::object out;
    std::optional<Fields> fields;
    static constexpr std::array<std::string_view, 4> kKeys{"config", "timeouts", "security",
                                                           "proxy"};
    if (field) fields = mapping(field->value, "ignition", kKeys);
    if (fields) {
      if (const Field* config = fields->get("config")) {
        static constexpr std::array<std::string_view, 2> kConfigKeys{"merge", "replace"};
        if (auto config_fields = mapping(config->value, "ignition.config", kConfigKeys)) {
          json::object translated;
          json::array merge;
          std::size_t index = 0;
          for (const YAML::Node& entry : sequence(*config_fields, "merge", "ignition.config")) {
            merge.push_back(
                translate_resource(entry, item("ignition.config.merge", index++)).to_json());
          }
          if (!merge.empty()) translated["merge"] = std::move(merge);
          if (const Field* replace = config_fields->get("replace")) {
            Resource resource = translate_resource(replace->value, "ignition.config.replace");
            if (!resource.empty()) translated["replace"] = resource.to_json();
          }
          if (!translated.empty()) out["config"] = std::move(translated);
        }
      }
      if (const Field* proxy = fields->get("proxy")) {
        json::object translated = translate_proxy(proxy->value);
        if (!translated.empty()) out["proxy"] = std::move(translated);
      }
      if (const Field* security = fields->get("security")) {
        static constexpr std::array<std::string_view, 1> kSecurityKeys{"tls"};
        static constexpr std::array<std::string_view, 1> kTlsKeys{"certificate_authorities"};
        if (auto security_fields = mapping(security->value, "ignition.security", kSecurityKeys)) {
          if (const Field* tls = security_fields->get("tls")) {
            if (auto tls_fields = mapping(tls->value, "ignition.security.tls", kTlsKeys)) {
              json::array authorities;
              std::size_t index = 0;
              const std::string what = "ignition.security.tls.certificate_authorities";
              for (const YAML::Node& entry :
                   sequence(*tls_fields, "certificate_authorities", "ignition.security.tls"))
                authorities.push_back(translate_resource(entry, item(what, index++)).to_json());
              if (!authorities.empty())
                out["security"] =
                    json::object{{"tls", json::object{{"certificateAuthorities", authorities}}}};
            }
          }
        }
      }
      if (const Field* timeouts = fields->get("timeouts")) {
        static constexpr std::array<std::string_view, 2> kTimeoutKeys{"http_response_headers",
                                                                      "http_total"};
        if (auto timeout_fields = mapping(timeouts->value, "ignition.timeouts", kTimeoutKeys)) {
          json::object translated;
          for (const auto& [key, json_key] : {std::pair<std::string_view, std::string_view>{
                                                  "http_response_headers", "httpResponseHeaders"},
                                              {"http_total", "httpTotal"}}) {
            if (auto value = int_value(*timeout_fields, key, "ignition.timeouts")) {
              if (*value < 0)
                error(timeout_fields->get(key)->value,
                      "ignition.timeouts." + std::string(key) + " must not be negative");
              translated[json_key] = *value;
            }
          }
          if (!translated.empty()) out["timeouts"] = std::move(translated);
        }
      }
    }
    out["version"] = std::string(spec_->ignition);
    return out;
  }

  json::object translate_proxy(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 3> kKeys{"http_proxy", "https_proxy", "no_proxy"};
    json::object out;
    const auto fields = mapping(node, "ignition.proxy", kKeys);
    if (!fields) return out;
    for (const auto& [key, json_key] :
         {std::pair<std::string_view, std::string_view>{"http_proxy", "httpProxy"},
          {"https_proxy", "httpsProxy"}}) {
      if (auto value = string_value(*fields, key, "ignition.proxy")) {
        if (value->rfind("http://", 0) != 0 && value->rfind("https://", 0) != 0)
          error(fields->get(key)->value,
                "ignition.proxy." + std::string(key) + ": proxies must be http(s)");
        out[json_key] = *value;
      }
    }
    std::vector<std::string> no_proxy = string_list(*fields, "no_proxy", "ignition.proxy");
    if (!no_proxy.empty()) {
      json::array list;
      for (std::string& entry : no_proxy) list.emplace_back(std::move(entry));
      out["noProxy"] = std::move(list);
    }
    return out;
  }

  // Butane's Resource: exactly one of source/inline/local; inline and local become data URLs.
  Resource translate_resource(const YAML::Node& node, const std::string& what) {
    static constexpr std::array<std::string_view, 6> kKeys{
        "source", "inline", "local", "compression", "verification", "http_headers"};
    Resource out;
    const auto fields = mapping(node, what, kKeys);
    if (!fields) return out;
    const int sources =
        int(fields->has("source")) + int(fields->has("inline")) + int(fields->has("local"));
    if (sources > 1) {
      error(node, what + ": only one of the following can be set: inline, local, source");
      return out;
    }
    out.compression = string_value(*fields, "compression", what);
    if (out.compression && !out.compression->empty() && *out.compression != "gzip")
      error(fields->get("compression")->value,
            what + ": invalid compression method '" + *out.compression + "'",
            "the only compression Ignition knows is gzip");
    std::size_t index = 0;
    std::set<std::string> header_names;
    for (const YAML::Node& header : sequence(*fields, "http_headers", what)) {
      const std::string header_what = item(child(what, "http_headers"), index++);
      static constexpr std::array<std::string_view, 2> kHeaderKeys{"name", "value"};
      const auto header_fields = mapping(header, header_what, kHeaderKeys);
      if (!header_fields) continue;
      const std::optional<std::string> name = string_value(*header_fields, "name", header_what);
      const std::optional<std::string> value = string_value(*header_fields, "value", header_what);
      if (!name || name->empty()) {
        error(header, header_what + ": HTTP header name can't be empty");
        continue;
      }
      if (!header_names.insert(*name).second)
        error(header, header_what + ": duplicate HTTP header '" + *name + "'");
      json::object translated{{"name", *name}};
      if (value) translated["value"] = *value;
      out.http_headers.push_back(std::move(translated));
    }
    if (const Field* verification = fields->get("verification")) {
      static constexpr std::array<std::string_view, 1> kVerificationKeys{"hash"};
      const std::string verification_what = child(what, "verification");
      if (auto verification_fields =
              mapping(verification->value, verification_what, kVerificationKeys)) {
        out.hash = string_value(*verification_fields, "hash", verification_what);
        if (out.hash)
          check_hash(verification_fields->get("hash")->value, verification_what, *out.hash);
      }
    }
    const bool declared_compression = out.compression && !out.compression->empty();
    if (auto source = string_value(*fields, "source", what)) {
      check_url(fields->get("source")->value, child(what, "source"), *source,
                !out.http_headers.empty());
      // A data: URL the user wrote claims gzip: the bytes must be gzip, as for inline contents.
      if (declared_compression && source->rfind("data:", 0) == 0) {
        const std::optional<std::string> bytes = ignition::decode_data_url(*source);
        if (bytes && !is_gzip(*bytes))
          error(fields->get("source")->value,
                what + ": compression is gzip but the data URL does not hold gzip data");
      }
      out.source = std::move(source);
    } else {
      std::optional<std::string> contents;
      const Field* given = fields->get("inline");
      if (auto inline_contents = string_value(*fields, "inline", what)) {
        contents = std::move(inline_contents);
      } else if (auto local = string_value(*fields, "local", what)) {
        given = fields->get("local");
        contents = read_local(given->value, child(what, "local"), *local);
      }
      if (contents) {
        // Butane passes such contents through unchecked; Ignition would then fail at boot.
        if (declared_compression && !is_gzip(*contents))
          error(given->value, what + ": compression is gzip but the contents are not gzip data",
                "drop compression: to let the compiler compress, or give a .gz file with local:");
        if (!out.http_headers.empty())
          error(given->value, what + ": cannot use HTTP headers with this source scheme",
                "HTTP headers only apply to http(s) sources");
        encode_into(out, *contents, declared_compression);
      }
    }
    if (out.hash && !out.source)
      error(node, what + ": source must be specified if verification is specified");
    if (!out.http_headers.empty() && !out.source)
      error(node, what + ": http_headers need a source");
    return out;
  }

  static bool is_gzip(const std::string& contents) {
    try {
      (void)ignition::gzip_decompress(contents, kLocalFileLimit * 4);
      return true;
    } catch (const Error&) {
      return false;
    }
  }

  static void encode_into(Resource& resource, std::string_view contents,
                          bool declared_compression) {
    ignition::DataUrl url = ignition::make_data_url(contents, declared_compression);
    resource.source = std::move(url.source);
    if (url.compression) resource.compression = std::move(url.compression);
  }

  json::object translate_kernel_arguments(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 2> kKeys{"should_exist", "should_not_exist"};
    json::object out;
    const auto fields = mapping(node, "kernel_arguments", kKeys);
    if (!fields) return out;
    std::set<std::string> seen;
    for (const auto& [key, json_key] :
         {std::pair<std::string_view, std::string_view>{"should_exist", "shouldExist"},
          {"should_not_exist", "shouldNotExist"}}) {
      json::array list;
      for (std::string& argument : string_list(*fields, key, "kernel_arguments")) {
        if (!seen.insert(argument).second)
          error(fields->get(key)->value, "kernel_arguments: '" + argument + "' is listed twice");
        list.emplace_back(std::move(argument));
      }
      if (!list.empty()) out[json_key] = std::move(list);
    }
    return out;
  }

  json::object translate_passwd(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 2> kKeys{"users", "groups"};
    json::object out;
    const auto fields = mapping(node, "passwd", kKeys);
    if (!fields) return out;
    json::array groups;
    std::map<std::string, YAML::Node> group_names;
    std::size_t index = 0;
    for (const YAML::Node& entry : sequence(*fields, "groups", "passwd")) {
      const std::string what = item("passwd.groups", index++);
      static constexpr std::array<std::string_view, 5> kGroupKeys{"name", "gid", "password_hash",
                                                                  "should_exist", "system"};
      const auto group = mapping(entry, what, kGroupKeys);
      if (!group) continue;
      json::object translated;
      if (auto gid = id_value(*group, "gid", what)) translated["gid"] = *gid;
      const std::optional<std::string> name = string_value(*group, "name", what);
      if (!name || name->empty())
        error(entry, what + ": name is required");
      else if (!group_names.emplace(*name, entry).second)
        error(entry, what + ": group '" + *name + "' is defined twice",
              "first defined at line " + std::to_string(where(group_names[*name]).line));
      translated["name"] = name.value_or("");
      if (auto hash = string_value(*group, "password_hash", what))
        translated["passwordHash"] = *hash;
      if (auto value = bool_value(*group, "should_exist", what)) translated["shouldExist"] = *value;
      if (auto value = bool_value(*group, "system", what)) translated["system"] = *value;
      groups.push_back(std::move(translated));
    }
    json::array users;
    std::map<std::string, YAML::Node> user_names;
    index = 0;
    for (const YAML::Node& entry : sequence(*fields, "users", "passwd")) {
      const std::string what = item("passwd.users", index++);
      if (auto user = translate_user(entry, what)) {
        const std::string name = user->at("name").as_string().c_str();
        if (!user_names.emplace(name, entry).second)
          error(entry, what + ": user '" + name + "' is defined twice",
                "first defined at line " + std::to_string(where(user_names[name]).line));
        users.push_back(std::move(*user));
      }
    }
    if (!groups.empty()) out["groups"] = std::move(groups);
    if (!users.empty()) out["users"] = std::move(users);
    return out;
  }

  std::optional<json::object> translate_user(const YAML::Node& entry, const std::string& what) {
    static constexpr std::array<std::string_view, 15> kUserKeys{"name",
                                                                "password_hash",
                                                                "ssh_authorized_keys",
                                                                "ssh_authorized_keys_local",
                                                                "uid",
                                                                "gecos",
                                                                "home_dir",
                                                                "no_create_home",
                                                                "primary_group",
                                                                "groups",
                                                                "no_user_group",
                                                                "no_log_init",
                                                                "shell",
                                                                "should_exist",
                                                                "system"};
    const auto user = mapping(entry, what, kUserKeys);
    if (!user) return std::nullopt;
    json::object out;
    if (auto gecos = string_value(*user, "gecos", what)) out["gecos"] = *gecos;
    std::vector<std::string> groups = string_list(*user, "groups", what);
    if (!groups.empty()) {
      json::array list;
      for (std::string& group : groups) list.emplace_back(std::move(group));
      out["groups"] = std::move(list);
    }
    if (auto home = string_value(*user, "home_dir", what)) out["homeDir"] = *home;
    const std::optional<std::string> name = string_value(*user, "name", what);
    if (!name || name->empty()) error(entry, what + ": name is required");
    out["name"] = name.value_or("");
    if (auto value = bool_value(*user, "no_create_home", what)) out["noCreateHome"] = *value;
    if (auto value = bool_value(*user, "no_log_init", what)) out["noLogInit"] = *value;
    if (auto value = bool_value(*user, "no_user_group", what)) out["noUserGroup"] = *value;
    if (auto hash = string_value(*user, "password_hash", what)) out["passwordHash"] = *hash;
    if (auto group = string_value(*user, "primary_group", what)) out["primaryGroup"] = *group;
    json::array keys;
    std::size_t index = 0;
    for (std::string& key : string_list(*user, "ssh_authorized_keys", what)) {
      if (key.find_first_of("\r\n") != std::string::npos)
        error(
            user->get("ssh_authorized_keys")->value,
            item(child(what, "ssh_authorized_keys"), index) + ": an SSH key must be a single line");
      keys.emplace_back(std::move(key));
      ++index;
    }
    index = 0;
    for (const std::string& file : string_list(*user, "ssh_authorized_keys_local", what)) {
      const std::string local_what = item(child(what, "ssh_authorized_keys_local"), index++);
      const std::optional<std::string> contents =
          read_local(user->get("ssh_authorized_keys_local")->value, local_what, file);
      if (!contents) continue;
      std::size_t start = 0;
      while (start <= contents->size()) {
        std::size_t end = contents->find('\n', start);
        if (end == std::string::npos) end = contents->size();
        std::string line = contents->substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) keys.emplace_back(std::move(line));
        start = end + 1;
      }
    }
    if (!keys.empty()) out["sshAuthorizedKeys"] = std::move(keys);
    if (auto shell = string_value(*user, "shell", what)) out["shell"] = *shell;
    if (auto value = bool_value(*user, "should_exist", what)) out["shouldExist"] = *value;
    if (auto value = bool_value(*user, "system", what)) out["system"] = *value;
    if (auto uid = id_value(*user, "uid", what)) out["uid"] = *uid;
    return out;
  }

  Owner translate_owner(const Fields& fields, std::string_view key, const std::string& what) {
    Owner owner;
    const Field* field = fields.get(key);
    if (!field) return owner;
    static constexpr std::array<std::string_view, 2> kKeys{"id", "name"};
    const std::string owner_what = child(what, key);
    const auto owner_fields = mapping(field->value, owner_what, kKeys);
    if (!owner_fields) return owner;
    owner.id = id_value(*owner_fields, "id", owner_what);
    owner.name = string_value(*owner_fields, "name", owner_what);
    if (owner.id && owner.name) error(field->value, owner_what + ": cannot set both id and name");
    return owner;
  }

  // The Node part shared by files, directories and links.
  std::optional<StorageNode> translate_node(const YAML::Node& entry, const std::string& what,
                                            NodeKind kind, std::span<const std::string_view> keys,
                                            std::optional<Fields>& fields) {
    fields = mapping(entry, what, keys);
    if (!fields) return std::nullopt;
    StorageNode node;
    node.kind = kind;
    node.at = entry;
    node.where = what;
    node.group = translate_owner(*fields, "group", what);
    node.overwrite = bool_value(*fields, "overwrite", what);
    const std::optional<std::string> path = string_value(*fields, "path", what);
    if (!path || path->empty()) {
      error(entry, what + ": path not specified");
    } else {
      const YAML::Node& at = fields->get("path")->value;
      if (path->front() != '/')
        error(at, what + ": path not absolute: '" + *path + "'", "paths start with '/'");
      else if (clean_path(*path) != *path)
        error(at, what + ": path is not fully simplified: '" + *path + "'",
              "write '" + clean_path(*path) + "'");
      node.path = *path;
    }
    node.user = translate_owner(*fields, "user", what);
    return node;
  }

  void declare(StorageNode& node) {
    if (node.path.empty()) return;
    auto [it, inserted] = declared_paths_.emplace(node.path, &node);
    if (!inserted) {
      const StorageNode& first = *it->second;
      error(node.at,
            node.where + ": duplicate entry defined: path '" + node.path + "' is already a " +
                std::string(node_kind_name(first.kind)),
            "first defined at line " + std::to_string(where(first.at).line) + " (" + first.where +
                ")");
    }
  }

  json::object translate_storage(const YAML::Node& node, const std::vector<UnitOut>& units) {
    static constexpr std::array<std::string_view, 8> kKeys{
        "files", "directories", "links", "trees", "disks", "raid", "filesystems", "luks"};
    json::object out;
    const auto fields = mapping(node, "storage", kKeys);
    if (!fields) return out;
    for (std::string_view key : {"disks", "raid", "filesystems", "luks"})
      if (const Field* field = fields->get(key))
        unsupported(field->key_node, "storage." + std::string(key),
                    "partition and format disks with butane; devx only writes files, "
                    "directories, links and units");

    // declared_paths_ points into nodes_: reserve so the declared entries never move (trees,
    // which add entries later, rebuild the index).
    std::vector<YAML::Node> file_entries = sequence(*fields, "files", "storage");
    std::vector<YAML::Node> directory_entries = sequence(*fields, "directories", "storage");
    std::vector<YAML::Node> link_entries = sequence(*fields, "links", "storage");
    std::vector<YAML::Node> tree_entries = sequence(*fields, "trees", "storage");
    nodes_.reserve(file_entries.size() + directory_entries.size() + link_entries.size());

    std::vector<std::size_t> files, directories, links;
    std::size_t index = 0;
    for (const YAML::Node& entry : file_entries) {
      const std::string what = item("storage.files", index++);
      static constexpr std::array<std::string_view, 7> kFileKeys{
          "path", "overwrite", "contents", "append", "mode", "user", "group"};
      std::optional<Fields> file_fields;
      auto file = translate_node(entry, what, NodeKind::file, kFileKeys, file_fields);
      if (!file) continue;
      std::size_t append_index = 0;
      for (const YAML::Node& append : sequence(*file_fields, "append", what))
        file->append.push_back(
            translate_resource(append, item(child(what, "append"), append_index++)));
      if (const Field* contents = file_fields->get("contents"))
        file->contents = translate_resource(contents->value, child(what, "contents"));
      file->mode = int_value(*file_fields, "mode", what);
      if (file->mode)
        check_mode(file_fields->get("mode")->value, child(what, "mode"), *file->mode, false);
      nodes_.push_back(std::move(*file));
      files.push_back(nodes_.size() - 1);
      declare(nodes_.back());
    }
    index = 0;
    for (const YAML::Node& entry : directory_entries) {
      const std::string what = item("storage.directories", index++);
      static constexpr std::array<std::string_view, 5> kDirectoryKeys{"path", "overwrite", "mode",
                                                                      "user", "group"};
      std::optional<Fields> directory_fields;
      auto directory =
          translate_node(entry, what, NodeKind::directory, kDirectoryKeys, directory_fields);
      if (!directory) continue;
      directory->mode = int_value(*directory_fields, "mode", what);
      if (directory->mode)
        check_mode(directory_fields->get("mode")->value, child(what, "mode"), *directory->mode,
                   true);
      nodes_.push_back(std::move(*directory));
      directories.push_back(nodes_.size() - 1);
      declare(nodes_.back());
    }
    index = 0;
    for (const YAML::Node& entry : link_entries) {
      const std::string what = item("storage.links", index++);
      static constexpr std::array<std::string_view, 6> kLinkKeys{"path", "overwrite", "target",
                                                                 "hard", "user",      "group"};
      std::optional<Fields> link_fields;
      auto link = translate_node(entry, what, NodeKind::link, kLinkKeys, link_fields);
      if (!link) continue;
      link->target = string_value(*link_fields, "target", what);
      link->hard = bool_value(*link_fields, "hard", what);
      nodes_.push_back(std::move(*link));
      links.push_back(nodes_.size() - 1);
      declare(nodes_.back());
    }
    // Trees append entries; grow the vector first so the pointers in declared_paths_ stay valid.
    index = 0;
    std::vector<std::pair<fs::path, std::string>> tree_roots;
    for (const YAML::Node& entry : tree_entries) {
      const std::string what = item("storage.trees", index++);
      static constexpr std::array<std::string_view, 2> kTreeKeys{"local", "path"};
      const auto tree = mapping(entry, what, kTreeKeys);
      if (!tree) continue;
      const std::optional<std::string> local = string_value(*tree, "local", what);
      std::string destination = string_value(*tree, "path", what).value_or("/");
      if (destination.empty() || destination.front() != '/')
        error(entry, what + ": path not absolute: '" + destination + "'");
      if (!local) {
        error(entry, what + ": local is required", "name a directory under the files directory");
        continue;
      }
      if (auto root = local_path(tree->get("local")->value, child(what, "local"), *local)) {
        std::error_code ec;
        if (!fs::is_directory(*root, ec)) {
          error(tree->get("local")->value, what + ": local '" + *local + "' is not a directory");
          continue;
        }
        walk_tree(entry, what, *root, *root, destination, files, links);
      }
    }

    // Ignition: nothing may live below a symlink the config itself creates.
    for (const std::size_t link_index : links) {
      const StorageNode& link = nodes_[link_index];
      if (link.path.empty()) continue;
      if (!link.target || link.target->empty())
        error(link.at, link.where + ": link target is required");
      if (link.hard.value_or(false)) {
        if (!link.user.empty() || !link.group.empty())
          warning(link.at, link.where + ": user/group ignored for hard link");
        if (link.target) {
          auto target = declared_paths_.find(*link.target);
          if (target != declared_paths_.end() && target->second->kind == NodeKind::directory)
            error(link.at, link.where + ": hard link target is a directory");
        }
        continue;
      }
      for (const StorageNode& other : nodes_) {
        if (other.path.size() > link.path.size() &&
            other.path.compare(0, link.path.size() + 1, link.path + "/") == 0)
          error(other.at, other.where + ": " + std::string(node_kind_name(other.kind)) +
                              " path includes link in config ('" + link.path + "')");
      }
    }
    for (const std::size_t file_index : files) {
      const StorageNode& file = nodes_[file_index];
      if (file.overwrite.value_or(false) && !file.contents.source)
        error(file.at, file.where + ": overwrite must be false if source is unspecified",
              "give the file contents, or drop overwrite");
    }
    // A file or link at a unit's path fights with the unit section over the same file.
    for (const UnitOut& unit : units) {
      std::vector<std::string> unit_paths;
      if (unit.has_contents || unit.masked)
        unit_paths.push_back("/etc/systemd/system/" + unit.name);
      for (const std::string& dropin : unit.dropin_names)
        unit_paths.push_back("/etc/systemd/system/" + unit.name + ".d/" + dropin);
      for (const std::string& path : unit_paths) {
        auto conflict = declared_paths_.find(path);
        if (conflict != declared_paths_.end() && conflict->second->kind != NodeKind::directory)
          error(conflict->second->at, conflict->second->where +
                                          ": path conflicts with systemd unit or dropin '" +
                                          unit.name + "'");
      }
    }

    const auto emit = [&](const std::vector<std::size_t>& indexes, std::string_view key) {
      if (indexes.empty()) return;
      json::array list;
      for (const std::size_t i : indexes) list.push_back(nodes_[i].to_json());
      out[key] = std::move(list);
    };
    emit(directories, "directories");
    emit(files, "files");
    emit(links, "links");
    return out;
  }

  // Butane's walkTree: regular files become files (mode 0755 if executable, else 0644), symlinks
  // become links; entries visited in lexical order, as filepath.Walk does.
  void walk_tree(const YAML::Node& at, const std::string& what, const fs::path& root,
                 const fs::path& dir, const std::string& destination,
                 std::vector<std::size_t>& files, std::vector<std::size_t>& links) {
    std::error_code ec;
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      count_node();
      entries.push_back(*it);
    }
    if (ec) fail(ErrorCode::io, what + ": cannot list " + dir.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.path().filename().string() < b.path().filename().string();
    });
    for (const fs::directory_entry& entry : entries) {
      const fs::file_status status = entry.symlink_status(ec);
      const std::string relative = entry.path().lexically_relative(root).generic_string();
      const std::string target_path = join_path(destination, relative);
      if (fs::is_directory(status)) {
        walk_tree(at, what, root, entry.path(), destination, files, links);
        continue;
      }
      auto existing = declared_paths_.find(target_path);
      if (fs::is_regular_file(status)) {
        StorageNode* file = nullptr;
        if (existing != declared_paths_.end()) {
          file = existing->second;
          if (file->kind != NodeKind::file || file->contents.source) {
            error(at, what + ": '" + target_path +
                          "' from the tree is already defined with contents or as another type");
            continue;
          }
        } else {
          StorageNode created;
          created.kind = NodeKind::file;
          created.path = target_path;
          created.at = at;
          created.where = what;
          nodes_.push_back(std::move(created));
          files.push_back(nodes_.size() - 1);
          file = &nodes_.back();
          rebuild_declared_paths();
        }
        const std::string contents = read_file(at, what, entry.path());
        const bool declared_compression =
            file->contents.compression && !file->contents.compression->empty();
        encode_into(file->contents, contents, declared_compression);
        if (!file->mode)
          file->mode = (status.permissions() & (fs::perms::owner_exec | fs::perms::group_exec |
                                                fs::perms::others_exec)) != fs::perms::none
                           ? 0755
                           : 0644;
      } else if (fs::is_symlink(status)) {
        StorageNode* link = nullptr;
        if (existing != declared_paths_.end()) {
          link = existing->second;
          if (link->kind != NodeKind::link || (link->target && !link->target->empty())) {
            error(at, what + ": '" + target_path +
                          "' from the tree is already defined with a target or as another type");
            continue;
          }
        } else {
          StorageNode created;
          created.kind = NodeKind::link;
          created.path = target_path;
          created.at = at;
          created.where = what;
          nodes_.push_back(std::move(created));
          links.push_back(nodes_.size() - 1);
          link = &nodes_.back();
          rebuild_declared_paths();
        }
        link->target = fs::read_symlink(entry.path(), ec).generic_string();
      } else {
        error(at, what + ": '" + entry.path().string() +
                      "' is neither a file, a directory nor a symlink");
      }
    }
  }

  // nodes_ may reallocate when a tree adds entries; the index points into it.
  void rebuild_declared_paths() {
    std::map<std::string, StorageNode*> rebuilt;
    for (StorageNode& node : nodes_)
      if (!node.path.empty()) rebuilt.emplace(node.path, &node);
    declared_paths_ = std::move(rebuilt);
  }

  json::object translate_systemd(const YAML::Node& node, std::vector<UnitOut>& units_out) {
    static constexpr std::array<std::string_view, 1> kKeys{"units"};
    json::object out;
    const auto fields = mapping(node, "systemd", kKeys);
    if (!fields) return out;
    json::array units;
    std::map<std::string, YAML::Node> names;
    std::size_t index = 0;
    for (const YAML::Node& entry : sequence(*fields, "units", "systemd")) {
      const std::string what = item("systemd.units", index++);
      static constexpr std::array<std::string_view, 6> kUnitKeys{
          "name", "enabled", "mask", "contents", "contents_local", "dropins"};
      const auto unit = mapping(entry, what, kUnitKeys);
      if (!unit) continue;
      UnitOut summary;
      summary.at = entry;
      summary.where = what;
      json::object translated;
      const std::optional<std::string> contents = unit_contents(*unit, what);
      if (contents) translated["contents"] = *contents;
      summary.has_contents = contents.has_value();
      json::array dropins;
      std::set<std::string> dropin_names;
      std::size_t dropin_index = 0;
      for (const YAML::Node& dropin : sequence(*unit, "dropins", what)) {
        const std::string dropin_what = item(child(what, "dropins"), dropin_index++);
        static constexpr std::array<std::string_view, 3> kDropinKeys{"name", "contents",
                                                                     "contents_local"};
        const auto dropin_fields = mapping(dropin, dropin_what, kDropinKeys);
        if (!dropin_fields) continue;
        json::object translated_dropin;
        if (auto dropin_contents = unit_contents(*dropin_fields, dropin_what))
          translated_dropin["contents"] = *dropin_contents;
        const std::optional<std::string> name = string_value(*dropin_fields, "name", dropin_what);
        if (!name || name->empty()) {
          error(dropin, dropin_what + ": name is required");
        } else {
          if (name->find('/') != std::string::npos)
            error(dropin_fields->get("name")->value,
                  dropin_what + ": drop-in name '" + *name + "' must not contain '/'");
          if (name->size() < 6 || name->substr(name->size() - 5) != ".conf")
            error(dropin_fields->get("name")->value,
                  dropin_what + ": invalid systemd drop-in extension in '" + *name + "'",
                  "drop-in names end in .conf");
          if (!dropin_names.insert(*name).second)
            error(dropin, dropin_what + ": drop-in '" + *name + "' is defined twice");
          summary.dropin_names.push_back(*name);
        }
        translated_dropin["name"] = name.value_or("");
        dropins.push_back(std::move(translated_dropin));
      }
      if (!dropins.empty()) translated["dropins"] = std::move(dropins);
      const std::optional<bool> enabled = bool_value(*unit, "enabled", what);
      if (enabled) translated["enabled"] = *enabled;
      const std::optional<bool> mask = bool_value(*unit, "mask", what);
      if (mask) translated["mask"] = *mask;
      summary.masked = mask.value_or(false);
      const std::optional<std::string> name = string_value(*unit, "name", what);
      if (!name || name->empty()) {
        error(entry, what + ": name is required");
      } else {
        check_unit_name(unit->get("name")->value, what, *name);
        if (!names.emplace(*name, entry).second)
          error(entry, what + ": unit '" + *name + "' is defined twice",
                "first defined at line " + std::to_string(where(names[*name]).line) +
                    "; put everything about a unit in one entry");
        summary.name = *name;
      }
      translated["name"] = name.value_or("");
      if (enabled.value_or(false) && contents && !has_install_section(*contents))
        warning(entry,
                what + ": unit \"" + name.value_or("") +
                    "\" is enabled, but has no install section so enable does nothing",
                "add an [Install] section with WantedBy=multi-user.target");
      units.push_back(std::move(translated));
      units_out.push_back(std::move(summary));
    }
    if (!units.empty()) out["units"] = std::move(units);
    return out;
  }

  std::optional<std::string> unit_contents(const Fields& fields, const std::string& what) {
    if (fields.has("contents") && fields.has("contents_local")) {
      error(fields.node, what + ": only one of the following can be set: contents, contents_local");
      return std::nullopt;
    }
    std::optional<std::string> contents = string_value(fields, "contents", what);
    if (!contents) {
      if (auto local = string_value(fields, "contents_local", what))
        contents =
            read_local(fields.get("contents_local")->value, child(what, "contents_local"), *local);
    }
    if (contents) {
      const YAML::Node& at = fields.has("contents") ? fields.get("contents")->value
                                                    : fields.get("contents_local")->value;
      check_unit_syntax(at, what, *contents);
    }
    return contents;
  }

  void check_unit_name(const YAML::Node& at, const std::string& what, const std::string& name) {
    static constexpr std::array<std::string_view, 12> kSuffixes{
        ".service", ".socket", ".device", ".mount",    ".automount", ".swap",
        ".target",  ".path",   ".timer",  ".snapshot", ".slice",     ".scope"};
    const std::size_t dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0) {
      error(at, what + ": no systemd unit extension in '" + name + "'",
            "unit names end in .service, .socket, .timer, .mount, .target, …");
      return;
    }
    const std::string_view suffix = std::string_view(name).substr(dot);
    if (std::find(kSuffixes.begin(), kSuffixes.end(), suffix) == kSuffixes.end())
      error(at, what + ": invalid systemd unit extension '" + std::string(suffix) + "'",
            "unit names end in .service, .socket, .timer, .mount, .target, …");
    if (name.find('/') != std::string::npos)
      error(at, what + ": unit name '" + name + "' must not contain '/'");
  }

  // go-systemd's unit parser: sections in brackets, Key=Value lines, comments, continuations.
  void check_unit_syntax(const YAML::Node& at, const std::string& what,
                         const std::string& contents) {
    bool in_section = false;
    bool continued = false;
    std::size_t line_number = 0;
    std::size_t start = 0;
    while (start < contents.size()) {
      std::size_t end = contents.find('\n', start);
      if (end == std::string::npos) end = contents.size();
      std::string_view line = std::string_view(contents).substr(start, end - start);
      start = end + 1;
      ++line_number;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
      const bool continues = !line.empty() && line.back() == '\\';
      if (continued) {
        continued = continues;
        continue;
      }
      continued = continues;
      std::size_t first = line.find_first_not_of(" \t");
      if (first == std::string_view::npos) continue;
      line.remove_prefix(first);
      if (line.front() == '#' || line.front() == ';') continue;
      if (line.front() == '[') {
        if (line.back() != ']' || line.size() < 3) {
          error(at, what + ": invalid unit contents: line " + std::to_string(line_number) +
                        " is not a well-formed [Section] header");
          return;
        }
        in_section = true;
        continue;
      }
      if (!in_section) {
        error(at, what + ": invalid unit contents: line " + std::to_string(line_number) +
                      " is outside any [Section]");
        return;
      }
      if (line.find('=') == std::string_view::npos) {
        error(at, what + ": invalid unit contents: line " + std::to_string(line_number) +
                      " is not Key=Value");
        return;
      }
    }
  }

  static bool has_install_section(const std::string& contents) {
    std::istringstream in(contents);
    std::string line;
    while (std::getline(in, line)) {
      const std::size_t first = line.find_first_not_of(" \t");
      if (first != std::string::npos && line.compare(first, 9, "[Install]") == 0) return true;
    }
    return false;
  }

  const ButaneOptions& options_;
  const std::string source_name_;
  std::vector<Diagnostic> diagnostics_;
  const SpecVersion* spec_ = nullptr;
  std::size_t visited_ = 0;
  std::optional<fs::path> canonical_files_dir_;
  std::vector<StorageNode> nodes_;
  std::map<std::string, StorageNode*> declared_paths_;
};

}  // namespace

ButaneOutput compile_butane(std::string_view document, const ButaneOptions& options) {
  return Compiler(options).compile(document);
}

std::vector<ButaneVersion> supported_butane_versions() {
  std::vector<ButaneVersion> out;
  for (const SpecVersion& spec : kVersions)
    out.push_back(
        {std::string(spec.variant), std::string(spec.butane), std::string(spec.ignition)});
  return out;
}

}  // namespace devx
