// devx nuke: the plan (what devx made for one project, and on request its build artefacts and
// global caches) and its removal, each item re-checked right before it goes.
#include <devx/config.hpp>
#include <devx/error.hpp>
#include <devx/nuke.hpp>
#include <devx/supervisor.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "core/json.hpp"
#include "core/proc_stat.hpp"
#include "core/unique_fd.hpp"
#include "nuke/engine_volumes.hpp"
#include "nuke/project_tree.hpp"
#include "orchestrator/plan.hpp"
#include "orchestrator/run_state.hpp"
#include "runtime/container_engine.hpp"
#include "runtime/database.hpp"

namespace devx {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using runtime::kLabelProject;
using runtime::kLabelRun;

// What must still hold right before an item is removed.
enum class Check {
  container_label,  // still labelled for this project and run
  volume_label,
  run_state,       // DEVX_HOME/run/<key>, no supervisor alive (we hold its lock)
  relocated_data,  // a database data directory under kHostDataRoot, linked from the run dir
  socket,          // the control socket outside the run dir
  artifact,        // still a directory inside the project that git does not track
  cache,           // still a directory (not a symlink)
};

struct Item {
  std::string kind;  // container | volume | directory | file
  std::string name;
  std::string id;
  fs::path path;
  fs::path link;  // relocated_data: the link in the run dir
  std::uint64_t size = 0;
  std::string scope;  // project | artifact | global
  std::string reason;
  Check check = Check::cache;
};

struct Kept {
  std::string kind;
  std::string name;
  fs::path path;
  std::string reason;
};

struct Plan {
  std::string project;
  fs::path project_dir;
  std::string run_key;
  fs::path run_dir;
  std::optional<runtime::ContainerEngine> engine;
  bool git = false;
  std::vector<Item> items;
  std::vector<Kept> kept;
  std::vector<std::string> notes;
  core::UniqueFd run_lock;  // held while we plan and remove, so `devx up` cannot start meanwhile
};

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%" PRIu64 " B", bytes);
  } else {
    std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  }
  return text;
}

[[noreturn]] void refuse_running(const std::string& project, int pid, const std::string& how) {
  throw Error(ErrorCode::conflict,
              "project '" + project + "' is running (" + how + " pid " + std::to_string(pid) + ")",
              "stop it with `devx down`, then run `devx nuke` again",
              core::to_json_string(json::object{{"project", project}, {"pid", pid}}));
}

// Refuses while a supervisor or session of the project lives; otherwise takes the run lock (when
// the run directory has one) and returns it.
core::UniqueFd claim_run(Context& context, const std::string& project, const std::string& key,
                         const fs::path& run_dir) {
  if (auto text = context.state().read("run/" + key + "/supervisor.json")) {
    const json::value doc = core::parse_json_or_null(*text);
    if (doc.is_object()) {
      const int pid = static_cast<int>(core::int_field(doc.get_object(), "pid"));
      const auto start =
          static_cast<std::uint64_t>(core::int_field(doc.get_object(), "start_time"));
      if (pid > 0 && core::process_alive(pid, start)) refuse_running(project, pid, "supervisor");
    }
  }
  if (auto text = context.state().read("run/" + key + "/state.json")) {
    if (auto record = orchestrator::parse_run_record(*text);
        record && record->owner_pid > 0 &&
        core::process_alive(record->owner_pid, record->owner_start_time)) {
      refuse_running(project, record->owner_pid, "session owner");
    }
  }
  const fs::path lock_path = run_dir / "lock";
  core::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!lock) return lock;  // no run directory (or no lock in it): nothing can hold it
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    char buffer[32] = {};
    const ssize_t n = ::pread(lock.get(), buffer, sizeof buffer - 1, 0);
    refuse_running(project, n > 0 ? std::atoi(buffer) : 0, "run lock held by");
  }
  return lock;
}

bool is_directory_no_follow(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(path, ec));
}

bool under(const fs::path& root, const fs::path& path) {
  const auto rel = path.lexically_normal().lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && *rel.begin() != ".";
}

// An object without a devx.run label (or an empty one) belongs to any checkout of the project;
// one with a run label only to the checkout whose run key it names.
bool labelled_for_this_checkout(const std::map<std::string, std::string>& labels,
                                const Plan& plan) {
  const auto run = labels.find(std::string(kLabelRun));
  return run == labels.end() || run->second.empty() || run->second == plan.run_key;
}

