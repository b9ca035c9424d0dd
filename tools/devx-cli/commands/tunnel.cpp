// devx tunnel expose|unexpose|list|status|up|inspect — public URLs through Cloudflare Tunnel and
// the capturing inspector (docs/tunnels.md, docs/edge.md). The library creates, routes, records
// and removes; this file turns flags into options and documents into lines.
#include <devx/edge.hpp>
#include <devx/tunnel.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/net_common.hpp"
#include "commands/plan_output.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

// "https://api.example.com → 127.0.0.1:3000 (basic-auth, throttle 3g)"
std::string exposure_line(const json::value& exposure) {
  std::string line = cell(exposure, "url") + " → 127.0.0.1:" + cell(exposure, "port");
  const auto* proxies =
      exposure.is_object() ? exposure.as_object().if_contains("proxies") : nullptr;
  if (proxies != nullptr && proxies->is_array() && !proxies->as_array().empty()) {
    std::string names;
    for (const auto& proxy : proxies->as_array()) {
      const std::string name =
          proxy.is_string() ? std::string(proxy.as_string()) : json::serialize(proxy);
      names += (names.empty() ? "" : ", ") + name;
    }
    line += " (" + names + ")";
  }
  return line;
}

// State events of expose/up: {"state":"exposed","exposure":{…}} becomes the exposure's line.
std::string exposed_state(const devx::Event& e) {
  json::error_code ec;
  const json::value data = json::parse(e.data_json, ec);
  if (!ec && data.is_object()) {
    if (const auto* exposure = data.as_object().if_contains("exposure")) {
      return "exposed " + exposure_line(*exposure);
    }
  }
  return e.message;
}

// ---- expose ----

struct ExposeFlags {
  int port = 0;
  std::string name;
  std::string zone;
  std::string domain;
  std::string basic_auth;
  std::string throttle;
  std::vector<std::string> env_files;
};

int run_expose(Cli& cli, Output& out, const ExposeFlags& flags) {
  devx::TunnelExposeOptions options;
  options.cloudflare = cloudflare_settings(flags.env_files);
  options.port = flags.port;
  options.name = flags.name;
  options.zone = flags.zone;
  options.domain = flags.domain;
  options.basic_auth = basic_auth_secret(flags.basic_auth);
  options.throttle = flags.throttle;
  const bool serves = !options.basic_auth.empty() || !options.throttle.empty();
  auto context = make_context(out.options());
  const auto result = serve_in_foreground(
      cli, out, devx::start_tunnel_expose(*context, std::move(options)), "tunnel",
      "tunnel: proxies stopped, exposure removed", exposed_state, serves);
  if (result.empty() || out.json() || out.options().dry_run) return 0;
  const json::value doc = json::parse(result);
  const auto* exposure = doc.as_object().if_contains("exposure");
  const json::value& shown = exposure != nullptr ? *exposure : doc;
  if (!serves) {
    out.status(out.paint(Style::green, "✓") + " exposed (remove with: devx tunnel unexpose " +
               cell(shown, "id") + ")");
  }
  out.result(exposure_line(shown));
  return 0;
}

// ---- unexpose ----

struct UnexposeFlags {
  std::string target;
  bool all = false;
  std::vector<std::string> env_files;
};

int run_unexpose(Output& out, const UnexposeFlags& flags) {
  if (flags.all == !flags.target.empty()) {
    throw devx::Error(devx::ErrorCode::invalid_argument,
                      flags.all ? "pass either an exposure or --all, not both"
                                : "which exposure? pass its id or hostname, or --all",
                      "see them with: devx tunnel list");
  }
  devx::TunnelUnexposeOptions options;
  options.cloudflare = cloudflare_settings(flags.env_files);
  options.target = flags.target;
  options.all = flags.all;
  auto context = make_context(out.options());
  show_result(out, devx::tunnel_unexpose(*context, options), [&](const json::value& doc) {
    const auto& removed = doc.at("removed").as_array();
    std::string text;
    for (const auto& item : removed) {
      text += (item.is_string() ? std::string(item.as_string()) : cell(item, "hostname")) + "\n";
    }
    if (!text.empty()) out.result(text);
    out.status(out.paint(Style::green, "✓") + " removed " + std::to_string(removed.size()) +
               " exposure(s): route, DNS record and record");
  });
  return 0;
}

