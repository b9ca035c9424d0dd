// devx bridge connect|intercept|status|disconnect|doctor|rbac|env — the Kubernetes bridge
// (docs/bridge.md). Sessions run in the foreground until Ctrl-C or `devx bridge disconnect`;
// with --json their events stream as JSON Lines.
#include <devx/bridge.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <iostream>
#include <mutex>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct KubeFlags {
  std::string kubeconfig;
  std::string context;
  std::string namespace_;
};

void add_kube_flags(CLI::App& cmd, KubeFlags& flags) {
  cmd.add_option("--kubeconfig", flags.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG as kubectl reads it, or ~/.kube/config)");
  cmd.add_option("--context", flags.context, "kubeconfig context (default: the current one)");
  cmd.add_option("-n,--namespace", flags.namespace_,
                 "namespace (default: bridge.namespace, else default)");
}

// devx.yaml is optional for bridge commands: used when found (or named with -f), else flags only.
std::optional<devx::Project> optional_project(Output& out, const ProjectFlags& flags) {
  if (flags.file.empty()) {
    std::error_code ec;
    try {
      devx::find_project_file(std::filesystem::current_path(ec));
    } catch (const devx::Error& e) {
      if (e.code() == devx::ErrorCode::config_not_found) return std::nullopt;
      throw;
    }
  }
  return load_project_for_command(out, flags);
}

void apply_kube_flags(devx::KubeSettings& kube, std::string& namespace_, const KubeFlags& flags) {
  if (!flags.kubeconfig.empty()) kube.kubeconfig = flags.kubeconfig;
  if (!flags.context.empty()) kube.context = flags.context;
  if (!flags.namespace_.empty()) namespace_ = flags.namespace_;
}

int parse_port(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const int port = std::stoi(text, &used);
    if (used == text.size() && port >= 0 && port <= 65535) return port;
  } catch (const std::exception&) {
  }
  throw devx::Error(devx::ErrorCode::invalid_argument, "invalid " + what + " '" + text + "'",
                    "a port number 0-65535");
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos - start));
    if (pos == std::string::npos) return parts;
    start = pos + 1;
  }
}

// SERVICE:PORT[:LOCAL_PORT]
devx::BridgeTargetSpec parse_target(const std::string& text) {
  const auto parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) {
    throw devx::Error(devx::ErrorCode::invalid_argument, "invalid --target '" + text + "'",
                      "use SERVICE:PORT or SERVICE:PORT:LOCAL_PORT");
  }
  devx::BridgeTargetSpec t;
  t.service = parts[0];
  t.port = parse_port(parts[1], "port in --target " + text);
  if (parts.size() == 3) t.local_port = parse_port(parts[2], "local port in --target " + text);
  return t;
}

// REMOTE:LOCAL, REMOTE (same local port) or REMOTE:- (refuse)
devx::BridgePortMapping parse_mapping(const std::string& text) {
  const auto parts = split(text, ':');
  if (parts.empty() || parts.size() > 2) {
    throw devx::Error(devx::ErrorCode::invalid_argument, "invalid --port '" + text + "'",
                      "use REMOTE:LOCAL, REMOTE, or REMOTE:- to refuse that port");
  }
  devx::BridgePortMapping m;
  m.remote = parse_port(parts[0], "Service port in --port " + text);
  m.local = parts.size() == 1 ? m.remote
            : parts[1] == "-" ? 0
                              : parse_port(parts[1], "local port in --port " + text);
  return m;
}

std::chrono::seconds parse_seconds(const std::string& text, const std::string& flag) {
  const auto value = devx::parse_duration(text);
  if (!value || *value < std::chrono::seconds(1)) {
    throw devx::Error(devx::ErrorCode::invalid_argument, "invalid " + flag + " '" + text + "'",
                      "a duration such as 30s, 2m or 1m30s (at least 1s)");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*value);
}

// Runs a session operation in the foreground: events to stderr (or JSON Lines on stdout), until
// the operation ends. Ctrl-C / SIGTERM (disconnect) cancel it; it then cleans up and we exit
// 0: stopping a session is its normal end.
int run_session(Cli& cli, Output& out, devx::Operation op, const std::string& what) {
  std::mutex write_mutex;
  const bool json_mode = out.json();
  const bool quiet = out.options().quiet;
  Output* output = &out;
  op.on_event([&write_mutex, json_mode, quiet, output](const devx::Event& e) {
    std::lock_guard lock(write_mutex);
    if (json_mode) {
      std::cout << e.to_json() << '\n' << std::flush;
      return;
    }
    if (quiet && e.level < devx::LogLevel::warn) return;
    if (e.type == devx::EventType::log && e.level < devx::LogLevel::info) return;
    const Style style = e.level >= devx::LogLevel::error  ? Style::red
                        : e.level == devx::LogLevel::warn ? Style::yellow
                                                          : Style::cyan;
    std::cerr << output->paint(style, "bridge") << " " << e.message << '\n' << std::flush;
  });
  cli.cancel->set(op);
  try {
    const std::string result = op.result();
    cli.cancel->clear();
    if (json_mode) {
      std::lock_guard lock(write_mutex);
      std::cout << result << '\n' << std::flush;
    }
    out.status(what + " ended");
    return 0;
  } catch (const devx::Error& e) {
    cli.cancel->clear();
    if (e.code() == devx::ErrorCode::cancelled && cli.cancel->signal() != 0 && !e.cause()) {
      out.status(what + " stopped; everything it changed was undone");
      return 0;
    }
    throw;
  }
}