void add_engine_items(Context& context, Plan& plan) {
  plan.engine = runtime::ContainerEngine::detect(context.env());
  if (!plan.engine) {
    plan.notes.push_back("no container engine (podman, docker) found: no containers or volumes");
    return;
  }
  const std::map<std::string, std::string> labels{{std::string(kLabelProject), plan.project}};
  const std::string engine(plan.engine->name());
  try {
    for (const auto& c : plan.engine->list(context, labels)) {
      if (!labelled_for_this_checkout(c.labels, plan)) {
        plan.kept.push_back({"container",
                             c.name,
                             {},
                             "labelled for another checkout of '" + plan.project + "' (run " +
                                 c.labels.at(std::string(kLabelRun)) + ")"});
        continue;
      }
      Item item;
      item.kind = "container";
      item.name = c.name;
      item.id = c.id;
      item.scope = "project";
      item.reason = engine + " container labelled devx.project=" + plan.project +
                    (c.state.empty() ? "" : " (" + c.state + ")");
      item.check = Check::container_label;
      plan.items.push_back(std::move(item));
    }
  } catch (const Error& e) {
    plan.notes.push_back("containers were not listed: " + e.message());
  }
  try {
    for (const auto& v : cleanup::list_volumes(context, *plan.engine, labels)) {
      if (!labelled_for_this_checkout(v.labels, plan)) {
        plan.kept.push_back({"volume",
                             v.name,
                             {},
                             "labelled for another checkout of '" + plan.project + "' (run " +
                                 v.labels.at(std::string(kLabelRun)) + ")"});
        continue;
      }
      Item item;
      item.kind = "volume";
      item.name = v.name;
      item.scope = "project";
      item.size = v.mountpoint.empty() ? 0 : cleanup::disk_usage(v.mountpoint);
      item.reason = engine + " volume labelled devx.project=" + plan.project;
      item.check = Check::volume_label;
      plan.items.push_back(std::move(item));
    }
  } catch (const Error& e) {
    plan.notes.push_back("volumes were not listed: " + e.message());
  }
}

void add_run_state(Context& context, const Project& project, Plan& plan) {
  std::error_code ec;
  const fs::path host_root(runtime::kHostDataRoot);
  for (const auto& entry : fs::directory_iterator(plan.run_dir / "data", ec)) {
    std::error_code link_ec;
    if (!entry.is_symlink(link_ec)) continue;
    const fs::path target = fs::read_symlink(entry.path(), link_ec);
    if (link_ec || !target.is_absolute() || !under(host_root, target)) continue;
    if (!is_directory_no_follow(target)) continue;
    Item item;
    item.kind = "directory";
    item.path = target;
    item.link = entry.path();
    item.size = cleanup::disk_usage(target);
    item.scope = "project";
    item.reason = "host database data of '" + entry.path().filename().string() +
                  "', relocated for the devx-db user";
    item.check = Check::relocated_data;
    plan.items.push_back(std::move(item));
  }
  if (is_directory_no_follow(plan.run_dir)) {
    Item item;
    item.kind = "directory";
    item.path = plan.run_dir;
    item.size = cleanup::disk_usage(plan.run_dir);
    item.scope = "project";
    item.reason = "run state, logs, database data and secrets of `devx up`";
    item.check = Check::run_state;
    plan.items.push_back(std::move(item));
  }
  const fs::path socket = control_socket_path(context, project);
  if (!under(plan.run_dir, socket) && fs::is_socket(fs::symlink_status(socket, ec))) {
    Item item;
    item.kind = "file";
    item.path = socket;
    item.scope = "project";
    item.reason = "control socket of the project's supervisor";
    item.check = Check::socket;
    plan.items.push_back(std::move(item));
  }
}

void add_artifacts(Context& context, const Project& project, Plan& plan) {
  auto scan = cleanup::scan_artifacts(context, project.root_dir, context.home());
  plan.git = scan.git;
  for (auto& a : scan.artifacts) {
    Item item;
    item.kind = "directory";
    item.path = a.path;
    item.size = cleanup::disk_usage(a.path);
    item.scope = "artifact";
    item.reason = std::move(a.reason);
    item.check = Check::artifact;
    plan.items.push_back(std::move(item));
  }
  for (auto& p : scan.protected_paths) {
    plan.kept.push_back({"directory", {}, std::move(p.path), std::move(p.reason)});
  }
  for (auto& n : scan.notes) plan.notes.push_back(std::move(n));
}

