#pragma once
// What /proc/<pid>/stat says about a process: liveness checks that survive pid reuse (a pid plus
// its start time names one process).
#include <cstdint>
#include <optional>

namespace devx::core {

struct ProcStat {
  int pgrp = 0;
  char state = '?';
  std::uint64_t start_time = 0;  // field 22, clock ticks since boot
};

std::optional<ProcStat> read_proc_stat(int pid);
// Start time of a process, nullopt when it does not exist or is a zombie.
std::optional<std::uint64_t> process_start_time(int pid);
// The process `pid` exists and (unless start_time is 0) is the one that started at start_time.
bool process_alive(int pid, std::uint64_t start_time);

}  // namespace devx::core
