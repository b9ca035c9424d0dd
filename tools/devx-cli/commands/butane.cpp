// devx butane [FILE|-] [-o OUT] [--strict] [--files-dir DIR] [--compact] — Butane → Ignition with
// the library's compiler, a drop-in for `butane --pretty --strict` (docs/ignition.md).
#include <devx/ignition.hpp>

#include <sys/stat.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "atomic_write.hpp"
#include "commands/commands.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct ButaneFlags {
  std::string input = "-";
  std::string output;
  std::string files_dir;
  bool strict = false;
  bool pretty = false;  // butane's flag; indented output is already the default
  bool compact = false;
};

// Creates files readable by the owner only while it lives: an Ignition config can hold secrets
// (tunnel credentials, auth keys), and the file must be private from its first byte.
class OwnerOnlyFiles {
 public:
  OwnerOnlyFiles() : previous_(::umask(077)) {}
  ~OwnerOnlyFiles() { ::umask(previous_); }
  OwnerOnlyFiles(const OwnerOnlyFiles&) = delete;
  OwnerOnlyFiles& operator=(const OwnerOnlyFiles&) = delete;

 private:
  mode_t previous_;
};

std::string read_document(const std::string& input) {
  if (input == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::error_code ec;
  if (std::filesystem::is_directory(input, ec)) {
    throw devx::Error(devx::ErrorCode::invalid_argument, input + " is a directory",
                      "pass a Butane file, or - to read standard input");
  }
  std::ifstream in(input, std::ios::binary);
  if (!in) {
    throw devx::Error(devx::ErrorCode::io, "cannot read " + input,
                      "check that the file exists and is readable");
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

json::array warning_documents(const std::vector<devx::Diagnostic>& warnings) {
  json::array list;
  for (const auto& w : warnings) {
    list.push_back(json::object{{"severity", "warning"},
                                {"file", w.location.file},
                                {"line", w.location.line},
                                {"column", w.location.column},
                                {"message", w.message},
                                {"hint", w.hint}});
  }
  return list;
}

int run_butane(Output& out, const ButaneFlags& flags) {
  devx::ButaneOptions options;
  options.source_name = flags.input == "-" ? "<stdin>" : flags.input;
  options.files_dir = flags.files_dir;
  options.strict = flags.strict;
  if (flags.pretty && flags.compact) {
    throw devx::Error(devx::ErrorCode::invalid_argument,
                      "--pretty and --compact exclude each other",
                      "indented output is the default; pass --compact for one line");
  }
  options.pretty = !flags.compact;
  const auto compiled = devx::compile_butane(read_document(flags.input), options);
  out.diagnostics(diagnostic_lines(compiled.warnings));

  if (flags.output.empty()) {
    if (out.json()) {
      out.document(json::object{{"v", 1},
                                {"ignition_version", compiled.ignition_version},
                                {"warnings", warning_documents(compiled.warnings)},
                                {"ignition", json::parse(compiled.ignition)}});
    } else {
      std::cout << compiled.ignition << std::flush;
    }
    return 0;
  }

  const auto path = std::filesystem::absolute(flags.output).lexically_normal();
  if (out.options().dry_run) {
    if (out.json()) {
      out.document(json::object{
          {"v", 1},
          {"dry_run", true},
          {"ignition_version", compiled.ignition_version},
          {"warnings", warning_documents(compiled.warnings)},
          {"actions", json::array{json::object{{"kind", "file"},
                                               {"description", "the Ignition config (0600)"},
                                               {"path", path.string()}}}}});
    } else {
      out.result("would write: " + path.string());
    }
    return 0;
  }
  {
    const OwnerOnlyFiles private_files;
    write_file_atomically(path, compiled.ignition);
  }
  out.status("Ignition " + compiled.ignition_version + " written to " + display_path(path));
  if (out.json()) {
    out.document(json::object{{"v", 1},
                              {"written", path.string()},
                              {"ignition_version", compiled.ignition_version},
                              {"warnings", warning_documents(compiled.warnings)}});
  }
  return 0;
}

}  // namespace

void add_butane_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ButaneFlags>();
  auto* cmd = app.add_subcommand(
      "butane", "Compile a Butane config to Ignition (like butane --pretty --strict)");
  cmd->add_option("file", flags->input, "the Butane file (default or -: standard input)");
  cmd->add_option("-o,--output", flags->output,
                  "write the Ignition config to OUT (atomically, mode 0600) instead of stdout");
  cmd->add_option("-d,--files-dir", flags->files_dir,
                  "directory for local: sources (storage.files, trees, systemd units)");
  cmd->add_flag("-s,--strict", flags->strict, "fail on warnings");
  cmd->add_flag("-p,--pretty", flags->pretty, "indented JSON (the default; as butane --pretty)");
  cmd->add_flag("--compact", flags->compact, "compact JSON instead of indented");
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_butane(out, *flags); }; });
}

}  // namespace devx::cli
