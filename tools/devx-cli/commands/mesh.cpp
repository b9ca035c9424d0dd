// devx mesh status|join|leave|exec — the dev VM's Tailscale node (docs/mesh.md). --provider and
// --name select the VM as for `devx vm`. The pre-auth key comes from $TS_AUTHKEY or the
// project's environment sources, never from the command line.
#include <devx/mesh.hpp>
#include <devx/supervisor.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/net_common.hpp"
#include "commands/plan_output.hpp"
#include "commands/vm_flags.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

std::string node_ips(const json::value& node) {
  std::string ips;
  if (const auto* list = node.as_object().if_contains("ips"); list && list->is_array()) {
    for (const auto& ip : list->as_array()) {
      if (ip.is_string()) ips += (ips.empty() ? "" : ",") + std::string(ip.as_string());
    }
  }
  return ips.empty() ? "-" : ips;
}

std::vector<std::string> node_row(const json::value& node) {
  return {cell(node, "hostname"), node_ips(node), cell(node, "dns_name"), cell(node, "os"),
          cell(node, "online") == "yes" ? "online" : "offline"};
}

int run_status(Output& out, const VmFlags& flags) {
  auto context = make_context(out.options());
  show_document(
      out, devx::mesh_status(*context, vm_options(out, flags)), [&](const json::value& doc) {
        out.status("VM " + cell(doc.at("vm"), "name") + ": " + cell(doc, "backend_state"));
        if (const std::string url = cell(doc, "auth_url"); url != "-") {
          out.status("log in at " + url);
        }
        std::vector<std::vector<std::string>> rows{{"NODE", "IPS", "DNS NAME", "OS", "STATE"}};
        const auto& self = doc.at("self");
        if (self.is_object()) {
          auto row = node_row(self);
          row[0] += " (this VM)";
          rows.push_back(std::move(row));
        }
        for (const auto& peer : doc.at("peers").as_array()) rows.push_back(node_row(peer));
        if (rows.size() > 1) out.result(aligned_columns(rows));
      });
  return 0;
}

struct JoinFlags {
  std::string hostname;
  bool accept_routes = false;
  int timeout_s = 120;
};

int run_join(Cli& cli, Output& out, const VmFlags& mesh, const JoinFlags& flags) {
  devx::MeshJoinOptions options;
  options.vm = vm_options(out, mesh);
  options.hostname = flags.hostname;
  options.accept_routes = flags.accept_routes;
  options.timeout = std::chrono::seconds(flags.timeout_s);
  auto context = make_context(out.options());
  const auto result = serve_in_foreground(cli, out, devx::start_mesh_join(*context, options),
                                          "mesh", "mesh join cancelled", {}, false);
  if (result.empty() || out.json() || out.options().dry_run) return 0;
  const json::value doc = json::parse(result);
  const std::string outcome = cell(doc, "result");
  const auto& node = doc.at("node");
  out.status(out.paint(Style::green, "✓") + " VM " + cell(doc.at("vm"), "name") +
             (outcome == "already-joined" ? " was already in the tailnet" : " joined the tailnet"));
  if (node.is_object()) out.result(aligned_columns({node_row(node)}));
  return 0;
}

int run_leave(Output& out, const VmFlags& flags) {
  auto context = make_context(out.options());
  show_result(out, devx::mesh_leave(*context, vm_options(out, flags)), [&](const json::value& doc) {
    out.status(out.paint(Style::green, "✓") + " VM " + cell(doc.at("vm"), "name") +
               " logged out of the tailnet");
  });
  return 0;
}

}  // namespace

// `tailscale <args…>` in the VM with the terminal attached: devx is replaced by the command and
// its exit status is tailscale's.
int run_tailscale(Output& out, const std::string& provider, const std::string& name,
                  const std::vector<std::string>& args) {
  auto context = make_context(out.options());
  const auto argv =
      devx::mesh_tailscale_argv(*context, vm_options(out, VmFlags{provider, name}), args);
  return run_in_place_of_devx(out, *context, "mesh.exec", "run tailscale in the VM", argv);
}

void add_mesh_commands(CLI::App& app, Cli& cli) {
  auto* mesh = app.add_subcommand("mesh", "The dev VM's Tailscale node");
  mesh->require_subcommand(1);
  auto flags = std::make_shared<VmFlags>();
  mesh->add_option("--provider", flags->provider, "the VM's provider (as for devx vm)");
  mesh->add_option("--name", flags->name, "the VM (as for devx vm)");
  auto sub = [mesh](const char* name, const char* description) {
    auto* command = mesh->add_subcommand(name, description);
    command->fallthrough();
    return command;
  };

  sub("status", "The node, its tailnet and its peers")->callback([&cli, flags] {
    cli.action = [flags](Output& out) { return run_status(out, *flags); };
  });

  auto join = std::make_shared<JoinFlags>();
  auto* j = sub("join", "Join the tailnet with the pre-auth key of $TS_AUTHKEY");
  j->add_option("--hostname", join->hostname, "the node's name (default: the VM name)");
  j->add_flag("--accept-routes", join->accept_routes, "accept subnet routes of other nodes");
  j->add_option("--timeout", join->timeout_s, "seconds to wait for the node to run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  j->footer(
      "The key is read from $TS_AUTHKEY, else TS_AUTHKEY in the project's env files; it is "
      "never accepted on the command line.");
  j->callback([&cli, flags, join] {
    cli.action = [&cli, flags, join](Output& out) { return run_join(cli, out, *flags, *join); };
  });

  sub("leave", "Log the node out of the tailnet")->callback([&cli, flags] {
    cli.action = [flags](Output& out) { return run_leave(out, *flags); };
  });

  auto args = std::make_shared<std::vector<std::string>>();
  auto* x = sub("exec", "Run tailscale in the VM (-- ARGS…), terminal attached");
  x->add_option("args", *args, "tailscale's arguments, after --");
  x->callback([&cli, flags, args] {
    cli.action = [flags, args](Output& out) {
      return run_tailscale(out, flags->provider, flags->name, *args);
    };
  });
}

}  // namespace devx::cli
