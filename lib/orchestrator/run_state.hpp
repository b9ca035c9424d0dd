#pragma once
// Run state of a project on this machine: DEVX_HOME/run/<key>/{state.json,lock,logs/,data/}.
// state.json names the owning process (pid + /proc start time) and every node's pid/pgid/start
// time/container/port/state, so a later process can find what a crashed one left behind.
#include <devx/orchestrator.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/proc_stat.hpp"
#include "core/unique_fd.hpp"

namespace devx::orchestrator {

struct NodeRecord {
  std::string name;
  std::string kind;
  std::string runtime;
  std::string state;
  int pid = 0;
  int pgid = 0;
  std::uint64_t start_time = 0;  // /proc/<pid>/stat field 22 (clock ticks since boot)
  std::string container;
  std::optional<int> port;
  int restarts = 0;
  std::optional<int> exit_code;
};

struct RunRecord {
  std::string project;
  std::string run_key;
  std::string root_file;
  int owner_pid = 0;
  std::uint64_t owner_start_time = 0;
  std::int64_t updated_ms = 0;
  std::vector<NodeRecord> nodes;
};

std::string to_json(const RunRecord& record);
std::optional<RunRecord> parse_run_record(std::string_view json);

using core::process_start_time;
// Processes (not zombies) whose process group is `pgid`.
std::vector<int> live_group_members(int pgid);

// Takes DEVX_HOME/run/<key>/lock (flock) and writes our pid into it. Throws
// Error(already_exists) naming the holder's pid when another session holds it.
core::UniqueFd acquire_run_lock(const std::filesystem::path& run_dir, const std::string& project);

// Kills the groups recorded in a stale record (see reconcile_run_state).
ReconcileReport reconcile_record(const RunRecord& record);

}  // namespace devx::orchestrator