// ---- list / status ----

std::vector<std::vector<std::string>> exposure_rows(const json::value& doc) {
  std::vector<std::vector<std::string>> rows{{"ID", "URL", "PORT", "PROXIES", "CONNECTOR"}};
  for (const auto& e : doc.at("exposures").as_array()) {
    std::string proxies;
    if (const auto* list = e.as_object().if_contains("proxies"); list && list->is_array()) {
      for (const auto& p : list->as_array()) {
        proxies += (proxies.empty() ? "" : ",") +
                   (p.is_string() ? std::string(p.as_string()) : json::serialize(p));
      }
    }
    rows.push_back({cell(e, "id"), cell(e, "url"), cell(e, "port"), proxies.empty() ? "-" : proxies,
                    cell(e, "connector")});
  }
  return rows;
}

int run_list(Output& out, bool with_tunnels) {
  auto context = make_context(out.options());
  show_document(out, devx::tunnel_status(*context), [&](const json::value& doc) {
    if (doc.at("exposures").as_array().empty()) {
      out.status("no exposures (create one with: devx tunnel expose <port>)");
    } else {
      out.result(aligned_columns(exposure_rows(doc)));
    }
    if (!with_tunnels) return;
    std::vector<std::vector<std::string>> rows{{"TUNNEL", "ID", "SCOPE", "CONNECTOR"}};
    for (const auto& t : doc.at("tunnels").as_array()) {
      const auto* connector = t.as_object().if_contains("connector");
      std::string state = "-";
      if (connector != nullptr && connector->is_object()) {
        state = cell(*connector, "running") == "yes"
                    ? "running (pid " + cell(*connector, "pid") + ")"
                    : "stopped";
      }
      std::string scope = cell(t, "scope");
      if (scope == "project") scope += " " + cell(t, "project");
      rows.push_back({cell(t, "name"), cell(t, "id"), scope, state});
    }
    if (rows.size() > 1) out.result(aligned_columns(rows));
  });
  return 0;
}

// ---- up ----

struct UpFlags {
  ProjectFlags project;
  std::string zone;
  std::vector<std::string> env_files;
};

int run_up(Cli& cli, Output& out, const UpFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  devx::TunnelUpOptions options;
  options.zone = flags.zone;
  if (!flags.env_files.empty()) options.cloudflare = cloudflare_settings(flags.env_files);
  auto context = make_context(out.options());
  serve_in_foreground(cli, out, devx::start_tunnel_up(*context, project, std::move(options)),
                      "tunnel", "tunnel: routes removed, proxies stopped", exposed_state);
  return 0;
}

// ---- inspect ----

struct InspectFlags {
  int port = 0;
  bool expose = false;
  bool list = false;
  std::string replay;
  std::string session;
  std::string name;
  std::string zone;
  std::string domain;
  std::string basic_auth;
  std::vector<std::string> env_files;
};

int run_inspect_list(Output& out, const InspectFlags& flags) {
  auto context = make_context(out.options());
  show_document(out, devx::list_captures(*context, flags.session), [&](const json::value& doc) {
    std::vector<std::vector<std::string>> rows{
        {"ID", "TIME", "METHOD", "URL", "STATUS", "MS", "REQ", "RESP"}};
    for (const auto& x : doc.at("exchanges").as_array()) {
      rows.push_back({cell(x, "id"), cell(x, "time"), cell(x, "method"), cell(x, "url"),
                      cell(x, "status"), cell(x, "duration_ms"), cell(x, "request_bytes"),
                      cell(x, "response_bytes")});
    }
    out.status("session " + cell(doc, "session"));
    out.result(aligned_columns(rows));
  });
  return 0;
}

