// devx doctor [--area A]… [--env-file F] — which tools and credentials each feature area needs and
// which are there; exits 11 (command_not_found) while a required tool is missing.
// devx doctor install [--all] — installs what is missing with the system's package manager
// (plan, confirmation, then the commands with their output streamed). docs/doctor.md.
#include <devx/doctor.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <memory>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/plan_output.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct DoctorFlags {
  std::vector<std::string> areas;
  std::string env_file;
  bool all = false;  // doctor install: optional tools too
};

devx::DoctorOptions doctor_options(const DoctorFlags& flags) {
  devx::DoctorOptions options;
  options.areas = flags.areas;
  options.env_file = flags.env_file;
  return options;
}

bool flag(const json::value& object, std::string_view key) {
  if (!object.is_object()) return false;
  const auto* value = object.as_object().if_contains(key);
  return value != nullptr && value->is_bool() && value->get_bool();
}

std::vector<std::string> strings(const json::value& object, std::string_view key) {
  std::vector<std::string> list;
  const auto* value = object.is_object() ? object.as_object().if_contains(key) : nullptr;
  if (value == nullptr || !value->is_array()) return list;
  for (const auto& item : value->as_array()) {
    if (item.is_string()) list.emplace_back(item.as_string());
  }
  return list;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : std::string(separator)) + item;
  return text;
}

// How to install a missing tool: the command, else the note.
std::string install_hint(const json::value& tool) {
  const auto* install = tool.as_object().if_contains("install");
  if (install == nullptr || !install->is_object()) return {};
  const auto argv = strings(*install, "argv");
  if (!argv.empty()) return shell_join(argv);
  return json_text(*install, "note");
}

// One row of an area: a tool or a credential; `hint` (how to get it) goes on a line of its own.
struct ReportRow {
  std::string mark;
  std::string name;
  std::string state;
  std::string path;
  std::string hint;
};

std::string rows_text(const std::vector<ReportRow>& rows) {
  std::size_t name_width = 0;
  std::size_t state_width = 0;
  for (const auto& row : rows) {
    name_width = std::max(name_width, row.name.size());
    if (!row.path.empty()) state_width = std::max(state_width, row.state.size());
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line = "  " + row.mark + " " + row.name +
                       std::string(name_width - row.name.size() + 2, ' ') + row.state;
    if (!row.path.empty()) {
      line += std::string(state_width - row.state.size() + 2, ' ') + row.path;
    }
    text += line + "\n";
    if (!row.hint.empty()) text += "      → " + row.hint + "\n";
  }
  return text;
}

std::string report_text(const Output& out, const json::value& report) {
  const std::string ok = out.paint(Style::green, "✓", true);
  const std::string missing = out.paint(Style::red, "✗", true);
  const std::string optional = out.paint(Style::dim, "·", true);
  std::string text;
  const json::value& system = report.at("system");
  std::string manager = json_text(system, "package_manager");
  if (manager.empty()) manager = "no package manager found";
  const std::string manager_version = json_text(system, "package_manager_version");
  if (!manager_version.empty()) manager += " " + manager_version;
  text += "system: " + json_text(system, "os") + " " + json_text(system, "arch") + ", " + manager +
          (flag(system, "root") ? ", running as root" : "") + "\n";

  for (const auto& area : report.at("areas").as_array()) {
    const bool ready = flag(area, "ready");
    text += "\n" + out.paint(Style::bold, json_text(area, "name"), true) + " " +
            (ready ? ok + " ready" : missing + " not ready");
    if (const auto purpose = json_text(area, "purpose"); !purpose.empty()) {
      text += "  " + out.paint(Style::dim, purpose, true);
    }
    text += "\n";
    if (const auto note = json_text(area, "note"); !note.empty()) {
      text += "  " + out.paint(Style::dim, note, true) + "\n";
    }
    const auto& tools = area.at("tools").as_array();
    std::vector<std::string> installed_names;
    for (const auto& tool : tools) {
      if (flag(tool, "installed")) installed_names.push_back(json_text(tool, "name"));
    }
    std::vector<ReportRow> rows;
    for (const auto& tool : tools) {
      ReportRow row;
      row.name = json_text(tool, "name");
      if (flag(tool, "installed")) {
        const std::string version = json_text(tool, "version");
        row.mark = ok;
        row.state = version.empty() ? "installed (version unknown)" : version;
        row.path = json_text(tool, "path");
        row.hint = json_text(tool, "problem");
        rows.push_back(std::move(row));
        continue;
      }
      // One of several interchangeable tools (a container engine) is enough.
      std::string substitute;
      for (const auto& alternative : strings(tool, "alternatives")) {
        if (std::find(installed_names.begin(), installed_names.end(), alternative) !=
            installed_names.end()) {
          substitute = alternative;
          break;
        }
      }
      if (!substitute.empty()) {
        row.mark = optional;
        row.state = "not installed (" + substitute + " is enough)";
      } else {
        const bool required = flag(tool, "required");
        row.mark = required ? missing : optional;
        row.state = std::string(required ? "required" : "optional") + ", not installed";
        row.hint = install_hint(tool);
      }
      rows.push_back(std::move(row));
    }
    if (const auto* credentials = area.as_object().if_contains("credentials");
        credentials != nullptr && credentials->is_array()) {
      for (const auto& credential : credentials->as_array()) {
        const bool configured = flag(credential, "configured");
        ReportRow row{configured ? ok : missing,
                      json_text(credential, "name"),
                      configured ? "configured" : "not configured",
                      {},
                      {}};
        if (const auto detail = json_text(credential, "detail"); !detail.empty()) {
          row.state += " (" + detail + ")";
        }
        if (!configured) row.hint = json_text(credential, "how_to_fix");
        rows.push_back(std::move(row));
      }
    }
    text += rows_text(rows);
  }
  return text;
}

