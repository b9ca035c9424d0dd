#include "orchestrator/run_state.hpp"

#include <devx/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/json.hpp"
#include "core/proc_stat.hpp"
#include "orchestrator/plan.hpp"

namespace devx::orchestrator {
namespace {

namespace json = boost::json;

std::string str(const json::object& o, std::string_view key) { return core::string_field(o, key); }
std::int64_t num(const json::object& o, std::string_view key) { return core::int_field(o, key); }

}  // namespace

std::string to_json(const RunRecord& record) {
  json::object out;
  out["v"] = 1;
  out["project"] = record.project;
  out["run_key"] = record.run_key;
  out["root_file"] = record.root_file;
  out["owner"] = json::object{{"pid", record.owner_pid}, {"start_time", record.owner_start_time}};
  out["updated_ms"] = record.updated_ms;
  json::array nodes;
  for (const auto& n : record.nodes) {
    json::object o;
    o["name"] = n.name;
    o["kind"] = n.kind;
    o["runtime"] = n.runtime;
    o["state"] = n.state;
    o["pid"] = n.pid;
    o["pgid"] = n.pgid;
    o["start_time"] = n.start_time;
    o["container"] = n.container;
    o["port"] = n.port ? json::value(*n.port) : nullptr;
    o["restarts"] = n.restarts;
    o["exit_code"] = n.exit_code ? json::value(*n.exit_code) : nullptr;
    nodes.push_back(std::move(o));
  }
  out["nodes"] = std::move(nodes);
  return core::to_json_string(out);
}

std::optional<RunRecord> parse_run_record(std::string_view text) {
  const json::value doc = core::parse_json_or_null(text);
  if (!doc.is_object()) return std::nullopt;
  const auto& o = doc.get_object();
  RunRecord r;
  r.project = str(o, "project");
  r.run_key = str(o, "run_key");
  r.root_file = str(o, "root_file");
  if (const auto* owner = o.if_contains("owner"); owner != nullptr && owner->is_object()) {
    r.owner_pid = static_cast<int>(num(owner->get_object(), "pid"));
    r.owner_start_time = static_cast<std::uint64_t>(num(owner->get_object(), "start_time"));
  }
  r.updated_ms = num(o, "updated_ms");
  if (const auto* nodes = o.if_contains("nodes"); nodes != nullptr && nodes->is_array()) {
    for (const auto& v : nodes->get_array()) {
      if (!v.is_object()) continue;
      const auto& n = v.get_object();
      NodeRecord rec;
      rec.name = str(n, "name");
      rec.kind = str(n, "kind");
      rec.runtime = str(n, "runtime");
      rec.state = str(n, "state");
      rec.pid = static_cast<int>(num(n, "pid"));
      rec.pgid = static_cast<int>(num(n, "pgid"));
      rec.start_time = static_cast<std::uint64_t>(num(n, "start_time"));
      rec.container = str(n, "container");
      if (const auto* p = n.if_contains("port"); p != nullptr && p->is_int64()) {
        rec.port = static_cast<int>(p->get_int64());
      }
      rec.restarts = static_cast<int>(num(n, "restarts"));
      r.nodes.push_back(std::move(rec));
    }
  }
  return r;
}

std::vector<int> live_group_members(int pgid) {
  std::vector<int> members;
  if (pgid <= 0) return members;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return members;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    auto stat = core::read_proc_stat(static_cast<int>(pid));
    if (stat && stat->pgrp == pgid && stat->state != 'Z') members.push_back(static_cast<int>(pid));
  }
  ::closedir(dir);
  return members;
}

core::UniqueFd acquire_run_lock(const std::filesystem::path& run_dir, const std::string& project) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  const auto path = run_dir / "lock";
  core::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) {
    throw Error(ErrorCode::io,
                "cannot open " + path.string() + ": " + std::strerror(errno));  // NOLINT
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    std::string holder;
    char buffer[32] = {};
    const ssize_t n = ::pread(fd.get(), buffer, sizeof buffer - 1, 0);
    if (n > 0) holder.assign(buffer, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    json::object details{{"project", project}, {"lock", path.string()}};
    if (!holder.empty()) details["holder_pid"] = std::atoi(holder.c_str());
    throw Error(ErrorCode::already_exists,
                "project '" + project + "' is already up (held by pid " +
                    (holder.empty() ? std::string("?") : holder) + ")",
                "run `devx down` for this project, or use the running session",
                core::to_json_string(details));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd.get(), pid.data(), pid.size(), 0);
  }
  return fd;
}

ReconcileReport reconcile_record(const RunRecord& record) {
  ReconcileReport report;
  report.found = true;
  report.stale = true;
  report.owner_pid = record.owner_pid;
  std::vector<int> groups;
  for (const auto& node : record.nodes) {
    if (!node.container.empty()) report.containers.push_back(node.container);
    const int pgid = node.pgid > 0 ? node.pgid : node.pid;
    if (pgid <= 0) continue;
    // The leader still exists: trust it only if it is the same process (same start time).
    if (auto leader = core::read_proc_stat(pgid); leader && leader->state != 'Z') {
      if (node.start_time != 0 && leader->start_time != node.start_time) continue;  // pid reused
    }
    // Members that outlived the leader: started no earlier than it.
    bool found = false;
    for (const int pid : live_group_members(pgid)) {
      auto stat = core::read_proc_stat(pid);
      if (stat && (node.start_time == 0 || stat->start_time >= node.start_time)) found = true;
    }
    if (!found) continue;
    ::kill(-pgid, SIGKILL);
    groups.push_back(pgid);
    report.killed.push_back(node.name + " (pgid " + std::to_string(pgid) + ")");
  }
  // Wait (briefly) until the killed groups are gone, so callers can reuse their ports.
  for (int round = 0; round < 200; ++round) {
    bool any = false;
    for (const int pgid : groups) any = any || !live_group_members(pgid).empty();
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return report;
}

}  // namespace devx::orchestrator

namespace devx {

std::string ReconcileReport::to_json() const {
  boost::json::object out;
  out["v"] = 1;
  out["found"] = found;
  out["stale"] = stale;
  out["owner_pid"] = owner_pid;
  boost::json::array k;
  for (const auto& s : killed) k.emplace_back(s);
  out["killed"] = std::move(k);
  boost::json::array c;
  for (const auto& s : containers) c.emplace_back(s);
  out["containers"] = std::move(c);
  return core::to_json_string(out);
}

ReconcileReport reconcile_run_state(Context& context, const Project& project) {
  ReconcileReport report;
  const std::string key = "run/" + orchestrator::run_key(project) + "/state.json";
  const auto text = context.state().read(key);
  if (!text) return report;
  auto record = orchestrator::parse_run_record(*text);
  if (!record) return report;
  report.found = true;
  report.owner_pid = record->owner_pid;
  // The owner is alive only if the pid exists with the recorded start time (pids are reused) and
  // holds the lock.
  const auto owner_start = orchestrator::process_start_time(record->owner_pid);
  const bool owner_alive =
      owner_start && (record->owner_start_time == 0 || *owner_start == record->owner_start_time);
  if (owner_alive) return report;
  report = orchestrator::reconcile_record(*record);
  context.state().remove(key);
  return report;
}

}  // namespace devx