void print_plan(Output& out, const std::string& plan_json) {
  const auto doc = json::parse(plan_json);
  if (out.json()) {
    out.document(doc);
    return;
  }
  std::string text = "Plan (nothing is changed):\n";
  int step = 1;
  for (const auto& a : doc.at("actions").as_array()) {
    const auto& o = a.as_object();
    text += "  " + std::to_string(step++) + ". ";
    if (const auto* argv = o.if_contains("argv")) {
      for (const auto& s : argv->as_array()) text += std::string(s.as_string()) + " ";
    }
    if (const auto* d = o.if_contains("description")) text += std::string(d->as_string());
    text += "\n";
  }
  out.result(text);
}

// ---- connect ----

struct ConnectFlags {
  ProjectFlags project;
  KubeFlags kube;
  std::vector<std::string> targets;
};

int run_connect(Cli& cli, Output& out, const ConnectFlags& flags) {
  devx::BridgeConnectOptions options;
  if (auto project = optional_project(out, flags.project))
    options = devx::bridge_connect_options(*project);
  apply_kube_flags(options.kube, options.namespace_, flags.kube);
  // Flags first; a devx.yaml target naming the same Service port is not forwarded twice.
  std::vector<devx::BridgeTargetSpec> targets;
  for (const auto& t : flags.targets) targets.push_back(parse_target(t));
  for (const auto& t : options.targets) {
    const bool duplicate = std::any_of(targets.begin(), targets.end(), [&](const auto& x) {
      return x.service == t.service && x.port == t.port && x.namespace_ == t.namespace_;
    });
    if (!duplicate) targets.push_back(t);
  }
  options.targets = std::move(targets);
  auto context = make_context(out.options());
  auto op = devx::start_bridge_connect(*context, options);
  if (out.options().dry_run) {
    print_plan(out, op.result());
    return 0;
  }
  return run_session(cli, out, op, "bridge session");
}

// ---- intercept ----

struct InterceptFlags {
  ProjectFlags project;
  KubeFlags kube;
  std::string service;
  std::vector<std::string> ports;
  std::string agent_image;
  std::string grace = "30s";
  std::string ready_timeout = "2m";
};

int run_intercept(Cli& cli, Output& out, const InterceptFlags& flags) {
  devx::BridgeInterceptOptions options;
  if (auto project = optional_project(out, flags.project)) {
    options = devx::bridge_intercept_options(*project, flags.service);
  }
  options.service = flags.service;
  apply_kube_flags(options.kube, options.namespace_, flags.kube);
  if (!flags.ports.empty()) {
    options.ports.clear();
    for (const auto& p : flags.ports) options.ports.push_back(parse_mapping(p));
  }
  if (!flags.agent_image.empty()) options.agent_image = flags.agent_image;
  options.grace = parse_seconds(flags.grace, "--grace");
  options.ready_timeout = parse_seconds(flags.ready_timeout, "--ready-timeout");
  auto context = make_context(out.options());
  if (out.options().dry_run) {
    print_plan(out, devx::start_bridge_intercept(*context, options).result());
    return 0;
  }
  const std::string ns = options.namespace_.empty() ? "default" : options.namespace_;
  if (!out.confirm("Route all traffic of Service " + ns + "/" + options.service +
                   " to this machine until you stop (Ctrl-C)?")) {
    throw devx::Error(devx::ErrorCode::cancelled, "intercept not started");
  }
  return run_session(cli, out, devx::start_bridge_intercept(*context, options), "intercept");
}

// ---- status / disconnect / env / doctor / rbac ----

