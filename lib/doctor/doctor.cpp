// devx doctor: the report (tools per feature area, versions, credentials), the install plan and
// its execution.
#include <devx/doctor.hpp>
#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <set>
#include <thread>

#include "core/json.hpp"
#include "doctor/credentials.hpp"
#include "doctor/host_probe.hpp"
#include "doctor/tool_catalog.hpp"

namespace devx {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using doctor::ToolSpec;

struct ToolState {
  const ToolSpec* spec = nullptr;
  std::optional<fs::path> path;
  doctor::VersionProbe probe;
  std::vector<std::string> alternatives;  // the other members of its group on this platform
};

struct Findings {
  doctor::SystemInfo system;
  std::vector<std::string> areas;
  std::vector<ToolState> tools;
  std::vector<doctor::CredentialCheck> credentials;
  std::vector<std::string> missing_required;  // per unmet requirement, the tool to install

  bool installed(const std::string& name) const {
    return std::any_of(tools.begin(), tools.end(),
                       [&](const ToolState& t) { return t.spec->name == name && t.path; });
  }
  // The group's members are all missing: the first one stands for it.
  bool group_unmet(const ToolState& tool) const {
    if (tool.spec->group.empty()) return !tool.path;
    return std::none_of(tools.begin(), tools.end(), [&](const ToolState& t) {
      return t.spec->group == tool.spec->group && t.path;
    });
  }
  bool group_representative(const ToolState& tool) const {
    if (tool.spec->group.empty()) return true;
    const auto first = std::find_if(tools.begin(), tools.end(), [&](const ToolState& t) {
      return t.spec->group == tool.spec->group;
    });
    return first != tools.end() && first->spec == tool.spec;
  }
};

std::vector<std::string> resolve_areas(const std::vector<std::string>& requested) {
  std::vector<std::string> known;
  for (const auto& area : doctor::area_catalog()) known.push_back(area.name);
  if (requested.empty()) return known;
  std::vector<std::string> areas;
  for (const auto& name : requested) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw Error(ErrorCode::invalid_argument, "unknown doctor area '" + name + "'",
                  "areas are: " + list);
    }
    if (std::find(areas.begin(), areas.end(), name) == areas.end()) areas.push_back(name);
  }
  return areas;
}

bool on_platform(const ToolSpec& spec, const std::string& os) {
  return spec.platforms.empty() ||
         std::find(spec.platforms.begin(), spec.platforms.end(), os) != spec.platforms.end();
}

// Credentials are checked for the report only: an install plan does not need them.
Findings examine(Context& context, const DoctorOptions& options, bool with_credentials) {
  Findings f;
  f.areas = resolve_areas(options.areas);
  f.system =
      doctor::probe_system(context, options.platform, options.as_root, options.probe_timeout);
  for (const auto& spec : doctor::tool_catalog()) {
    if (!on_platform(spec, f.system.os)) continue;
    if (std::find(f.areas.begin(), f.areas.end(), spec.area) == f.areas.end()) continue;
    ToolState state;
    state.spec = &spec;
    state.path = doctor::find_executable(context.env(), spec.binary, spec.extra_dirs);
    f.tools.push_back(std::move(state));
  }
  for (auto& tool : f.tools) {
    if (tool.spec->group.empty()) continue;
    for (const auto& other : f.tools) {
      if (other.spec != tool.spec && other.spec->group == tool.spec->group) {
        tool.alternatives.push_back(other.spec->name);
      }
    }
  }
  // Probes run side by side: a slow tool (gcloud takes seconds) must not add up with the rest.
  {
    std::vector<std::jthread> probes;
    for (auto& tool : f.tools) {
      if (!tool.path) continue;
      probes.emplace_back([&context, &tool, timeout = options.probe_timeout] {
        tool.probe = doctor::probe_version(context, *tool.path, tool.spec->version_args,
                                           tool.spec->format, timeout);
      });
    }
  }
  for (const auto& tool : f.tools) {
    if (tool.spec->required && f.group_unmet(tool) && f.group_representative(tool)) {
      f.missing_required.push_back(tool.spec->name);
    }
  }
  if (!with_credentials) return f;
  doctor::CredentialInputs inputs;
  inputs.areas = f.areas;
  inputs.timeout = options.probe_timeout;
  inputs.env_file = options.env_file;
  if (inputs.env_file.empty()) {
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    if (!ec && fs::is_regular_file(cwd / ".env", ec)) inputs.env_file = cwd / ".env";
  }
  inputs.installed = [&f](const std::string& binary) -> std::optional<fs::path> {
    for (const auto& t : f.tools) {
      if (t.spec->binary == binary) return t.path;
    }
    return std::nullopt;
  };
  f.credentials = doctor::check_credentials(context, inputs);
  return f;
}