// A cache setting that points at a directory holding more than a cache (GOMODCACHE=$HOME, "/")
// is listed as protected instead.
void add_cache(Context& context, Plan& plan, const fs::path& path, std::string reason) {
  if (path.empty() || !path.is_absolute() || !is_directory_no_follow(path)) return;
  for (const auto& item : plan.items) {
    if (item.path == path) return;
  }
  std::vector<fs::path> precious{plan.project_dir, context.home()};
  if (const auto home = context.env().find("HOME"); home != context.env().end()) {
    precious.emplace_back(home->second);
  }
  const fs::path normal = path.lexically_normal();
  const bool too_broad =
      std::distance(normal.begin(), normal.end()) < 3 ||
      std::any_of(precious.begin(), precious.end(), [&](const fs::path& p) {
        return !p.empty() && (p.lexically_normal() == normal || under(normal, p));
      });
  if (too_broad) {
    plan.kept.push_back({"directory", {}, path, reason + ": it also holds other things"});
    return;
  }
  Item item;
  item.kind = "directory";
  item.path = path;
  item.size = cleanup::disk_usage(path);
  item.scope = "global";
  item.reason = std::move(reason);
  item.check = Check::cache;
  plan.items.push_back(std::move(item));
}

void add_global_caches(Context& context, Plan& plan) {
  CommandSpec spec;
  spec.argv = {"go", "env", "GOMODCACHE", "GOCACHE"};
  spec.timeout = std::chrono::seconds(30);
  try {
    const CommandResult result = context.commands().run(spec);
    if (result.ok()) {
      const std::string& out = result.out;
      const auto nl = out.find('\n');
      const std::string modcache = out.substr(0, nl);
      const std::string buildcache = nl == std::string::npos
                                         ? std::string()
                                         : out.substr(nl + 1, out.find('\n', nl + 1) - nl - 1);
      add_cache(context, plan, modcache,
                "Go module cache (go env GOMODCACHE), shared by every Go project");
      add_cache(context, plan, buildcache,
                "Go build cache (go env GOCACHE), shared by every Go project");
    } else {
      plan.notes.push_back("`go env` failed: the Go caches were not listed");
    }
  } catch (const Error& e) {
    if (e.code() != ErrorCode::command_not_found) throw;
    plan.notes.push_back("go is not installed: no Go caches");
  }
  add_cache(context, plan, context.home() / "cache", "devx's own caches (DEVX_HOME/cache)");
}

Plan build_plan(Context& context, const NukeOptions& options) {
  std::error_code ec;
  const fs::path start =
      options.project_dir.empty() ? fs::current_path(ec) : fs::absolute(options.project_dir, ec);
  if (ec) throw Error(ErrorCode::io, "cannot resolve the project directory: " + ec.message());
  const Project project = load_project_or_throw(start);
  Plan plan;
  plan.project = project.name;
  plan.project_dir = project.root_dir;
  plan.run_key = orchestrator::run_key(project);
  plan.run_dir = context.home() / "run" / plan.run_key;
  plan.run_lock = claim_run(context, plan.project, plan.run_key, plan.run_dir);
  add_engine_items(context, plan);
  add_run_state(context, project, plan);
  if (options.artifacts) add_artifacts(context, project, plan);
  if (options.global_caches) add_global_caches(context, plan);
  return plan;
}

json::object item_json(const Item& item) {
  json::object o{{"kind", item.kind}};
  if (!item.name.empty()) o["name"] = item.name;
  if (!item.id.empty()) o["id"] = item.id;
  if (!item.path.empty()) o["path"] = item.path.string();
  o["size_bytes"] = item.size;
  o["scope"] = item.scope;
  o["reason"] = item.reason;
  return o;
}

std::uint64_t total_bytes(const Plan& plan) {
  std::uint64_t total = 0;
  for (const auto& item : plan.items) total += item.size;
  return total;
}

