#include "commands/lifecycle.hpp"

#include <devx/error.hpp>

#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <vector>

namespace devx::cli {

namespace json = boost::json;

std::unique_ptr<devx::Context> make_context(const GlobalOptions& globals) {
  devx::ContextOptions options;
  if (!globals.devx_home.empty()) options.devx_home = globals.devx_home;
  options.dry_run = globals.dry_run;
  return std::make_unique<devx::Context>(options);
}

bool stdout_colour(const Output& out) { return out.paint(Style::bold, "x", true) != "x"; }

std::string service_prefix(std::string_view name, std::size_t width, bool colour) {
  std::string padded(name);
  if (padded.size() < width) padded.append(width - padded.size(), ' ');
  padded += " | ";
  if (!colour) return padded;
  static constexpr const char* kPalette[] = {"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m",
                                             "\x1b[34m", "\x1b[96m", "\x1b[93m", "\x1b[92m"};
  std::size_t hash = 5381;
  for (const char c : name) hash = hash * 33 + static_cast<unsigned char>(c);
  return std::string(kPalette[hash % std::size(kPalette)]) + padded + "\x1b[0m";
}

namespace {

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return v->get_string().empty() ? "-" : std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  return json::serialize(*v);
}

std::string uptime(std::int64_t started_ms) {
  if (started_ms <= 0) return "-";
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::int64_t s = std::max<std::int64_t>(0, (now - started_ms) / 1000);
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string((s % 3600) / 60) + "m";
  return std::to_string(s / 86400) + "d" + std::to_string((s % 86400) / 3600) + "h";
}

}  // namespace

std::string status_table(const std::string& status_json, bool colour) {
  const json::value doc = json::parse(status_json);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "STATE", "PID/CONTAINER", "PORT", "HEALTH", "RESTARTS", "UPTIME"});
  std::vector<std::string> states;
  if (const auto* services = doc.as_object().if_contains("services");
      services != nullptr && services->is_array()) {
    for (const auto& s : services->get_array()) {
      const auto& o = s.as_object();
      const std::string state = text_of(o, "state");
      std::string where = text_of(o, "container");
      if (where == "-") {
        where = text_of(o, "pid");
        if (where == "0") where = "-";
      }
      std::string health = "-";
      if (state == "healthy" || state == "unhealthy") health = state;
      if (state == "starting") health = "starting";
      std::int64_t started = 0;
      if (const auto* v = o.if_contains("started_at_ms"); v != nullptr && v->is_int64()) {
        started = v->get_int64();
      }
      rows.push_back({text_of(o, "name"), state, where, text_of(o, "port"), health,
                      text_of(o, "restarts"), uptime(started)});
      states.push_back(state);
    }
  }
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      std::string cell = rows[r][c];
      const std::size_t pad = widths[c] - cell.size();
      if (colour && r > 0 && c == 1) {
        const auto& st = states[r - 1];
        const char* code = st == "healthy" || st == "running" || st == "completed" ? "\x1b[32m"
                           : st == "failed" || st == "unhealthy"                   ? "\x1b[31m"
                                                                                   : "\x1b[33m";
        cell = std::string(code) + cell + "\x1b[0m";
      }
      line += cell;
      if (c + 1 < rows[r].size()) line += std::string(pad + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

void replace_process(const devx::ExecSpec& spec) {
  std::vector<std::string> env_storage;
  for (const auto& [k, v] : spec.env) env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_storage = spec.argv;
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
    throw devx::Error(devx::ErrorCode::io,
                      "cannot change to " + spec.cwd.string() + ": " + std::strerror(errno));
  }
  // The command gets the usual signal dispositions, not devx's blocked mask.
  sigset_t all;
  sigemptyset(&all);
  sigaddset(&all, SIGINT);
  sigaddset(&all, SIGTERM);
  sigaddset(&all, SIGUSR1);
  pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
  ::execvpe(argv[0], argv.data(), envp.data());
  const int error = errno;
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  throw devx::Error(
      error == ENOENT ? devx::ErrorCode::command_not_found : devx::ErrorCode::command_failed,
      "cannot run " + spec.argv[0] + ": " + std::strerror(error),
      error == ENOENT ? "check that it is installed and on PATH" : "");
}

}  // namespace devx::cli
