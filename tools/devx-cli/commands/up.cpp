// devx up [services…] [--detach] [--keep-going] — foreground: an in-process supervisor with
// multiplexed output; --detach: a background supervisor (devx supervise) reachable by ps/down.
#include <devx/orchestrator.hpp>
#include <devx/supervisor.hpp>

#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <iostream>
#include <mutex>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct UpFlags {
  ProjectFlags project;
  std::vector<std::string> services;
  bool detach = false;
  bool keep_going = false;
  std::string engine;
};

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
  return out;
}

std::string plan_text(const devx::UpPlan& plan) {
  std::string out = "Plan for '" + plan.project + "' (nothing is started):\n";
  int step = 1;
  for (const auto& n : plan.nodes) {
    out += "  " + std::to_string(step++) + ". " + n.name + " [" + n.runtime + "]";
    if (n.port) {
      out += " port " + std::to_string(*n.port);
      if (n.requested_port && *n.requested_port != *n.port && *n.requested_port > 0) {
        out += " (requested " + std::to_string(*n.requested_port) + ", busy)";
      }
    }
    out += "\n";
    if (!n.argv.empty()) out += "       run:    " + join(n.argv, " ") + "\n";
    if (!n.cwd.empty()) out += "       cwd:    " + n.cwd + "\n";
    if (n.wait_reasons.empty()) {
      out += "       starts: at once\n";
    } else {
      for (const auto& w : n.wait_reasons) out += "       waits:  " + w + "\n";
    }
    if (!n.healthcheck.empty()) out += "       health: " + n.healthcheck + "\n";
    if (!n.env_names.empty()) out += "       env:    " + join(n.env_names, " ") + "\n";
  }
  if (!plan.tunnels.empty()) {
    out += "tunnels:\n";  // routed at `up` once the node on the port is ready
    for (const auto& t : plan.tunnels) {
      out += "  " + t.name + ": " + (t.hostname.empty() ? "(no zone)" : "https://" + t.hostname) +
             " → 127.0.0.1:" + std::to_string(t.port);
      if (!t.service.empty()) out += " (" + t.service + ")";
      if (!t.layers.empty()) out += " via " + join(t.layers, " → ");
      out += "\n";
    }
  }
  for (const auto& w : plan.warnings) out += "warning: " + w + "\n";
  return out;
}

std::vector<std::string> supervise_args(const devx::Project& project, const UpFlags& flags,
                                        const devx::Context& context) {
  std::vector<std::string> args = {"supervise", "--file", project.root_file.string(), "--devx-home",
                                   context.home().string()};
  if (!flags.project.profile.empty()) {
    args.push_back("--profile");
    args.push_back(flags.project.profile);
  }
  if (flags.keep_going) args.push_back("--keep-going");
  if (!flags.engine.empty()) {
    args.push_back("--container-engine");
    args.push_back(flags.engine);
  }
  if (!flags.services.empty()) {
    args.push_back("--");
    for (const auto& s : flags.services) args.push_back(s);
  }
  return args;
}

int run_up(Cli& cli, Output& out, const UpFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  auto context = make_context(out.options());
  devx::UpOptions options;
  options.only = flags.services;
  options.keep_going = flags.keep_going;
  options.container_engine = flags.engine;

  if (out.options().dry_run) {
    const auto plan = devx::plan_up(*context, project, options);
    if (out.json()) {
      out.document(json::parse(plan.to_json()));
    } else {
      out.result(plan_text(plan));
    }
    return 0;
  }

  if (flags.detach) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw devx::Error(devx::ErrorCode::internal, "cannot find the devx executable");
    out.status("Starting '" + project.name + "' in the background…");
    auto op = devx::start_detached(*context, project, options, self,
                                   supervise_args(project, flags, *context));
    cli.cancel->set(op);
    const std::string status = op.result();
    cli.cancel->clear();
    if (out.json()) {
      out.document(json::parse(status));
    } else {
      const auto doc = json::parse(status);
      out.result(status_table(status, stdout_colour(out)));
      out.status("'" + project.name + "' is up (supervisor pid " +
                 std::to_string(doc.at("supervisor_pid").to_number<int>()) +
                 "); `devx logs -f` to follow, `devx down` to stop");
    }
    return 0;
  }

  // Foreground.
  std::mutex write_mutex;
  const bool colour = stdout_colour(out);
  std::size_t width = 0;
  for (const auto& s : project.services) width = std::max(width, s.name.size());
  for (const auto& d : project.databases) {
    width =
        std::max(width, (d.name.empty() ? std::string(devx::to_string(d.engine)) : d.name).size());
  }
  const bool json_mode = out.json();
  const bool quiet = out.options().quiet;
  Output* output = &out;
  devx::SupervisorOptions hooks;
  hooks.on_event = [&write_mutex, colour, width, json_mode, quiet, output](const devx::Event& e) {
    std::lock_guard lock(write_mutex);
    if (json_mode) {
      std::cout << e.to_json() << '\n' << std::flush;
      return;
    }
    if (e.type == devx::EventType::log) {
      std::cout << service_prefix(e.source, width, colour) << e.message << '\n' << std::flush;
      return;
    }
    if (quiet || e.type == devx::EventType::plan) return;
    const Style style = e.level >= devx::LogLevel::error  ? Style::red
                        : e.level == devx::LogLevel::warn ? Style::yellow
                                                          : Style::cyan;
    std::cerr << output->paint(style, "devx") << " " << e.message << '\n' << std::flush;
  };
  hooks.on_ready = [&write_mutex, &project, json_mode, quiet, output](const std::string&) {
    if (json_mode || quiet) return;
    std::lock_guard lock(write_mutex);
    std::cerr << output->paint(Style::green, "devx") << " '" << project.name
              << "' is up — Ctrl-C stops everything\n"
              << std::flush;
  };
  auto op = devx::run_supervisor(*context, project, options, hooks);
  cli.cancel->set(op);
  try {
    op.result();
    cli.cancel->clear();
    out.status("'" + project.name + "' stopped (devx down)");
    return 0;
  } catch (const devx::Error& e) {
    cli.cancel->clear();
    const int sig = cli.cancel->signal();
    if (e.code() == devx::ErrorCode::cancelled && sig != 0) {
      // Stopped gracefully on Ctrl-C / SIGTERM: the shell convention for "ended by a signal".
      out.status("'" + project.name + "' stopped");
      return 128 + sig;
    }
    throw;
  }
}

}  // namespace

void add_up_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<UpFlags>();
  auto* cmd = app.add_subcommand("up", "Start the project's services (foreground, or --detach)");
  add_project_flags(*cmd, flags->project);
  cmd->add_option("services", flags->services,
                  "Services or databases to start (with their dependencies); default: all");
  cmd->add_flag("-d,--detach", flags->detach,
                "Leave a background supervisor running; print the status and return");
  cmd->add_flag("--keep-going", flags->keep_going,
                "On a failure keep what already runs instead of stopping everything");
  cmd->add_option("--container-engine", flags->engine, "podman or docker (default: detected)");
  cmd->callback([&cli, flags] {
    cli.action = [&cli, flags](Output& out) { return run_up(cli, out, *flags); };
  });
}

}  // namespace devx::cli
