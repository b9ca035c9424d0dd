#pragma once
// Everything the CLI shows. Two modes:
//  * human (default): results on stdout, status/diagnostics/errors on stderr, colour only when the
//    stream is a TTY and neither --no-color nor NO_COLOR is set;
//  * --json: exactly one JSON document on stdout (the result or the error), human text only on
//    stderr.
#include <devx/config.hpp>
#include <devx/error.hpp>

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace devx::cli {

struct GlobalOptions {
  bool json = false;
  bool dry_run = false;
  bool yes = false;
  int verbose = 0;
  bool quiet = false;
  bool no_color = false;
  std::string devx_home;
};

enum class Style { red, green, yellow, cyan, bold, dim };

// A diagnostic as the CLI prints it, from a devx::Diagnostic or from an error's details JSON.
struct DiagnosticLine {
  std::string severity = "error";
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  std::string hint;
};

class Output {
 public:
  explicit Output(GlobalOptions options);

  const GlobalOptions& options() const noexcept { return options_; }
  bool json() const noexcept { return options_.json; }

  // The command's human result on stdout; a newline is added when missing. With --json it goes to
  // stderr instead, so stdout keeps its single document.
  void result(std::string_view text);
  // The one JSON document of a --json run. Later calls go to stderr (stdout is already taken).
  void document(const boost::json::value& doc);
  bool stdout_taken() const noexcept { return stdout_taken_; }

  // Human status and progress on stderr; silenced by --quiet.
  void status(std::string_view text);
  // Status shown only with -v (level 1) / -vv (level 2).
  void verbose(int level, std::string_view text);

  void diagnostics(const std::vector<DiagnosticLine>& lines);
  // Renders an error: the diagnostics in its details (when `with_diagnostics`), then
  // "error: <message>" and "hint: <hint>" on stderr; with --json, {"error":{…}} on stdout.
  void error(const devx::Error& error, bool with_diagnostics = true);

  // Asks a yes/no question on the terminal. -y answers yes; without a TTY on stdin it throws
  // Error(prompt_required) naming the flag to pass.
  bool confirm(std::string_view question);

  // `text` in `style` when colour is enabled for stderr (to_stdout = false) or stdout.
  std::string paint(Style style, std::string_view text, bool to_stdout = false) const;

 private:
  GlobalOptions options_;
  bool colour_stdout_ = false;
  bool colour_stderr_ = false;
  bool stdout_taken_ = false;
};

// A path as shown to people: relative to the working directory when it lies below it.
std::string display_path(const std::string& path);

std::vector<DiagnosticLine> diagnostic_lines(const std::vector<devx::Diagnostic>& diagnostics);
// The "diagnostics" array of an error's details JSON; empty when there is none.
std::vector<DiagnosticLine> diagnostic_lines_from_details(const std::string& details_json);

// {"code","message","hint","details"[,"cause"]} of an error (the value of the "error" key).
boost::json::object error_object(const devx::Error& error);

}  // namespace devx::cli