json::object plan_json(const Plan& plan) {
  json::array items;
  for (const auto& item : plan.items) items.push_back(item_json(item));
  json::array kept;
  for (const auto& k : plan.kept) {
    json::object o{{"kind", k.kind}};
    if (!k.name.empty()) o["name"] = k.name;
    if (!k.path.empty()) o["path"] = k.path.string();
    o["reason"] = k.reason;
    kept.push_back(std::move(o));
  }
  json::array notes;
  for (const auto& n : plan.notes) notes.emplace_back(n);
  return json::object{{"v", 1},
                      {"project", plan.project},
                      {"project_dir", plan.project_dir.string()},
                      {"run_key", plan.run_key},
                      {"engine", plan.engine ? json::value(plan.engine->name()) : nullptr},
                      {"items", std::move(items)},
                      {"total_bytes", total_bytes(plan)},
                      {"protected", std::move(kept)},
                      {"notes", std::move(notes)}};
}

// remove_all, making directories writable first when that is what stops it (Go's module cache
// is read-only by design).
void remove_tree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (!ec) return;
  if (ec == std::errc::permission_denied) {
    std::error_code walk_ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, walk_ec);
    for (auto it = fs::recursive_directory_iterator(path, walk_ec);
         !walk_ec && it != fs::recursive_directory_iterator(); it.increment(walk_ec)) {
      std::error_code perm_ec;
      if (it->is_directory(perm_ec) && !it->is_symlink(perm_ec)) {
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, perm_ec);
      }
    }
    ec.clear();
    fs::remove_all(path, ec);
    if (!ec) return;
  }
  throw Error(ErrorCode::io, "cannot remove " + path.string() + ": " + ec.message());
}

struct Outcome {
  json::array removed, failed, skipped;
  std::uint64_t freed = 0;
};

void record(Outcome& outcome, const Item& item, const std::string& skip, const std::string& error) {
  json::object o = item_json(item);
  if (!error.empty()) {
    o["error"] = error;
    outcome.failed.push_back(std::move(o));
  } else if (!skip.empty()) {
    o["skipped_because"] = skip;
    outcome.skipped.push_back(std::move(o));
  } else {
    outcome.freed += item.size;
    outcome.removed.push_back(std::move(o));
  }
}

// Why `item` must stay now, "" when it may go.
std::string recheck_path(Context& context, const Plan& plan, const Item& item) {
  std::error_code ec;
  switch (item.check) {
    case Check::run_state:
      return is_directory_no_follow(item.path) ? "" : "it no longer exists";
    case Check::relocated_data: {
      const fs::path target = fs::read_symlink(item.link, ec);
      if (ec || target != item.path) return "the run directory no longer links to it";
      return is_directory_no_follow(item.path) ? "" : "it no longer exists";
    }
    case Check::socket:
      return fs::is_socket(fs::symlink_status(item.path, ec)) ? "" : "it is no longer a socket";
    case Check::artifact:
      return cleanup::artifact_still_removable(context, plan.project_dir, item.path, plan.git);
    case Check::cache:
      return is_directory_no_follow(item.path) ? "" : "it is no longer a directory";
    case Check::container_label:
    case Check::volume_label:
      break;
  }
  return {};
}

// Lists the engine objects of one kind again and removes each planned one that is still there and
// still labelled for this project. `key` gives an object's identity (the one the plan recorded).
template <typename Summary, typename List, typename Key, typename Remove>
void remove_labelled(const Plan& plan, Check check, Outcome& outcome, List list, Key key,
                     Remove remove) {
  if (std::none_of(plan.items.begin(), plan.items.end(),
                   [&](const Item& item) { return item.check == check; }))
    return;
  const auto still_labelled = [&](const std::map<std::string, std::string>& l) {
    const auto project = l.find(std::string(kLabelProject));
    return project != l.end() && project->second == plan.project &&
           labelled_for_this_checkout(l, plan);
  };
  std::vector<Summary> now;
  std::string list_error;
  try {
    now = list();
  } catch (const Error& e) {
    list_error = e.message();
  }
  for (const auto& item : plan.items) {
    if (item.check != check) continue;
    if (!list_error.empty()) {
      record(outcome, item, {}, "could not re-check its labels: " + list_error);
      continue;
    }
    const std::string& wanted = key(item);
    const auto found =
        std::find_if(now.begin(), now.end(), [&](const Summary& s) { return key(s) == wanted; });
    if (found == now.end()) {
      record(outcome, item, "it no longer exists", {});
    } else if (!still_labelled(found->labels)) {
      record(outcome, item, "it is no longer labelled for this project", {});
    } else {
      try {
        remove(wanted);  // by identity: exactly the object just checked
        record(outcome, item, {}, {});
      } catch (const Error& e) {
        record(outcome, item, {}, e.message());
      }
    }
  }
}