int run_status(Output& out) {
  auto context = make_context(out.options());
  const auto doc = json::parse(devx::bridge_status(*context));
  if (out.json()) {
    out.document(doc);
    return 0;
  }
  const auto& sessions = doc.at("sessions").as_array();
  if (sessions.empty()) {
    out.status("no bridge sessions");
    return 0;
  }
  std::string text;
  for (const auto& v : sessions) {
    const auto& s = v.as_object();
    text += std::string(s.at("kind").as_string()) + " " + std::string(s.at("id").as_string()) +
            " (" + std::string(s.at("status").as_string()) + ", pid " +
            std::to_string(s.at("owner").at("pid").to_number<int>()) + ", " +
            std::string(s.at("origin").as_string()) + ")\n";
    for (const auto& f : s.at("forwards").as_array()) {
      const auto& o = f.as_object();
      const int local = o.at("local_port").to_number<int>();
      text += "  " + std::string(o.at("namespace").as_string()) + "/" +
              std::string(o.at("service").as_string()) + ":" +
              std::to_string(o.at("remote_port").to_number<int>()) + " → " +
              (local > 0 ? "127.0.0.1:" + std::to_string(local) : std::string("-")) + "  " +
              std::string(o.at("state").as_string()) + "  " +
              devx::bridge_env_prefix(o.at("service").as_string(), o.at("namespace").as_string(),
                                      false) +
              "_URL\n";
    }
    if (const auto* i = s.if_contains("intercept")) {
      const auto& o = i->as_object();
      text += "  intercept " + std::string(o.at("namespace").as_string()) + "/" +
              std::string(o.at("service").as_string()) + "  " +
              std::string(o.at("state").as_string());
      for (const auto& p : o.at("ports").as_array()) {
        const int local = p.at("local").to_number<int>();
        text += "  :" + std::to_string(p.at("remote").to_number<int>()) + "→" +
                (local > 0 ? std::to_string(local) : std::string("refused"));
      }
      text += "\n";
    }
    if (const auto* hint = s.if_contains("hint"))
      text += "  hint: " + std::string(hint->as_string()) + "\n";
  }
  out.result(text);
  return 0;
}

int run_disconnect(Output& out, const std::string& session) {
  auto context = make_context(out.options());
  const auto doc = json::parse(devx::bridge_disconnect(*context, session));
  if (out.json()) {
    out.document(doc);
    return 0;
  }
  if (doc.as_object().contains("actions")) {
    print_plan(out, json::serialize(doc));
    return 0;
  }
  const auto& sessions = doc.at("sessions").as_array();
  if (sessions.empty()) out.status("no bridge sessions to disconnect");
  for (const auto& s : sessions) {
    out.status(std::string(s.at("id").as_string()) + ": " +
               std::string(s.at("result").as_string()));
  }
  return 0;
}

int run_env(Output& out) {
  auto context = make_context(out.options());
  const auto env = devx::bridge_environment(*context);
  if (out.json()) {
    json::object o;
    for (const auto& [k, v] : env) o[k] = v;
    out.document(json::object{{"v", 1}, {"env", std::move(o)}});
    return 0;
  }
  std::string text;
  for (const auto& [k, v] : env) text += "export " + k + "=" + v + "\n";
  if (text.empty()) {
    out.status("no live bridge forwards");
    return 0;
  }
  out.result(text);
  return 0;
}

struct DoctorFlags {
  ProjectFlags project;
  KubeFlags kube;
  bool all_namespaces = false;
  bool repair = false;
};

int run_doctor(Output& out, const DoctorFlags& flags) {
  devx::BridgeDoctorOptions options;
  if (auto project = optional_project(out, flags.project)) {
    const auto c = devx::bridge_connect_options(*project);
    options.kube = c.kube;
    options.namespace_ = c.namespace_;
  }
  apply_kube_flags(options.kube, options.namespace_, flags.kube);
  if (flags.all_namespaces)
    options.namespace_.clear();
  else if (options.namespace_.empty())
    options.namespace_ = "default";
  options.repair = flags.repair && !out.options().dry_run;
  auto context = make_context(out.options());
  if (options.repair) {
    // Look first, then ask: the repair changes shared cluster objects.
    devx::BridgeDoctorOptions look = options;
    look.repair = false;
    const auto found = json::parse(devx::start_bridge_doctor(*context, look).result());
    if (found.at("findings").as_array().empty()) {
      options.repair = false;
    } else if (!out.confirm("Repair " + std::to_string(found.at("findings").as_array().size()) +
                            " finding(s) in the cluster?")) {
      throw devx::Error(devx::ErrorCode::cancelled, "nothing repaired");
    }
  }
  const auto doc = json::parse(devx::start_bridge_doctor(*context, options).result());
  const auto& findings = doc.at("findings").as_array();
  if (out.json()) {
    out.document(doc);
  } else if (findings.empty()) {
    out.status("no bridge leftovers found");
  } else {
    std::string text;
    for (const auto& f : findings) {
      const auto& o = f.as_object();
      text += std::string(o.at("kind").as_string()) + "  " +
              std::string(o.at("object").as_string()) + "  " +
              std::string(o.at("message").as_string());
      if (const auto* r = o.if_contains("repair"))
        text += "  [" + std::string(r->as_string()) + "]";
      text += "\n";
    }
    out.result(text);
  }
  bool unrepaired = false;
  for (const auto& f : findings) {
    const auto* r = f.as_object().if_contains("repair");
    if (r == nullptr || r->as_string() != "repaired") unrepaired = true;
  }
  // Like other doctors: non-zero while something needs attention (conflict = 17).
  return unrepaired ? static_cast<int>(devx::ErrorCode::conflict) : 0;
}

