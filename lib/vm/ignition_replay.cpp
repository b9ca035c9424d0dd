#include "vm/ignition_replay.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>

#include <cstdio>

#include "vm/ignition/encoding.hpp"
#include "vm/ignition/ignition_reader.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

// $1 path, $2 mode (octal), $3 owner, $4 group, $5 replace|keep|append; the bytes arrive as base64
// on stdin. The new content is assembled in a temporary file beside the target (mktemp: 0600, so
// a secret is never readable by others on the way), given its mode and owner, and renamed over
// the target: readers see the old file or the new one, never half of it. Prints what it did.
constexpr const char* kFileScript =
    "set -eu\n"
    "if [ \"$5\" = keep ] && { [ -e \"$1\" ] || [ -L \"$1\" ]; }; then\n"
    "  cat >/dev/null\n"  // drain stdin: a transport may lose output when input is left unread
    "  echo kept\n"
    "  exit 0\n"
    "fi\n"
    "d=$(dirname \"$1\")\n"
    "mkdir -p \"$d\"\n"
    "t=$(mktemp \"$d/.devx-XXXXXX\")\n"
    "trap 'rm -f \"$t\"' EXIT\n"
    "if [ \"$5\" = append ] && [ -e \"$1\" ]; then cat \"$1\" >\"$t\"; fi\n"
    "base64 -d >>\"$t\"\n"
    "chmod \"$2\" \"$t\"\n"
    "chown \"$3:$4\" \"$t\"\n"
    "mv -f \"$t\" \"$1\"\n"
    "echo \"$5\"\n";

// $1 path, $2 mode, $3 owner, $4 group.
constexpr const char* kDirectoryScript =
    "set -eu\n"
    "mkdir -p \"$1\"\n"
    "chmod \"$2\" \"$1\"\n"
    "chown \"$3:$4\" \"$1\"\n";

// $1 path, $2 target, $3 owner:group, $4 replace|keep, $5 symbolic|hard.
constexpr const char* kLinkScript =
    "set -eu\n"
    "if [ \"$4\" = keep ] && { [ -e \"$1\" ] || [ -L \"$1\" ]; }; then echo kept; exit 0; fi\n"
    "mkdir -p \"$(dirname \"$1\")\"\n"
    "if [ \"$5\" = hard ]; then ln -fn \"$2\" \"$1\"; else ln -sfn \"$2\" \"$1\"; fi\n"
    "chown -h \"$3\" \"$1\"\n"
    "echo written\n";

std::string octal(int mode) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%o", mode);
  return buffer;
}

std::string owner_of(const std::string& name, const std::optional<int>& id) {
  if (!name.empty()) return name;
  return std::to_string(id.value_or(0));
}

void require_absolute(const std::string& path, std::string_view what) {
  if (path.empty() || path.front() != '/' || path.find('\n') != std::string::npos)
    throw Error(ErrorCode::invalid_argument,
                std::string(what) + " path '" + path + "' is not an absolute path",
                "Ignition paths start with '/'");
}

void require_unit_name(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.find('\n') != std::string::npos)
    throw Error(ErrorCode::invalid_argument, "invalid systemd unit name '" + name + "'");
}

struct Replayer {
  Plan& plan;
  const ExecTransport& transport;
  json::array kept;

  std::string run(const std::string& description, std::vector<std::string> command,
                  std::optional<std::string> stdin_data = std::nullopt) {
    auto result = plan.command(description, transport.wrap(command, true), std::move(stdin_data));
    return result.out;
  }

  void file(const std::string& path, const std::string& contents, int mode,
            const std::string& owner, const std::string& group, const std::string& how) {
    const auto out = run("write " + path + " (mode " + octal(mode) + ")",
                         {"sh", "-c", kFileScript, "sh", path, octal(mode), owner, group, how},
                         ignition::base64_encode(contents));
    if (out.starts_with("kept")) kept.emplace_back(path);
  }
};

}  // namespace

json::object replay_ignition(Plan& plan, const ExecTransport& transport,
                             std::string_view ignition_json) {
  const auto config = ignition::read_ignition(ignition_json);
  for (const auto& d : config.directories) require_absolute(d.path, "directory");
  for (const auto& f : config.files) require_absolute(f.path, "file");
  for (const auto& l : config.links) require_absolute(l.path, "link");
  for (const auto& u : config.units) require_unit_name(u.name);

  Replayer r{plan, transport, {}};
  for (const auto& d : config.directories) {
    r.run("create directory " + d.path, {"sh", "-c", kDirectoryScript, "sh", d.path, octal(d.mode),
                                         owner_of(d.user, d.uid), owner_of(d.group, d.gid)});
  }
  bool sysctl_changed = false;
  for (const auto& f : config.files) {
    r.file(f.path, f.contents, f.mode, owner_of(f.user, f.uid), owner_of(f.group, f.gid),
           f.append      ? "append"
           : f.overwrite ? "replace"
                         : "keep");
    sysctl_changed = sysctl_changed || f.path.starts_with("/etc/sysctl.d/");
  }
  for (const auto& l : config.links) {
    const auto out = r.run("link " + l.path + " → " + l.target,
                           {"sh", "-c", kLinkScript, "sh", l.path, l.target,
                            owner_of(l.user, l.uid) + ":" + owner_of(l.group, l.gid),
                            l.overwrite ? "replace" : "keep", l.hard ? "hard" : "symbolic"});
    if (out.starts_with("kept")) r.kept.emplace_back(l.path);
  }
  // A booted machine reads sysctl.d only at boot: apply the new settings now.
  if (sysctl_changed) r.run("apply sysctl settings", {"sysctl", "--system"});

  const std::string unit_dir = "/etc/systemd/system/";
  for (const auto& u : config.units) {
    if (u.contents) r.file(unit_dir + u.name, *u.contents, 0644, "0", "0", "replace");
    for (const auto& [dropin, contents] : u.dropins)
      r.file(unit_dir + u.name + ".d/" + dropin, contents, 0644, "0", "0", "replace");
  }
  if (!config.units.empty()) {
    for (const auto& u : config.units)
      if (u.mask) r.run("mask " + u.name, {"systemctl", "mask", u.name});
    r.run("reload systemd", {"systemctl", "daemon-reload"});
    for (const auto& u : config.units) {
      if (u.mask || !u.enabled) continue;
      if (*u.enabled)
        r.run("enable and start " + u.name, {"systemctl", "enable", "--now", u.name});
      else
        r.run("disable " + u.name, {"systemctl", "disable", u.name});
    }
  }
  return json::object{{"files", config.files.size()},
                      {"directories", config.directories.size()},
                      {"links", config.links.size()},
                      {"units", config.units.size()},
                      {"kept", std::move(r.kept)}};
}

}  // namespace devx::vm