void remove_engine_items(Context& context, const Plan& plan, Outcome& outcome) {
  const std::map<std::string, std::string> by_project{{std::string(kLabelProject), plan.project}};
  const auto& engine = *plan.engine;
  struct ById {
    const std::string& operator()(const Item& i) const { return i.id; }
    const std::string& operator()(const runtime::ContainerSummary& c) const { return c.id; }
  };
  struct ByName {
    const std::string& operator()(const Item& i) const { return i.name; }
    const std::string& operator()(const cleanup::VolumeSummary& v) const { return v.name; }
  };
  remove_labelled<runtime::ContainerSummary>(
      plan, Check::container_label, outcome, [&] { return engine.list(context, by_project); },
      ById{}, [&](const std::string& id) { engine.remove(context, id); });
  remove_labelled<cleanup::VolumeSummary>(
      plan, Check::volume_label, outcome,
      [&] { return cleanup::list_volumes(context, engine, by_project); }, ByName{},
      [&](const std::string& name) { engine.volume_remove(context, name); });
}

std::string execute(Context& context, const Plan& plan) {
  Outcome outcome;
  if (plan.engine) remove_engine_items(context, plan, outcome);
  // Relocated data before the run directory that links to it.
  for (const Check phase :
       {Check::relocated_data, Check::run_state, Check::socket, Check::artifact, Check::cache}) {
    for (const auto& item : plan.items) {
      if (item.check != phase) continue;
      const std::string skip = recheck_path(context, plan, item);
      if (!skip.empty()) {
        record(outcome, item, skip, {});
        continue;
      }
      try {
        if (phase == Check::relocated_data) {
          runtime::remove_host_data(item.link);
        } else if (phase == Check::socket) {
          std::error_code ec;
          if (!fs::remove(item.path, ec) && ec) {
            throw Error(ErrorCode::io, "cannot remove " + item.path.string() + ": " + ec.message());
          }
        } else {
          if (phase == Check::run_state) runtime::remove_host_data(item.path / "data");
          remove_tree(item.path);
        }
        record(outcome, item, {}, {});
      } catch (const Error& e) {
        record(outcome, item, {}, e.message());
      }
    }
  }
  const std::size_t failures = outcome.failed.size();
  json::object result{{"v", 1},
                      {"project", plan.project},
                      {"removed", std::move(outcome.removed)},
                      {"failed", std::move(outcome.failed)},
                      {"skipped", std::move(outcome.skipped)},
                      {"freed_bytes", outcome.freed}};
  if (failures > 0) {
    throw Error(ErrorCode::command_failed,
                std::to_string(failures) + " of " + std::to_string(plan.items.size()) +
                    " items of project '" + plan.project + "' could not be removed",
                "details.failed says why for each; files owned by another user need that user "
                "(or root)",
                core::to_json_string(result));
  }
  return core::to_json_string(result);
}

}  // namespace

std::string nuke_plan(Context& context, const NukeOptions& options) {
  return core::to_json_string(plan_json(build_plan(context, options)));
}

std::string nuke(Context& context, const NukeOptions& options) {
  Plan plan = build_plan(context, options);
  const std::string plan_text = core::to_json_string(plan_json(plan));
  if (context.dry_run()) return plan_text;
  if (!options.assume_yes && !plan.items.empty()) {
    const std::string question = "Remove " + std::to_string(plan.items.size()) + " items (" +
                                 human_bytes(total_bytes(plan)) + ") of project '" + plan.project +
                                 "'?";
    json::object details{{"confirm", question}, {"plan", core::parse_json_or_null(plan_text)}};
    throw Error(ErrorCode::prompt_required, question, "pass --yes to remove them without asking",
                core::to_json_string(details));
  }
  return execute(context, plan);
}

}  // namespace devx