// --- install commands ----------------------------------------------------------------------

bool uses_sudo(const doctor::SystemInfo& system) {
  // Homebrew refuses to run as root; everything else needs root to install.
  return !system.root && system.package_manager != "brew";
}

std::vector<std::string> with_privilege(const doctor::SystemInfo& system,
                                        std::vector<std::string> argv) {
  if (uses_sudo(system)) argv.insert(argv.begin(), "sudo");
  return argv;
}

std::vector<std::string> install_argv(const doctor::SystemInfo& system, bool cask) {
  const std::string& m = system.package_manager;
  if (m == "apt") return with_privilege(system, {"apt-get", "install", "-y"});
  if (m == "dnf" || m == "yum") return with_privilege(system, {m, "install", "-y"});
  if (m == "pacman") return with_privilege(system, {"pacman", "-S", "--needed", "--noconfirm"});
  if (m == "apk") return with_privilege(system, {"apk", "add"});
  if (m == "brew") {
    return cask ? std::vector<std::string>{"brew", "install", "--cask"}
                : std::vector<std::string>{"brew", "install"};
  }
  return {};
}

const doctor::Package* package_for(const ToolSpec& spec, const doctor::SystemInfo& system) {
  const auto table = doctor::package_table(system.package_manager);
  if (table.empty()) return nullptr;
  const auto it = spec.packages.find(std::string(table));
  return it != spec.packages.end() ? &it->second : nullptr;
}

std::string how_to_install(const ToolSpec& spec, const doctor::SystemInfo& system) {
  const auto* package = package_for(spec, system);
  if (package != nullptr && !package->note.empty()) return package->note;
  return "see " + spec.homepage;
}

