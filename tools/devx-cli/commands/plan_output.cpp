#include "commands/plan_output.hpp"

#include <devx/supervisor.hpp>

#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

#include "commands/lifecycle.hpp"

namespace devx::cli {

namespace json = boost::json;

std::string shell_quote(std::string_view word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(word);
  std::string quoted = "'";
  for (const char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) {
    if (!line.empty()) line += ' ';
    line += shell_quote(word);
  }
  return line;
}

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr std::array<const char*, 6> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.1f %s", value, kUnits[unit]);
  return text.data();
}

std::string json_text(const json::value& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto* value = object.as_object().if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::string aligned_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  return text;
}

std::vector<std::string> plan_action_lines(const json::value& plan) {
  std::vector<std::string> lines;
  const auto* actions = plan.is_object() ? plan.as_object().if_contains("actions") : nullptr;
  if (actions == nullptr || !actions->is_array()) return lines;
  for (const auto& action : actions->as_array()) {
    const std::string kind = json_text(action, "kind");
    const std::string description = json_text(action, "description");
    const auto* argv = action.is_object() ? action.as_object().if_contains("argv") : nullptr;
    if (argv != nullptr && argv->is_array()) {
      std::vector<std::string> words;
      for (const auto& w : argv->as_array()) {
        if (w.is_string()) words.emplace_back(w.as_string());
      }
      lines.push_back("would run: " + shell_join(words));
    } else if (const std::string url = json_text(action, "url"); !url.empty()) {
      const std::string method = json_text(action, "method");
      lines.push_back("would call: " + (method.empty() ? std::string("GET") : method) + " " + url);
    } else if (const std::string path = json_text(action, "path"); !path.empty()) {
      lines.push_back((kind == "state" ? "would update: " : "would write: ") + path);
    } else {
      lines.push_back("would " + (kind.empty() ? std::string("do") : kind) + ": " + description);
    }
  }
  return lines;
}

void print_plan(Output& out, const json::value& plan) {
  if (out.json()) {
    out.document(plan);
    return;
  }
  const auto lines = plan_action_lines(plan);
  if (lines.empty()) {
    // An empty plan is still the answer ("already-running", …).
    const std::string why = json_text(plan, "result");
    out.result("nothing to do" + (why.empty() ? std::string() : " (" + why + ")"));
    return;
  }
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  out.result(text);
}

int run_in_place_of_devx(Output& out, devx::Context& context, std::string_view operation,
                         std::string_view description, const std::vector<std::string>& argv) {
  if (out.options().dry_run) {
    json::array words;
    for (const auto& word : argv) words.emplace_back(word);
    print_plan(out,
               json::object{{"v", 1},
                            {"operation", operation},
                            {"dry_run", true},
                            {"actions", json::array{json::object{{"kind", "command"},
                                                                 {"description", description},
                                                                 {"argv", std::move(words)}}}}});
    return 0;
  }
  out.verbose(1, "running: " + shell_join(argv));
  devx::ExecSpec spec;
  spec.argv = argv;
  spec.env = context.env();
  replace_process(spec);
}

json::object error_details(const devx::Error& error) {
  json::error_code ec;
  json::value details = json::parse(error.details_json(), ec);
  if (ec || !details.is_object()) return {};
  return std::move(details.as_object());
}

bool confirm_library_prompt(Output& out, const devx::Error& error) {
  if (error.code() != devx::ErrorCode::prompt_required) return false;
  const json::object details = error_details(error);
  const std::string question = json_text(details, "confirm");
  if (question.empty()) return false;
  if (!out.options().yes && ::isatty(STDIN_FILENO) != 1) {
    throw devx::Error(devx::ErrorCode::prompt_required, error.message(),
                      "pass -y (--yes) to confirm when there is no terminal", error.details_json());
  }
  if (const auto* plan = details.if_contains("plan"); plan != nullptr && !out.options().yes) {
    for (const auto& line : plan_action_lines(*plan)) out.status("  " + line);
  }
  if (!out.confirm(question)) throw devx::Error(devx::ErrorCode::cancelled, "nothing was changed");
  return true;
}

namespace {

// A plan event of running work ("sleep") with what it runs: "sleep: run: podman machine stop dv".
std::string executed_plan_text(const devx::Event& e) {
  json::error_code ec;
  const json::value plan = json::parse(e.data_json, ec);
  if (ec) return e.message;
  std::string text = e.message;
  const std::string_view would = "would ";
  for (const auto& line : plan_action_lines(plan)) {
    text += (text == e.message ? ": " : "; ") +
            (line.rfind(would, 0) == 0 ? line.substr(would.size()) : line);
  }
  return text;
}

}  // namespace

std::string run_in_foreground(Cli& cli, Output& out, devx::Operation op, std::string_view label,
                              bool json_lines,
                              std::function<std::string(const devx::Event&)> on_state) {
  // Events arrive on the operation's thread; the mutex keeps lines whole.
  auto write_mutex = std::make_shared<std::mutex>();
  const bool quiet = out.options().quiet;
  const int verbose = out.options().verbose;
  const std::string prefix = out.paint(Style::cyan, label);
  const std::string warning = out.paint(Style::yellow, "warning:");
  const std::string failure = out.paint(Style::red, "error:");
  op.on_event([write_mutex, json_lines, quiet, verbose, prefix, warning, failure,
               on_state = std::move(on_state)](const devx::Event& e) {
    std::lock_guard lock(*write_mutex);
    if (json_lines) {
      std::cout << e.to_json() << '\n' << std::flush;
      return;
    }
    const bool serious = e.type == devx::EventType::warning || e.level >= devx::LogLevel::warn;
    if (quiet && !serious) return;
    if (e.type == devx::EventType::log && e.level < devx::LogLevel::info &&
        verbose < (e.level == devx::LogLevel::debug ? 1 : 2)) {
      return;
    }
    std::string text = e.message;
    if (e.type == devx::EventType::state && on_state) text = on_state(e);
    if (e.type == devx::EventType::plan) text = executed_plan_text(e);
    if (text.empty()) return;
    if (e.type == devx::EventType::warning || e.level == devx::LogLevel::warn) {
      text = warning + " " + text;
    } else if (e.level >= devx::LogLevel::error) {
      text = failure + " " + text;
    }
    std::cerr << prefix << ' ' << text << '\n' << std::flush;
  });
  cli.cancel->set(op);
  try {
    std::string result = op.result();
    cli.cancel->clear();
    return result;
  } catch (...) {
    cli.cancel->clear();
    throw;
  }
}

}  // namespace devx::cli