int run_rbac(Output& out, const std::string& ns) {
  // The YAML alone on stdout, so `devx bridge rbac | kubectl apply -f -` works.
  out.status("# RBAC for devx bridge" +
             std::string(ns.empty() ? " (cluster-wide)" : " in namespace " + ns) +
             "; replace the subject before applying");
  if (out.json()) {
    out.document(json::object{{"v", 1}, {"yaml", devx::bridge_rbac_yaml(ns)}});
  } else {
    std::cout << devx::bridge_rbac_yaml(ns) << std::flush;
  }
  return 0;
}

}  // namespace

void add_bridge_commands(CLI::App& app, Cli& cli) {
  auto* bridge =
      app.add_subcommand("bridge", "Reach and intercept Services of a Kubernetes cluster");
  bridge->require_subcommand(1);

  auto connect = std::make_shared<ConnectFlags>();
  auto* c =
      bridge->add_subcommand("connect", "Forward remote Services to local ports until Ctrl-C");
  add_project_flags(*c, connect->project);
  add_kube_flags(*c, connect->kube);
  c->add_option("-t,--target", connect->targets,
                "SERVICE:PORT[:LOCAL_PORT] (repeatable; adds to bridge.targets)");
  c->callback([&cli, connect] {
    cli.action = [&cli, connect](Output& out) { return run_connect(cli, out, *connect); };
  });

  auto intercept = std::make_shared<InterceptFlags>();
  auto* i = bridge->add_subcommand("intercept",
                                   "Route a remote Service's traffic to local ports until Ctrl-C");
  add_project_flags(*i, intercept->project);
  add_kube_flags(*i, intercept->kube);
  i->add_option("service", intercept->service, "the Service to intercept")->required();
  i->add_option("-p,--port", intercept->ports,
                "REMOTE:LOCAL, REMOTE, or REMOTE:- to refuse (repeatable; default: every port to "
                "the same local port)");
  i->add_option("--agent-image", intercept->agent_image,
                "the agent image (default: bridge.agent_image or devx's)");
  i->add_option("--grace", intercept->grace,
                "how long the agent waits for a lost tunnel before restoring the Service")
      ->capture_default_str();
  i->add_option("--ready-timeout", intercept->ready_timeout,
                "how long to wait for the agent to be ready")
      ->capture_default_str();
  i->callback([&cli, intercept] {
    cli.action = [&cli, intercept](Output& out) { return run_intercept(cli, out, *intercept); };
  });

  auto* s = bridge->add_subcommand("status", "Show this machine's bridge sessions");
  s->callback([&cli] { cli.action = [](Output& out) { return run_status(out); }; });

  auto session = std::make_shared<std::string>();
  auto* d =
      bridge->add_subcommand("disconnect", "Stop bridge sessions (restoring what they changed)");
  d->add_option("session", *session, "session id (default: all)");
  d->callback([&cli, session] {
    cli.action = [session](Output& out) { return run_disconnect(out, *session); };
  });

  auto* e = bridge->add_subcommand("env", "Print the BRIDGE_* variables of the live forwards");
  e->callback([&cli] { cli.action = [](Output& out) { return run_env(out); }; });

  auto doctor = std::make_shared<DoctorFlags>();
  auto* doc = bridge->add_subcommand(
      "doctor", "Find (and --repair) what crashed sessions left in the cluster");
  add_project_flags(*doc, doctor->project);
  add_kube_flags(*doc, doctor->kube);
  doc->add_flag("-A,--all-namespaces", doctor->all_namespaces, "look in every namespace");
  doc->add_flag("--repair", doctor->repair, "restore hijacked Services and delete leftovers");
  doc->callback(
      [&cli, doctor] { cli.action = [doctor](Output& out) { return run_doctor(out, *doctor); }; });

  auto rbac_ns = std::make_shared<std::string>();
  auto* r = bridge->add_subcommand(
      "rbac", "Print the RBAC rules devx bridge needs (YAML for kubectl apply)");
  r->add_option("-n,--namespace", *rbac_ns, "a Role in this namespace (default: a ClusterRole)");
  r->callback(
      [&cli, rbac_ns] { cli.action = [rbac_ns](Output& out) { return run_rbac(out, *rbac_ns); }; });
}

}  // namespace devx::cli