json::array strings(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

json::value install_json(const ToolState& tool, const doctor::SystemInfo& system) {
  if (tool.path) return nullptr;
  json::object o{{"manager", system.package_manager}};
  const auto* package = package_for(*tool.spec, system);
  if (package == nullptr || package->name.empty()) {
    o["argv"] = json::array();
    o["note"] = system.package_manager.empty()
                    ? "no supported package manager found; see " + tool.spec->homepage
                    : how_to_install(*tool.spec, system);
    return o;
  }
  auto argv = install_argv(system, package->cask);
  argv.push_back(package->name);
  o["argv"] = strings(argv);
  o["note"] = package->tap.empty() ? std::string()
                                   : "`brew install` adds the tap " + package->tap + " itself";
  return o;
}

std::string report_json(const Findings& f) {
  json::array areas;
  for (const auto& area_name : f.areas) {
    const auto& specs = doctor::area_catalog();
    const auto spec = std::find_if(specs.begin(), specs.end(),
                                   [&](const doctor::AreaSpec& a) { return a.name == area_name; });
    json::array tools;
    bool ready = true;
    for (const auto& tool : f.tools) {
      if (tool.spec->area != area_name) continue;
      if (tool.spec->required && f.group_unmet(tool)) ready = false;
      json::object t{{"name", tool.spec->name},
                     {"binary", tool.spec->binary},
                     {"required", tool.spec->required},
                     {"installed", tool.path.has_value()},
                     {"version", tool.probe.version},
                     {"path", tool.path ? tool.path->string() : std::string()},
                     {"install", install_json(tool, f.system)}};
      if (!tool.alternatives.empty()) t["alternatives"] = strings(tool.alternatives);
      if (!tool.probe.problem.empty()) t["problem"] = tool.probe.problem;
      tools.push_back(std::move(t));
    }
    json::array credentials;
    for (const auto& c : f.credentials) {
      if (c.area != area_name) continue;
      credentials.push_back(json::object{{"name", c.name},
                                         {"configured", c.configured},
                                         {"detail", c.detail},
                                         {"how_to_fix", c.how_to_fix}});
    }
    json::object a{{"name", area_name},
                   {"purpose", spec->purpose},
                   {"ready", ready},
                   {"tools", std::move(tools)},
                   {"credentials", std::move(credentials)}};
    if (!spec->note.empty()) a["note"] = spec->note;
    areas.push_back(std::move(a));
  }
  json::object system{{"os", f.system.os},
                      {"arch", f.system.arch},
                      {"package_manager", f.system.package_manager},
                      {"package_manager_version", f.system.package_manager_version},
                      {"root", f.system.root}};
  json::object doc{{"v", 1},
                   {"ok", f.missing_required.empty()},
                   {"system", std::move(system)},
                   {"areas", std::move(areas)},
                   {"missing_required", strings(f.missing_required)}};
  return core::to_json_string(doc);
}

struct InstallStep {
  std::vector<std::string> tools;
  std::vector<std::string> argv;
  bool required = false;
};

struct Unavailable {
  std::string tool;
  std::string reason;
  std::string how_to_install;
};

struct InstallPlan {
  doctor::SystemInfo system;
  std::vector<InstallStep> steps;
  std::vector<Unavailable> unavailable;
};

void require_package_manager(const doctor::SystemInfo& system) {
  if (!system.package_manager.empty()) return;
  if (system.os == "darwin") {
    throw Error(ErrorCode::command_not_found, "Homebrew is not installed",
                "install it from https://brew.sh, then run `devx doctor install` again");
  }
  throw Error(ErrorCode::unsupported,
              "no supported package manager found (looked for apt-get, dnf, pacman, yum, apk, "
              "zypper, nix on PATH)",
              "install the tools by hand; `devx doctor` lists each tool's homepage");
}

InstallPlan plan_install(const Findings& f, bool all) {
  InstallPlan plan;
  plan.system = f.system;
  struct Wanted {
    const ToolSpec* spec;
    bool required;
  };
  std::vector<Wanted> wanted;
  for (const auto& tool : f.tools) {
    if (tool.path) continue;
    if (!tool.spec->group.empty()) {
      // One member of an unmet group: the preferred one, never all alternatives.
      if (!f.group_unmet(tool) || !f.group_representative(tool)) continue;
    }
    if (!tool.spec->required && !all) continue;
    wanted.push_back({tool.spec, tool.spec->required});
  }
  if (wanted.empty()) return plan;
  require_package_manager(f.system);
  const auto table = doctor::package_table(f.system.package_manager);

  std::vector<InstallStep> taps;  // brew: `brew tap X`, before the formulas that need it
  InstallStep formulas, casks;
  auto add_tool = [](InstallStep& step, const Wanted& w) {
    step.tools.push_back(w.spec->name);
    step.required = step.required || w.required;
  };
  for (const auto& w : wanted) {
    const auto* package = package_for(*w.spec, f.system);
    if (table.empty()) {
      plan.unavailable.push_back({w.spec->name,
                                  "devx has no package names for " + f.system.package_manager,
                                  "see " + w.spec->homepage});
      continue;
    }
    if (package == nullptr || package->name.empty()) {
      plan.unavailable.push_back({w.spec->name, "not available from " + f.system.package_manager,
                                  how_to_install(*w.spec, f.system)});
      continue;
    }
    if (!package->tap.empty()) {
      auto tap = std::find_if(taps.begin(), taps.end(),
                              [&](const InstallStep& s) { return s.argv.back() == package->tap; });
      if (tap == taps.end()) {
        taps.push_back({{}, {"brew", "tap", package->tap}, false});
        tap = std::prev(taps.end());
      }
      add_tool(*tap, w);
    }
    InstallStep& step = package->cask ? casks : formulas;
    add_tool(step, w);
    // Several tools can come from one package (psql and pg_ctl from postgresql).
    if (std::find(step.argv.begin(), step.argv.end(), package->name) == step.argv.end()) {
      step.argv.push_back(package->name);
    }
  }
  if (f.system.package_manager == "apt" && !formulas.tools.empty()) {
    // A fresh machine's package lists are often empty or stale.
    plan.steps.push_back(
        {formulas.tools, with_privilege(f.system, {"apt-get", "update"}), formulas.required});
  }
  for (auto& tap : taps) plan.steps.push_back(std::move(tap));
  for (auto* step : {&formulas, &casks}) {
    if (step->tools.empty()) continue;
    auto argv = install_argv(f.system, step == &casks);
    argv.insert(argv.end(), step->argv.begin(), step->argv.end());
    step->argv = std::move(argv);
    plan.steps.push_back(std::move(*step));
  }
  return plan;
}

json::object plan_json(const InstallPlan& plan) {
  json::array steps;
  for (const auto& s : plan.steps) {
    steps.push_back(json::object{
        {"tools", strings(s.tools)}, {"argv", strings(s.argv)}, {"required", s.required}});
  }
  json::array unavailable;
  for (const auto& u : plan.unavailable) {
    unavailable.push_back(
        json::object{{"tool", u.tool}, {"reason", u.reason}, {"how_to_install", u.how_to_install}});
  }
  return json::object{{"v", 1},
                      {"package_manager", plan.system.package_manager},
                      {"root", plan.system.root},
                      {"steps", std::move(steps)},
                      {"unavailable", std::move(unavailable)}};
}

std::string joined(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& a : argv) text += (text.empty() ? "" : " ") + a;
  return text;
}

