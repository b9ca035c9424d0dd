#pragma once
// A reader of *Ignition* JSON documents (spec 3.x) into plain structs, for replaying a config over
// SSH on providers that cannot take an Ignition file at creation. Contents are decoded (data URLs,
// percent-escaped or base64, gzip-compressed or not); a remote source (http, s3, …) is
// Error(unsupported) because a replay cannot fetch it with Ignition's semantics.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devx::ignition {

struct FileEntry {
  std::string path;
  std::string contents;  // decoded bytes; with append, the concatenation of every append entry
  int mode = 0644;       // Ignition's default for files
  std::optional<int> uid, gid;
  std::string user, group;  // names, when the config names the owner instead of an id
  // The config's `overwrite`; read_ignition sets it explicitly (absent = false, Ignition's default:
  // at first boot an existing node at the path is then an error).
  bool overwrite = true;
  // Only `append` entries and no `contents`: `contents` is added to the end of the file. With
  // both, `contents` already holds the source followed by the appended data and append is false.
  bool append = false;
};

struct DirectoryEntry {
  std::string path;
  int mode = 0755;
  std::optional<int> uid, gid;
  std::string user, group;
  bool overwrite = false;
};

struct LinkEntry {
  std::string path;
  std::string target;
  bool hard = false;
  std::optional<int> uid, gid;
  std::string user, group;
  bool overwrite = false;
};

struct UnitEntry {
  std::string name;
  std::optional<std::string> contents;
  std::optional<bool> enabled;  // absent: leave the unit's enablement alone
  bool mask = false;
  std::vector<std::pair<std::string, std::string>> dropins;  // (name, contents)
};

struct IgnitionConfig {
  std::string version;                     // "3.4.0"
  std::vector<std::string> ssh_keys_core;  // passwd.users[name=core].sshAuthorizedKeys
  std::vector<FileEntry> files;
  std::vector<DirectoryEntry> directories;
  std::vector<LinkEntry> links;
  std::vector<UnitEntry> units;
};

// Parses an Ignition document. Throws Error(invalid_argument) for malformed JSON, a missing or
// non-3.x version, or a malformed data URL; Error(unsupported) for remote sources and for config
// merge/replace references.
IgnitionConfig read_ignition(std::string_view json);

}  // namespace devx::ignition