int run_inspect_replay(Output& out, const InspectFlags& flags) {
  devx::ReplayOptions options;
  options.target_port = flags.port;
  auto context = make_context(out.options());
  show_result(
      out, devx::replay_capture(*context, flags.session, flags.replay, options),
      [&](const json::value& doc) {
        const auto& request = doc.at("request");
        const auto& response = doc.at("response");
        out.status(cell(request, "method") + " " + cell(request, "url") + " → " +
                   cell(response, "status") + " (" + cell(doc, "duration_ms") + " ms)");
        if (cell(response, "body_encoding") == "base64") {
          out.status("(binary body, " + cell(response, "body_bytes") + " bytes; see --json)");
        } else if (const auto* body = response.as_object().if_contains("body");
                   body != nullptr && body->is_string()) {
          out.result(std::string(body->as_string()));
        }
      });
  return 0;
}

int run_inspect(Cli& cli, Output& out, const InspectFlags& flags) {
  if (flags.list) return run_inspect_list(out, flags);
  if (!flags.replay.empty()) return run_inspect_replay(out, flags);
  if (flags.port == 0) {
    throw devx::Error(devx::ErrorCode::invalid_argument, "which port? pass the port to inspect",
                      "devx tunnel inspect 3000");
  }
  devx::EdgeProxyOptions options;
  options.target_port = flags.port;
  options.inspect = true;
  options.inspect_options.session = flags.session;
  if (const auto secret = basic_auth_secret(flags.basic_auth); !secret.empty()) {
    options.basic_auth = devx::parse_basic_auth(secret);
  }
  auto context = make_context(out.options());
  devx::TunnelExposeOptions expose;
  expose.cloudflare = cloudflare_settings(flags.env_files);
  expose.name = flags.name;
  expose.zone = flags.zone;
  expose.domain = flags.domain;
  if (out.options().dry_run) {
    json::value plan = json::parse(devx::edge_proxy_plan(*context, options));
    if (flags.expose) {
      // The inspector's port is only known once it listens: the plan routes the target port.
      expose.port = flags.port;
      const json::value route = json::parse(devx::start_tunnel_expose(*context, expose).result());
      auto& actions = plan.as_object()["actions"].as_array();
      for (const auto& action : route.at("actions").as_array()) actions.push_back(action);
    }
    print_plan(out, plan);
    return 0;
  }
  auto proxy = devx::start_edge_proxy(*context, options);
  out.status("inspecting 127.0.0.1:" + std::to_string(flags.port) + " through " + proxy.url() +
             " (session " + proxy.session() + "; Ctrl-C stops)");
  std::optional<std::string> exposure_id;
  if (flags.expose) {
    expose.port = proxy.port();
    const json::value doc = json::parse(devx::start_tunnel_expose(*context, expose).result());
    const auto* exposure = doc.as_object().if_contains("exposure");
    const json::value& shown = exposure != nullptr ? *exposure : doc;
    exposure_id = cell(shown, "id");
    out.status("public: " + exposure_line(shown));
  }
  auto unexpose = [&] {
    if (!exposure_id) return;
    devx::TunnelUnexposeOptions remove;
    remove.cloudflare = expose.cloudflare;
    remove.target = *exposure_id;
    devx::tunnel_unexpose(*context, remove);
    exposure_id.reset();
  };
  try {
    serve_in_foreground(cli, out, proxy.operation(), "inspect", "inspect stopped",
                        [](const devx::Event& e) { return e.message; });
  } catch (...) {
    proxy.stop();
    unexpose();
    throw;
  }
  proxy.stop();
  unexpose();
  return 0;
}

}  // namespace