std::string execute_plan(Context& context, const InstallPlan& plan, OperationScope& scope) {
  json::object result = plan_json(plan);
  auto& steps = result["steps"].as_array();
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (scope.cancelled()) throw Error(ErrorCode::cancelled, "doctor install was cancelled");
    const auto& step = plan.steps[i];
    const std::string command = joined(step.argv);
    scope.progress("doctor", "running " + command);
    CommandSpec spec;
    spec.argv = step.argv;
    if (plan.system.package_manager == "apt") spec.env["DEBIAN_FRONTEND"] = "noninteractive";
    spec.output = OutputMode::stream;
    spec.on_line = [&scope, &context](std::string_view line, bool from_stderr) {
      Event event;
      event.type = EventType::log;
      event.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          context.clock().now().time_since_epoch())
                          .count();
      event.source = "doctor";
      event.level = from_stderr ? LogLevel::warn : LogLevel::info;
      event.message = std::string(line);
      scope.emit(std::move(event));
    };
    spec.stop = scope.stop_token();
    auto& out = steps[i].as_object();
    std::string error;
    try {
      const CommandResult r = context.commands().run(spec);
      if (r.cancelled) throw Error(ErrorCode::cancelled, "doctor install was cancelled");
      if (!r.ok()) {
        error = r.signal != 0 ? "killed by signal " + std::to_string(r.signal)
                              : "exited with status " + std::to_string(r.exit_code);
      }
    } catch (const Error& e) {
      if (e.code() == ErrorCode::cancelled) throw;
      error = e.message();
    }
    out["status"] = error.empty() ? "ok" : "failed";
    out["error"] = error;
    if (!error.empty()) failed.push_back(command + " (" + error + ")");
  }
  if (!failed.empty()) {
    std::string list;
    for (const auto& f : failed) list += (list.empty() ? "" : "; ") + f;
    throw Error(ErrorCode::command_failed,
                std::to_string(failed.size()) + " of " + std::to_string(plan.steps.size()) +
                    " install steps failed: " + list,
                "the output of each step was streamed as log events; details hold every step's "
                "status",
                core::to_json_string(result));
  }
  return core::to_json_string(result);
}

}  // namespace

std::string doctor_report(Context& context, const DoctorOptions& options) {
  return report_json(examine(context, options, true));
}

std::string doctor_install_plan(Context& context, const DoctorInstallOptions& options) {
  return core::to_json_string(
      plan_json(plan_install(examine(context, options.doctor, false), options.all)));
}

Operation start_doctor_install(Context& context, DoctorInstallOptions options) {
  InstallPlan plan = plan_install(examine(context, options.doctor, false), options.all);
  const std::string plan_text = core::to_json_string(plan_json(plan));
  if (context.dry_run()) {
    return context.start("doctor_install", [plan_text](OperationScope&) { return plan_text; });
  }
  if (!options.assume_yes && !plan.steps.empty()) {
    std::vector<std::string> names;
    for (const auto& step : plan.steps) {
      for (const auto& t : step.tools) {
        if (std::find(names.begin(), names.end(), t) == names.end()) names.push_back(t);
      }
    }
    std::string tools;
    for (const auto& t : names) tools += (tools.empty() ? "" : ", ") + t;
    const std::string question = "Install " + tools + " with " + plan.system.package_manager +
                                 " (" + std::to_string(plan.steps.size()) + " commands)?";
    json::object details{{"confirm", question}, {"plan", core::parse_json_or_null(plan_text)}};
    throw Error(ErrorCode::prompt_required, question, "pass --yes to install without asking",
                core::to_json_string(details));
  }
  return context.start("doctor_install", [&context, plan = std::move(plan)](OperationScope& scope) {
    return execute_plan(context, plan, scope);
  });
}

}  // namespace devx
