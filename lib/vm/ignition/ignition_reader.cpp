#include "vm/ignition/ignition_reader.hpp"

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "vm/ignition/encoding.hpp"

#include <devx/error.hpp>

#include <boost/json.hpp>

namespace devx::ignition {

namespace json = boost::json;

namespace {

// Decoded file contents larger than this are not something a replay should write.
constexpr std::size_t kContentsLimit = 256u << 20;

[[noreturn]] void malformed(const std::string& what, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument,
              core::valid_utf8("Ignition config: " + what + ": " + problem),
              "pass the document devx or butane produced");
}

const json::object* object_at(const json::object& parent, std::string_view key,
                              const std::string& what) {
  const json::value* value = parent.if_contains(key);
  if (!value || value->is_null()) return nullptr;
  if (!value->is_object()) malformed(what + "." + std::string(key), "must be an object");
  return &value->get_object();
}

const json::array* array_at(const json::object& parent, std::string_view key,
                            const std::string& what) {
  const json::value* value = parent.if_contains(key);
  if (!value || value->is_null()) return nullptr;
  if (!value->is_array()) malformed(what + "." + std::string(key), "must be an array");
  return &value->get_array();
}

std::optional<std::string> string_at(const json::object& parent, std::string_view key,
                                     const std::string& what) {
  const json::value* value = parent.if_contains(key);
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_string()) malformed(what + "." + std::string(key), "must be a string");
  return std::string(value->get_string());
}

std::optional<bool> bool_at(const json::object& parent, std::string_view key,
                            const std::string& what) {
  const json::value* value = parent.if_contains(key);
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_bool()) malformed(what + "." + std::string(key), "must be true or false");
  return value->get_bool();
}

std::optional<int> int_at(const json::object& parent, std::string_view key,
                          const std::string& what) {
  const json::value* value = parent.if_contains(key);
  if (!value || value->is_null()) return std::nullopt;
  if (value->is_int64() && value->get_int64() >= 0 && value->get_int64() <= 0x7fffffff)
    return static_cast<int>(value->get_int64());
  if (value->is_uint64() && value->get_uint64() <= 0x7fffffff)
    return static_cast<int>(value->get_uint64());
  malformed(what + "." + std::string(key), "must be a non-negative integer");
}

const json::object& object_item(const json::value& value, const std::string& what) {
  if (!value.is_object()) malformed(what, "must be an object");
  return value.get_object();
}

template <typename Entry>
void read_owner(const json::object& node, Entry& entry, const std::string& what) {
  if (const json::object* user = object_at(node, "user", what)) {
    entry.uid = int_at(*user, "id", what + ".user");
    entry.user = string_at(*user, "name", what + ".user").value_or("");
  }
  if (const json::object* group = object_at(node, "group", what)) {
    entry.gid = int_at(*group, "id", what + ".group");
    entry.group = string_at(*group, "name", what + ".group").value_or("");
  }
}

std::string require_path(const json::object& node, const std::string& what) {
  std::optional<std::string> path = string_at(node, "path", what);
  if (!path || path->empty() || path->front() != '/')
    malformed(what + ".path", "must be an absolute path");
  return *path;
}

// A resource's bytes: only data URLs can be replayed.
std::string resource_bytes(const json::object& resource, const std::string& what) {
  const std::optional<std::string> source = string_at(resource, "source", what);
  if (!source) return {};
  std::optional<std::string> bytes = decode_data_url(*source);
  if (!bytes) {
    if (source->rfind("data:", 0) == 0) malformed(what + ".source", "is not a valid data URL");
    throw Error(
        ErrorCode::unsupported,
        core::valid_utf8("Ignition config: " + what + ".source '" + source->substr(0, 80) +
                         "' is fetched from the network, which a replay over SSH does not do"),
        "inline the contents (butane: inline: or local:) or boot the VM with the Ignition "
        "file instead of replaying it");
  }
  const std::string compression = string_at(resource, "compression", what).value_or("");
  if (compression == "gzip") {
    try {
      return gzip_decompress(*bytes, kContentsLimit);
    } catch (const Error& e) {
      malformed(what + ".source", e.message());
    }
  }
  if (!compression.empty())
    malformed(what + ".compression", "unknown method '" + compression + "'");
  return std::move(*bytes);
}

}  // namespace

