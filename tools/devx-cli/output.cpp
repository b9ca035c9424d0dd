#include "output.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace devx::cli {
namespace {

namespace json = boost::json;

bool colour_allowed(const GlobalOptions& options, int fd) {
  if (options.no_color) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;  // https://no-color.org
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb") return false;
  return ::isatty(fd) == 1;
}

std::string_view ansi(Style style) {
  switch (style) {
    case Style::red:
      return "\033[1;31m";
    case Style::green:
      return "\033[32m";
    case Style::yellow:
      return "\033[1;33m";
    case Style::cyan:
      return "\033[36m";
    case Style::bold:
      return "\033[1m";
    case Style::dim:
      return "\033[2m";
  }
  return "";
}

void write_line(std::ostream& stream, std::string_view text) {
  stream << text;
  if (text.empty() || text.back() != '\n') stream << '\n';
  stream.flush();
}

std::string string_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

int int_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return 0;
  if (value->is_int64()) return static_cast<int>(value->as_int64());
  if (value->is_uint64()) return static_cast<int>(value->as_uint64());
  return 0;
}

}  // namespace

Output::Output(GlobalOptions options)
    : options_(std::move(options)),
      colour_stdout_(colour_allowed(options_, STDOUT_FILENO)),
      colour_stderr_(colour_allowed(options_, STDERR_FILENO)) {}

std::string Output::paint(Style style, std::string_view text, bool to_stdout) const {
  if (!(to_stdout ? colour_stdout_ : colour_stderr_)) return std::string(text);
  std::string out(ansi(style));
  out += text;
  out += "\033[0m";
  return out;
}

void Output::result(std::string_view text) {
  if (options_.json) {
    write_line(std::cerr, text);
    return;
  }
  write_line(std::cout, text);
}

void Output::document(const json::value& doc) {
  if (stdout_taken_) {
    write_line(std::cerr, json::serialize(doc));
    return;
  }
  stdout_taken_ = true;
  write_line(std::cout, json::serialize(doc));
}

void Output::status(std::string_view text) {
  if (options_.quiet) return;
  write_line(std::cerr, text);
}

void Output::verbose(int level, std::string_view text) {
  if (options_.quiet || options_.verbose < level) return;
  write_line(std::cerr, paint(Style::dim, text));
}

void Output::diagnostics(const std::vector<DiagnosticLine>& lines) {
  for (const auto& d : lines) {
    std::string where = d.file.empty() ? std::string("<unknown>") : display_path(d.file);
    if (d.line > 0) {
      where += ":" + std::to_string(d.line);
      if (d.column > 0) where += ":" + std::to_string(d.column);
    }
    const bool is_error = d.severity != "warning";
    std::string text = paint(Style::bold, where + ":") + " " +
                       paint(is_error ? Style::red : Style::yellow, d.severity + ":") + " " +
                       d.message;
    if (!d.hint.empty()) text += "\n  " + paint(Style::cyan, "hint:") + " " + d.hint;
    write_line(std::cerr, text);
  }
}

void Output::error(const devx::Error& error, bool with_diagnostics) {
  if (options_.json) {
    json::object doc;
    doc["error"] = error_object(error);
    document(doc);
    return;
  }
  std::string message = error.message();
  std::string hint = error.hint();
  if (with_diagnostics) {
    const auto lines = diagnostic_lines_from_details(error.details_json());
    diagnostics(lines);
    const auto errors = static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [](const DiagnosticLine& d) { return d.severity == "error"; }));
    // The message and hint of a config error repeat its first diagnostic, just printed above.
    if (error.code() == devx::ErrorCode::config_invalid && errors > 0) {
      message = "invalid configuration (" + std::to_string(errors) +
                (errors == 1 ? " error)" : " errors)");
      hint.clear();
    }
  }
  std::string text = paint(Style::red, "error:") + " " + message;
  for (const devx::Error* cause = error.cause(); cause != nullptr; cause = cause->cause()) {
    text += "\n  caused by: " + cause->message();
  }
  if (!hint.empty()) text += "\n" + paint(Style::cyan, "hint:") + " " + hint;
  write_line(std::cerr, text);
}

bool Output::confirm(std::string_view question) {
  if (options_.yes) return true;
  if (::isatty(STDIN_FILENO) != 1) {
    throw devx::Error(devx::ErrorCode::prompt_required,
                      "confirmation required: " + std::string(question),
                      "pass -y (--yes) to answer yes when there is no terminal");
  }
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "Yes" || answer == "YES";
}

std::string display_path(const std::string& path) {
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  if (ec) return path;
  const auto relative = std::filesystem::path(path).lexically_proximate(cwd);
  const auto text = relative.string();
  if (text.empty() || text.rfind("..", 0) == 0 || relative.is_absolute()) return path;
  return text;
}

std::vector<DiagnosticLine> diagnostic_lines(const std::vector<devx::Diagnostic>& diagnostics) {
  std::vector<DiagnosticLine> lines;
  lines.reserve(diagnostics.size());
  for (const auto& d : diagnostics) {
    lines.push_back({d.severity == devx::Severity::warning ? "warning" : "error", d.location.file,
                     d.location.line, d.location.column, d.message, d.hint});
  }
  return lines;
}

std::vector<DiagnosticLine> diagnostic_lines_from_details(const std::string& details_json) {
  std::vector<DiagnosticLine> lines;
  json::error_code ec;
  const json::value details = json::parse(details_json, ec);
  if (ec || !details.is_object()) return lines;
  const auto* array = details.as_object().if_contains("diagnostics");
  if (array == nullptr || !array->is_array()) return lines;
  for (const auto& entry : array->as_array()) {
    if (!entry.is_object()) continue;
    const auto& d = entry.as_object();
    DiagnosticLine line;
    line.severity = string_field(d, "severity");
    if (line.severity.empty()) line.severity = "error";
    line.file = string_field(d, "file");
    line.line = int_field(d, "line");
    line.column = int_field(d, "column");
    line.message = string_field(d, "message");
    line.hint = string_field(d, "hint");
    lines.push_back(std::move(line));
  }
  return lines;
}

json::object error_object(const devx::Error& error) {
  json::error_code ec;
  json::value full = json::parse(error.to_json(), ec);
  json::object out;
  if (ec || !full.is_object()) {
    out["code"] = devx::error_code_name(error.code());
    out["message"] = error.message();
    out["hint"] = error.hint();
    out["details"] = json::object();
    return out;
  }
  auto& in = full.as_object();
  for (const char* key : {"code", "message", "hint", "details", "cause"}) {
    if (auto* value = in.if_contains(key)) out[key] = std::move(*value);
  }
  if (!out.contains("details")) out["details"] = json::object();
  return out;
}

}  // namespace devx::cli