int run_doctor(Output& out, const DoctorFlags& flags) {
  auto context = make_context(out.options());
  const json::value report = json::parse(devx::doctor_report(*context, doctor_options(flags)));
  const auto missing = strings(report, "missing_required");
  const bool ok = flag(report, "ok");
  if (out.json()) {
    out.document(report);
  } else {
    out.result(report_text(out, report));
    if (ok) out.status(out.paint(Style::green, "✓") + " every required tool is installed");
  }
  if (ok) return 0;
  if (!out.json()) {
    out.error(
        devx::Error(devx::ErrorCode::command_not_found,
                    "required tool" + std::string(missing.size() == 1 ? " is" : "s are") +
                        " missing: " + join(missing, ", "),
                    "'devx doctor install' installs them (--dry-run shows the commands first)"));
  }
  return static_cast<int>(devx::ErrorCode::command_not_found);
}

// The install plan, one line per command, then what cannot be installed here and why.
std::vector<std::string> install_plan_lines(const json::value& plan) {
  std::vector<std::string> lines;
  for (const auto& step : plan.at("steps").as_array()) {
    std::string line = "would run: " + shell_join(strings(step, "argv"));
    const auto tools = strings(step, "tools");
    if (!tools.empty()) line += "   (" + join(tools, ", ") + ")";
    lines.push_back(std::move(line));
  }
  if (const auto* unavailable = plan.as_object().if_contains("unavailable");
      unavailable != nullptr && unavailable->is_array()) {
    for (const auto& item : unavailable->as_array()) {
      std::string line = "cannot install " + json_text(item, "tool");
      if (const auto reason = json_text(item, "reason"); !reason.empty()) line += ": " + reason;
      if (const auto how = json_text(item, "how_to_install"); !how.empty()) line += " — " + how;
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

std::string joined_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

int run_install(Cli& cli, Output& out, const DoctorFlags& flags) {
  auto context = make_context(out.options());
  devx::DoctorInstallOptions options;
  options.doctor = doctor_options(flags);
  options.all = flags.all;
  if (out.options().dry_run) {
    // Nothing runs in a dry run, so no confirmation is needed to see the plan.
    options.assume_yes = true;
    const json::value plan = json::parse(
        run_in_foreground(cli, out, devx::start_doctor_install(*context, options), "install"));
    if (out.json()) {
      out.document(plan);
    } else {
      const auto lines = install_plan_lines(plan);
      out.result(lines.empty() ? "nothing to install\n" : joined_lines(lines));
    }
    return 0;
  }

  const json::value plan = json::parse(devx::doctor_install_plan(*context, options));
  const auto lines = install_plan_lines(plan);
  const std::size_t steps = plan.at("steps").as_array().size();
  if (steps == 0) {
    for (const auto& line : lines) out.status(line);
    out.status(std::string(flags.all ? "every tool" : "every required tool") +
               " is installed or cannot be installed by a package manager here");
    if (out.json()) out.document(plan);
    return 0;
  }
  if (!out.options().yes) out.status("Plan:\n" + joined_lines(lines));
  if (!out.confirm("Run " + std::to_string(steps) + " install command" + (steps == 1 ? "" : "s") +
                   "?")) {
    throw devx::Error(devx::ErrorCode::cancelled, "nothing was installed");
  }
  options.assume_yes = true;
  const json::value result = json::parse(
      run_in_foreground(cli, out, devx::start_doctor_install(*context, options), "install"));
  if (out.json()) {
    out.document(result);
    return 0;
  }
  std::vector<std::string> installed;
  for (const auto& step : result.at("steps").as_array()) {
    for (auto& tool : strings(step, "tools")) {
      // `apt-get update` names the tools it prepares for, like the install step after it.
      if (std::find(installed.begin(), installed.end(), tool) == installed.end()) {
        installed.push_back(std::move(tool));
      }
    }
  }
  out.status(out.paint(Style::green, "✓") + " installed: " + join(installed, ", "));
  return 0;
}

}  // namespace

void add_doctor_commands(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<DoctorFlags>();
  auto* doctor = app.add_subcommand(
      "doctor", "Check the tools and credentials devx needs (exit 11 when one is missing)");
  doctor->add_option("--area", flags->areas,
                     "only this feature area: vm, tunnel, mesh, bridge, databases, secrets, ci, … "
                     "(repeatable; default: all)");
  doctor->add_option("--env-file", flags->env_file,
                     "dotenv file with credentials (default: ./.env when it exists)");

  auto* install = doctor->add_subcommand(
      "install", "Install the missing tools with the system's package manager (asks first)");
  install->fallthrough();
  install->add_flag("--all", flags->all, "optional tools too (default: required ones)");
  install->callback([&cli, flags] {
    cli.action = [&cli, flags](Output& out) { return run_install(cli, out, *flags); };
  });
  // CLI11 runs the group's callback after its subcommand's: only a bare `doctor` reports.
  doctor->callback([&cli, flags, doctor] {
    if (!doctor->get_subcommands().empty()) return;
    cli.action = [flags](Output& out) { return run_doctor(out, *flags); };
  });
}

}  // namespace devx::cli