void add_tunnel_commands(CLI::App& app, Cli& cli) {
  auto* tunnel = app.add_subcommand("tunnel", "Public URLs for local ports (Cloudflare Tunnel)");
  tunnel->require_subcommand(1);

  auto expose = std::make_shared<ExposeFlags>();
  auto* e = tunnel->add_subcommand("expose", "Expose a local port at https://<name>.<zone>");
  e->add_option("port", expose->port, "the local port")->required()->check(CLI::Range(1, 65535));
  e->add_option("-n,--name", expose->name,
                "exposure name, the hostname's first label "
                "(default: port-<port>)");
  e->add_option("--zone", expose->zone, "Cloudflare zone (default: $DEVX_TUNNEL_ZONE)");
  e->add_option("--domain", expose->domain, "full hostname (default: <name>.<zone>)");
  e->add_option("--basic-auth", expose->basic_auth,
                "user:pass required from visitors (prefer $DEVX_BASIC_AUTH: argv is visible to "
                "other users)");
  e->add_option("--throttle", expose->throttle, "simulate a slow link: 3g, edge or slow")
      ->check(CLI::IsMember({"3g", "edge", "slow"}));
  add_env_file_flag(*e, expose->env_files);
  e->callback([&cli, expose] {
    cli.action = [&cli, expose](Output& out) { return run_expose(cli, out, *expose); };
  });

  auto unexpose = std::make_shared<UnexposeFlags>();
  auto* u = tunnel->add_subcommand("unexpose", "Remove an exposure: its route and DNS record");
  u->add_option("target", unexpose->target, "exposure id or hostname");
  u->add_flag("--all", unexpose->all, "every exposure of this machine");
  add_env_file_flag(*u, unexpose->env_files);
  u->callback([&cli, unexpose] {
    cli.action = [unexpose](Output& out) { return run_unexpose(out, *unexpose); };
  });

  tunnel->add_subcommand("list", "The recorded exposures")->alias("ls")->callback([&cli] {
    cli.action = [](Output& out) { return run_list(out, false); };
  });
  tunnel->add_subcommand("status", "Exposures and tunnels with their connectors")->callback([&cli] {
    cli.action = [](Output& out) { return run_list(out, true); };
  });

  auto up = std::make_shared<UpFlags>();
  auto* p = tunnel->add_subcommand("up", "Route the project's tunnels: (devx.yaml) until Ctrl-C");
  add_project_flags(*p, up->project);
  p->add_option("--zone", up->zone,
                "Cloudflare zone (default: $DEVX_TUNNEL_ZONE, devx.yaml domain)");
  add_env_file_flag(*p, up->env_files);
  p->callback(
      [&cli, up] { cli.action = [&cli, up](Output& out) { return run_up(cli, out, *up); }; });

  auto inspect = std::make_shared<InspectFlags>();
  auto* i = tunnel->add_subcommand("inspect", "Record and replay the HTTP traffic to a port");
  i->add_option("port", inspect->port, "the local port to inspect (with --replay: send there)")
      ->check(CLI::Range(1, 65535));
  i->add_flag("-e,--expose", inspect->expose, "also expose the inspector publicly");
  i->add_flag("--list", inspect->list, "list the recorded exchanges");
  i->add_option("--replay", inspect->replay, "re-send recorded exchange ID");
  i->add_option("--session", inspect->session,
                "capture session (default: new; --list/--replay: "
                "the newest)");
  i->add_option("-n,--name", inspect->name, "exposure name (with --expose)");
  i->add_option("--zone", inspect->zone, "Cloudflare zone (with --expose)");
  i->add_option("--domain", inspect->domain, "full hostname (with --expose)");
  i->add_option("--basic-auth", inspect->basic_auth, "user:pass (prefer $DEVX_BASIC_AUTH)");
  add_env_file_flag(*i, inspect->env_files);
  i->callback([&cli, inspect] {
    cli.action = [&cli, inspect](Output& out) { return run_inspect(cli, out, *inspect); };
  });
}

}  // namespace devx::cli
