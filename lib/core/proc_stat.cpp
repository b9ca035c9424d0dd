#include "core/proc_stat.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "core/unique_fd.hpp"

namespace devx::core {

std::optional<ProcStat> read_proc_stat(int pid) {
  // Plain read(2): the process may exit between open and read, which makes read fail with
  // ESRCH, and libstdc++'s filebuf throws from inside istreambuf_iterator on that.
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char buffer[1024];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer - 1);
  if (n <= 0) return std::nullopt;
  const std::string text(buffer, static_cast<std::size_t>(n));
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  ProcStat stat;
  std::string skip;
  fields >> stat.state;  // 3
  fields >> skip;        // 4 ppid
  fields >> stat.pgrp;   // 5
  for (int f = 6; f <= 21; ++f) fields >> skip;
  fields >> stat.start_time;  // 22
  if (!fields) return std::nullopt;
  return stat;
}

std::optional<std::uint64_t> process_start_time(int pid) {
  if (pid <= 0) return std::nullopt;
  auto stat = read_proc_stat(pid);
  if (!stat || stat->state == 'Z') return std::nullopt;
  return stat->start_time;
}

bool process_alive(int pid, std::uint64_t start_time) {
  const auto now = process_start_time(pid);
  return now && (start_time == 0 || *now == start_time);
}

}  // namespace devx::core