IgnitionConfig read_ignition(std::string_view text) {
  const json::object root = core::parse_json_object_or_throw(text, "Ignition config");
  IgnitionConfig config;
  const json::object* ignition = object_at(root, "ignition", "");
  if (!ignition) malformed("ignition", "is missing");
  config.version = string_at(*ignition, "version", "ignition").value_or("");
  if (config.version.rfind("3.", 0) != 0)
    malformed("ignition.version", "'" + config.version + "' is not a 3.x spec version");
  if (const json::object* references = object_at(*ignition, "config", "ignition")) {
    const json::array* merge = array_at(*references, "merge", "ignition.config");
    const json::object* replace = object_at(*references, "replace", "ignition.config");
    if ((merge && !merge->empty()) || (replace && !replace->empty()))
      throw Error(ErrorCode::unsupported,
                  "Ignition config: ignition.config merge/replace references other configs, "
                  "which a replay over SSH does not fetch",
                  "compile one self-contained config");
  }

  if (const json::object* passwd = object_at(root, "passwd", "")) {
    if (const json::array* users = array_at(*passwd, "users", "passwd")) {
      for (std::size_t i = 0; i < users->size(); ++i) {
        const std::string what = "passwd.users[" + std::to_string(i) + "]";
        const json::object& user = object_item((*users)[i], what);
        if (string_at(user, "name", what).value_or("") != "core") continue;
        if (const json::array* keys = array_at(user, "sshAuthorizedKeys", what)) {
          for (const json::value& key : *keys) {
            if (!key.is_string()) malformed(what + ".sshAuthorizedKeys", "must hold strings");
            config.ssh_keys_core.emplace_back(key.get_string());
          }
        }
      }
    }
  }

  if (const json::object* storage = object_at(root, "storage", "")) {
    if (const json::array* files = array_at(*storage, "files", "storage")) {
      for (std::size_t i = 0; i < files->size(); ++i) {
        const std::string what = "storage.files[" + std::to_string(i) + "]";
        const json::object& node = object_item((*files)[i], what);
        FileEntry file;
        file.path = require_path(node, what);
        file.mode = int_at(node, "mode", what).value_or(0644);
        file.overwrite = bool_at(node, "overwrite", what).value_or(false);
        read_owner(node, file, what);
        bool has_contents = false;
        if (const json::object* contents = object_at(node, "contents", what)) {
          has_contents = contents->contains("source");
          file.contents = resource_bytes(*contents, what + ".contents");
        }
        bool has_append = false;
        if (const json::array* append = array_at(node, "append", what)) {
          for (std::size_t k = 0; k < append->size(); ++k) {
            const std::string append_what = what + ".append[" + std::to_string(k) + "]";
            file.contents += resource_bytes(object_item((*append)[k], append_what), append_what);
            has_append = true;
          }
        }
        file.append = has_append && !has_contents;
        config.files.push_back(std::move(file));
      }
    }
    if (const json::array* directories = array_at(*storage, "directories", "storage")) {
      for (std::size_t i = 0; i < directories->size(); ++i) {
        const std::string what = "storage.directories[" + std::to_string(i) + "]";
        const json::object& node = object_item((*directories)[i], what);
        DirectoryEntry directory;
        directory.path = require_path(node, what);
        directory.mode = int_at(node, "mode", what).value_or(0755);
        directory.overwrite = bool_at(node, "overwrite", what).value_or(false);
        read_owner(node, directory, what);
        config.directories.push_back(std::move(directory));
      }
    }
    if (const json::array* links = array_at(*storage, "links", "storage")) {
      for (std::size_t i = 0; i < links->size(); ++i) {
        const std::string what = "storage.links[" + std::to_string(i) + "]";
        const json::object& node = object_item((*links)[i], what);
        LinkEntry link;
        link.path = require_path(node, what);
        link.target = string_at(node, "target", what).value_or("");
        if (link.target.empty()) malformed(what + ".target", "is required");
        link.hard = bool_at(node, "hard", what).value_or(false);
        link.overwrite = bool_at(node, "overwrite", what).value_or(false);
        read_owner(node, link, what);
        config.links.push_back(std::move(link));
      }
    }
  }

  if (const json::object* systemd = object_at(root, "systemd", "")) {
    if (const json::array* units = array_at(*systemd, "units", "systemd")) {
      for (std::size_t i = 0; i < units->size(); ++i) {
        const std::string what = "systemd.units[" + std::to_string(i) + "]";
        const json::object& node = object_item((*units)[i], what);
        UnitEntry unit;
        unit.name = string_at(node, "name", what).value_or("");
        if (unit.name.empty() || unit.name.find('/') != std::string::npos)
          malformed(what + ".name", "must be a unit file name");
        unit.contents = string_at(node, "contents", what);
        unit.enabled = bool_at(node, "enabled", what);
        unit.mask = bool_at(node, "mask", what).value_or(false);
        if (const json::array* dropins = array_at(node, "dropins", what)) {
          for (std::size_t k = 0; k < dropins->size(); ++k) {
            const std::string dropin_what = what + ".dropins[" + std::to_string(k) + "]";
            const json::object& dropin = object_item((*dropins)[k], dropin_what);
            std::string name = string_at(dropin, "name", dropin_what).value_or("");
            if (name.empty() || name.find('/') != std::string::npos)
              malformed(dropin_what + ".name", "must be a drop-in file name");
            unit.dropins.emplace_back(std::move(name),
                                      string_at(dropin, "contents", dropin_what).value_or(""));
          }
        }
        config.units.push_back(std::move(unit));
      }
    }
  }
  return config;
}

}  // namespace devx::ignition
