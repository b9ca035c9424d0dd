// devx vm init|start|stop|sleep|status|resize|teardown|ssh|sleep-watch|providers|ignition|
// apply-ignition — the dev VM (docs/vm.md). --provider and --name belong to the group and to every
// subcommand; the library resolves what they leave open, and the CLI asks a person at a terminal
// when the library cannot decide alone (which provider; confirming a destructive step).
#include <devx/ignition.hpp>
#include <devx/supervisor.hpp>
#include <devx/vm.hpp>

#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <array>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/plan_output.hpp"
#include "commands/vm_flags.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

std::string read_input(const std::string& path, std::string_view what) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw devx::Error(devx::ErrorCode::io, "cannot read " + std::string(what) + " " + path,
                      "check that the file exists and is readable");
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// The OpenSSH public keys of each --ssh-key FILE (one per non-comment line). A private key is
// refused: it must never be copied into a VM's configuration.
std::vector<std::string> read_public_keys(const std::vector<std::string>& files) {
  std::vector<std::string> keys;
  for (const auto& file : files) {
    std::istringstream lines(read_input(file, "SSH key file"));
    std::size_t found = 0;
    for (std::string line; std::getline(lines, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      const auto start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      if (line.compare(start, 10, "-----BEGIN") == 0) {
        throw devx::Error(devx::ErrorCode::invalid_argument,
                          "--ssh-key " + file + " is a private key",
                          "pass the public key (the .pub file next to it)");
      }
      keys.push_back(line.substr(start));
      ++found;
    }
    if (found == 0) {
      throw devx::Error(devx::ErrorCode::invalid_argument,
                        "--ssh-key " + file + " holds no public key",
                        "pass an OpenSSH public key file such as ~/.ssh/id_ed25519.pub");
    }
  }
  return keys;
}

// The numbered choice among the providers the library found. Only for a person at a terminal
// who did not pass -y; otherwise the library's error (naming the candidates and --provider)
// stands.
std::string choose_provider(Output& out, devx::Context& context, const devx::Error& error) {
  const json::object details = error_details(error);
  const auto* candidates = details.if_contains("candidates");
  if (out.options().yes || ::isatty(STDIN_FILENO) != 1 || candidates == nullptr ||
      !candidates->is_array() || candidates->as_array().empty()) {
    throw error;
  }
  std::vector<std::string> names;
  std::string menu = "Several VM providers are available:\n";
  for (const auto& candidate : candidates->as_array()) {
    std::string name =
        candidate.is_string() ? std::string(candidate.as_string()) : json_text(candidate, "name");
    if (name.empty()) continue;
    const std::string version = json_text(candidate, "version");
    menu += "  " + std::to_string(names.size() + 1) + ") " + name +
            (version.empty() ? "" : "  (" + version + ")") + "\n";
    names.push_back(std::move(name));
  }
  if (names.empty()) throw error;
  std::cerr << menu;
  for (;;) {
    std::cerr << "Choose a provider [1-" << names.size() << "]: " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) {
      throw devx::Error(devx::ErrorCode::cancelled, "no provider chosen",
                        "pass --provider " + names.front() + " (or another)");
    }
    std::size_t choice = 0;
    try {
      std::size_t used = 0;
      choice = std::stoul(answer, &used);
      if (used != answer.size()) choice = 0;
    } catch (const std::exception&) {
      choice = 0;
    }
    if (choice >= 1 && choice <= names.size()) {
      const std::string& chosen = names[choice - 1];
      std::cerr << "Save " << chosen << " as the default provider? [y/N] " << std::flush;
      std::string save;
      if (std::getline(std::cin, save) && (save == "y" || save == "Y" || save == "yes")) {
        devx::save_default_provider(context, chosen);
        out.status("saved: " + chosen + " is the default provider");
      }
      return chosen;
    }
    std::cerr << "please answer a number from 1 to " << names.size() << "\n";
  }
}

// Calls `call(options)` and settles what the library asks back: which provider (a choice at the
// terminal) and confirmations of destructive steps (a question, or -y). A dry run changes
// nothing, so it needs no confirmation.
template <typename Call>
auto with_vm_prompts(Output& out, devx::Context& context, devx::VmOptions& options, Call&& call)
    -> decltype(call(options)) {
  for (int round = 0;; ++round) {
    try {
      return call(options);
    } catch (const devx::Error& e) {
      if (e.code() != devx::ErrorCode::prompt_required || round >= 3) throw;
      const json::object details = error_details(e);
      if (details.contains("candidates") && options.provider.empty()) {
        options.provider = choose_provider(out, context, e);
        continue;
      }
      if (options.assume_yes || !details.contains("confirm")) throw;
      if (!context.dry_run() && !confirm_library_prompt(out, e)) throw;
      options.assume_yes = true;
    }
  }
}

// A short text for one JSON value in a key/value block.
std::string brief(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return std::string(value.get_string());
    case json::kind::bool_:
      return value.get_bool() ? "yes" : "no";
    case json::kind::null:
      return "-";
    case json::kind::array: {
      std::string text;
      for (const auto& item : value.get_array()) text += (text.empty() ? "" : ", ") + brief(item);
      return text.empty() ? "none" : text;
    }
    case json::kind::object: {
      // A step of a result: what it did, its outcome.
      if (std::string step = json_text(value, "step"); !step.empty()) {
        const auto* ok = value.as_object().if_contains("ok");
        const bool failed = ok != nullptr && ok->is_bool() && !ok->get_bool();
        const std::string detail = json_text(value, failed ? "error" : "detail");
        return step + (failed ? ": FAILED" : "") + (detail.empty() ? "" : ": " + detail);
      }
      for (const char* key : {"hostname", "name", "id", "path", "description", "kind"}) {
        if (std::string text = json_text(value, key); !text.empty()) return text;
      }
      return json::serialize(value);
    }
    default:
      return json::serialize(value);
  }
}

// A mutating command's result: a summary line on stderr and the key facts on stdout (--json: the
// document; a dry run: its plan).
int report_result(Output& out, const std::string& result_json, std::string_view done) {
  const json::value doc = json::parse(result_json);
  const auto& object = doc.as_object();
  if (const auto* dry = object.if_contains("dry_run");
      dry != nullptr && dry->is_bool() && dry->get_bool()) {
    print_plan(out, doc);
    return 0;
  }
  if (out.json()) {
    out.document(doc);
    return 0;
  }
  const json::value vm = object.contains("vm") ? object.at("vm") : json::value(json::object());
  const std::string name = json_text(vm, "name");
  const std::string provider = json_text(vm, "provider");
  out.status(out.paint(Style::green, "✓") + " VM " + name + " (" + provider + ") " +
             std::string(done));
  for (const auto& line : plan_action_lines(doc)) {
    out.verbose(1, "ran: " + line.substr(line.find(": ") + 2));
  }
  std::vector<std::vector<std::string>> rows{{"vm", name}, {"provider", provider}};
  for (const auto& [key, value] : object) {
    if (key == "v" || key == "operation" || key == "vm" || key == "dry_run" || key == "actions") {
      continue;
    }
    if (key == "warnings" && value.is_array()) {
      for (const auto& warning : value.get_array()) {
        out.status(out.paint(Style::yellow, "warning:") + " " + brief(warning));
      }
      continue;
    }
    // A list of steps or attachments: one row each, the key on the first.
    if (value.is_array() && !value.get_array().empty() && value.get_array().front().is_object()) {
      std::string label(key);
      for (const auto& item : value.get_array()) {
        rows.push_back({label, brief(item)});
        label.clear();
      }
      continue;
    }
    rows.push_back({std::string(key), brief(value)});
  }
  out.result(aligned_columns(rows));
  return 0;
}

// ---- init ----

struct InitFlags {
  bool recreate = false;
  int cpus = 0;
  int memory_mb = 0;
  int disk_gb = 0;
  std::vector<std::string> ssh_keys;
  std::string tunnel_id;
  std::string tunnel_credentials;
  std::string tunnel_hostname;
};

int run_init(Cli& cli, Output& out, const VmFlags& vm_flags, const InitFlags& flags) {
  devx::VmInitOptions base;
  base.recreate = flags.recreate;
  base.cpus = flags.cpus;
  base.memory_mb = flags.memory_mb;
  base.disk_gb = flags.disk_gb;
  base.ssh_authorized_keys = read_public_keys(flags.ssh_keys);
  const int tunnel_parts = static_cast<int>(!flags.tunnel_id.empty()) +
                           static_cast<int>(!flags.tunnel_credentials.empty()) +
                           static_cast<int>(!flags.tunnel_hostname.empty());
  if (tunnel_parts != 0 && tunnel_parts != 3) {
    throw devx::Error(devx::ErrorCode::invalid_argument,
                      "a tunnel needs --tunnel-id, --tunnel-credentials and --tunnel-hostname",
                      "pass all three, or none to create the VM without a tunnel");
  }
  if (tunnel_parts == 3) {
    base.tunnel = devx::VmTunnelAttachment{
        flags.tunnel_id, std::filesystem::absolute(flags.tunnel_credentials).string(),
        flags.tunnel_hostname};
  }
  // The Tailscale key is taken from $TS_AUTHKEY by the library: it never appears in argv.
  auto context = make_context(out.options());
  auto options = vm_options(out, vm_flags);
  const auto result = with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
    devx::VmInitOptions init = base;
    init.vm = o;
    return run_in_foreground(cli, out, devx::start_vm_init(*context, init), "vm");
  });
  const json::value doc = json::parse(result);
  const auto* created = doc.as_object().if_contains("created");
  const bool was_created = created != nullptr && created->is_bool() && created->get_bool();
  return report_result(out, result,
                       was_created ? "created and started"
                                   : "already exists; left as it is (--recreate replaces it)");
}

// ---- status / providers ----

int run_status(Output& out, const VmFlags& flags) {
  auto context = make_context(out.options());
  auto options = vm_options(out, flags);
  const json::value doc =
      json::parse(with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
        return devx::vm_status(*context, o);
      }));
  if (out.json()) {
    out.document(doc);
    return 0;
  }
  const json::value& vm = doc.at("vm");
  const std::string state = json_text(vm, "state");
  const Style state_style = state == "running"       ? Style::green
                            : state == "not-created" ? Style::red
                                                     : Style::yellow;
  std::vector<std::vector<std::string>> rows{
      {"VM", json_text(vm, "name")},
      {"provider", json_text(vm, "provider")},
      {"state", out.paint(state_style, state.empty() ? "unknown" : state, true)}};
  const auto& fields = vm.as_object();
  if (const auto* cpus = fields.if_contains("cpus")) rows.push_back({"cpus", brief(*cpus)});
  if (const auto* memory = fields.if_contains("memory_mb")) {
    rows.push_back({"memory", brief(*memory) + " MB"});
  }
  if (const auto* disk = fields.if_contains("disk_gb"))
    rows.push_back({"disk", brief(*disk) + " GB"});
  for (const char* key : {"tunnel", "mesh"}) {
    const auto* value = doc.as_object().if_contains(key);
    rows.push_back({key, value == nullptr || value->is_null() ? "none" : brief(*value)});
  }
  out.result(aligned_columns(rows));
  return 0;
}

int run_providers(Output& out) {
  auto context = make_context(out.options());
  const json::value doc = json::parse(devx::detect_vm_providers(*context));
  if (out.json()) {
    out.document(doc);
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"PROVIDER", "AVAILABLE", "VERSION", "PATH", "NOTE"}};
  for (const auto& provider : doc.at("providers").as_array()) {
    const auto* available = provider.as_object().if_contains("available");
    const bool yes = available != nullptr && available->is_bool() && available->get_bool();
    auto cell = [](std::string text) { return text.empty() ? std::string("-") : text; };
    rows.push_back({json_text(provider, "name"), yes ? "yes" : "no",
                    cell(json_text(provider, "version")), cell(json_text(provider, "path")),
                    json_text(provider, "note")});
  }
  out.result(aligned_columns(rows));
  out.status("platform: " + json_text(doc, "platform"));
  return 0;
}

// ---- start / stop / sleep / resize / teardown / apply-ignition ----

using VmCall = std::string (*)(devx::Context&, const devx::VmOptions&);

int run_simple(Output& out, const VmFlags& flags, VmCall call, std::string_view done) {
  auto context = make_context(out.options());
  auto options = vm_options(out, flags);
  const auto result = with_vm_prompts(out, *context, options,
                                      [&](const devx::VmOptions& o) { return call(*context, o); });
  return report_result(out, result, done);
}

struct ResizeFlags {
  int cpus = 0;
  int memory_mb = 0;
  int disk_gb = 0;
};

int run_resize(Output& out, const VmFlags& vm_flags, const ResizeFlags& flags) {
  auto context = make_context(out.options());
  auto options = vm_options(out, vm_flags);
  const auto result = with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
    devx::VmResizeOptions resize;
    resize.vm = o;
    resize.cpus = flags.cpus;
    resize.memory_mb = flags.memory_mb;
    resize.disk_gb = flags.disk_gb;
    return devx::vm_resize(*context, resize);
  });
  return report_result(out, result, "resized");
}

int run_teardown(Output& out, const VmFlags& vm_flags, bool keep_attachments) {
  auto context = make_context(out.options());
  auto options = vm_options(out, vm_flags);
  const auto result = with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
    devx::VmTeardownOptions teardown;
    teardown.vm = o;
    teardown.keep_attachments = keep_attachments;
    return devx::vm_teardown(*context, teardown);
  });
  return report_result(out, result, keep_attachments ? "removed (attachments kept)" : "removed");
}

int run_apply_ignition(Output& out, const VmFlags& flags, const std::string& file) {
  const std::string ignition = read_input(file, "Ignition file");
  auto context = make_context(out.options());
  auto options = vm_options(out, flags);
  const auto result = with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
    return devx::vm_apply_ignition(*context, o, ignition);
  });
  return report_result(out, result, "configured from " + file);
}

// ---- ssh ----

// Replaces devx by the provider's shell command: the terminal, its signals and the exit status
// belong to that command (and through it to the remote one).
int run_ssh(Output& out, const VmFlags& flags, const std::vector<std::string>& command) {
  auto context = make_context(out.options());
  auto options = vm_options(out, flags);
  const auto argv = with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
    return devx::vm_ssh_argv(*context, o, command);
  });
  return run_in_place_of_devx(out, *context, "vm.ssh", "open a shell in the VM", argv);
}

// ---- sleep-watch ----

struct SleepWatchFlags {
  int interval_s = 60;
  int idle_polls = 3;
};

int run_sleep_watch(Cli& cli, Output& out, const VmFlags& vm_flags, const SleepWatchFlags& flags) {
  auto context = make_context(out.options());
  auto options = vm_options(out, vm_flags);
  // Human output shows a line, with the time, when the state or the container count changes.
  auto last = std::make_shared<std::string>();
  auto on_state = [last](const devx::Event& e) -> std::string {
    json::error_code ec;
    const json::value data = json::parse(e.data_json, ec);
    if (!ec && data.is_object()) {
      const auto* containers = data.as_object().if_contains("containers");
      const std::string key =
          json_text(data, "state") + "/" + (containers != nullptr ? brief(*containers) : "");
      if (key == *last) return {};
      *last = key;
    }
    const std::time_t seconds = static_cast<std::time_t>(e.time_ms / 1000);
    std::tm local{};
    std::array<char, 16> clock{};
    if (::localtime_r(&seconds, &local) == nullptr ||
        std::strftime(clock.data(), clock.size(), "%H:%M:%S", &local) == 0) {
      return e.message;
    }
    return std::string(clock.data()) + " " + e.message;
  };
  out.status("watching the VM every " + std::to_string(flags.interval_s) + " s; it sleeps after " +
             std::to_string(flags.idle_polls) + " idle polls in a row (Ctrl-C stops watching)");
  try {
    const auto result = with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
      devx::VmSleepWatchOptions watch;
      watch.vm = o;
      watch.interval = std::chrono::seconds(flags.interval_s);
      watch.idle_polls = flags.idle_polls;
      return run_in_foreground(cli, out, devx::start_vm_sleep_watch(*context, watch), "sleep-watch",
                               out.json(), on_state);
    });
    const json::value doc = json::parse(result);
    if (doc.as_object().contains("actions")) return report_result(out, result, "watched");
    if (out.json()) std::cout << result << '\n' << std::flush;
    return 0;
  } catch (const devx::Error& e) {
    // Ctrl-C is how a watch normally ends.
    if (e.code() == devx::ErrorCode::cancelled && cli.cancel->signal() != 0) {
      out.status("sleep-watch stopped");
      return 0;
    }
    throw;
  }
}

// ---- ignition ----

struct IgnitionFlags {
  std::string hostname;
  std::vector<std::string> ssh_keys;
};

int run_ignition(Output& out, const VmFlags& vm_flags, const IgnitionFlags& flags) {
  devx::DevMachineValues values;
  values.ssh_authorized_keys = read_public_keys(flags.ssh_keys);
  values.hostname = flags.hostname;
  // The VM's name and engine come from the resolver unless a hostname settles the question
  // without it (then the engine follows --provider, podman by default).
  if (values.hostname.empty() || !vm_flags.provider.empty()) {
    auto context = make_context(out.options());
    auto options = vm_options(out, vm_flags);
    const auto target = with_vm_prompts(out, *context, options, [&](const devx::VmOptions& o) {
      return devx::resolve_vm(*context, o);
    });
    if (values.hostname.empty()) values.hostname = target.name;
    values.runtime = target.runtime == "docker" ? "docker" : "podman";
  }
  const auto config = devx::dev_machine_config(values);
  out.diagnostics(diagnostic_lines(config.output.warnings));
  if (out.json()) {
    out.document(json::object{{"v", 1},
                              {"hostname", values.hostname},
                              {"ignition_version", config.output.ignition_version},
                              {"ignition", json::parse(config.output.ignition)}});
    return 0;
  }
  std::cout << config.output.ignition << std::flush;
  return 0;
}

}  // namespace

void add_vm_commands(CLI::App& app, Cli& cli) {
  auto* vm = app.add_subcommand("vm", "The dev VM: create, start, stop, inspect and remove it");
  vm->require_subcommand(1);
  auto vm_flags = std::make_shared<VmFlags>();
  vm->add_option("--provider", vm_flags->provider,
                 "podman, lima, colima, docker, orbstack or host (default: DEVX_HOME/config.yaml, "
                 "devx.yaml, then detection)");
  vm->add_option("--name", vm_flags->name,
                 "the VM (default: $DEVX_VM_NAME, the VM recorded by init, <user>-dev-machine)");
  // Subcommands pass the group's options up, so they may also follow the subcommand.
  auto sub = [vm](const char* name, const char* description) {
    auto* command = vm->add_subcommand(name, description);
    command->fallthrough();
    return command;
  };

  auto init = std::make_shared<InitFlags>();
  auto* i = sub("init", "Create the VM with devx's configuration and start it");
  i->add_flag("--recreate", init->recreate, "replace an existing VM (asks; -y confirms)");
  i->add_option("--cpus", init->cpus, "CPUs (default: the provider's)")->check(CLI::PositiveNumber);
  i->add_option("--memory", init->memory_mb, "memory in MB")->check(CLI::PositiveNumber);
  i->add_option("--disk", init->disk_gb, "disk in GB")->check(CLI::PositiveNumber);
  i->add_option("--ssh-key", init->ssh_keys,
                "public key FILE authorised for the VM's user (repeatable; default: the usual "
                "~/.ssh/*.pub)");
  i->add_option("--tunnel-id", init->tunnel_id, "Cloudflare Tunnel UUID run inside the VM");
  i->add_option("--tunnel-credentials", init->tunnel_credentials,
                "the tunnel's credentials FILE (cloudflared's <id>.json)");
  i->add_option("--tunnel-hostname", init->tunnel_hostname, "public hostname of the tunnel");
  i->footer("The Tailscale auth key is read from $TS_AUTHKEY (never from the command line).");
  i->callback([&cli, vm_flags, init] {
    cli.action = [&cli, vm_flags, init](Output& out) {
      return run_init(cli, out, *vm_flags, *init);
    };
  });

  struct Simple {
    const char* name;
    const char* description;
    VmCall call;
    const char* done;
  };
  for (const Simple& s :
       {Simple{"start", "Start the VM", &devx::vm_start, "running"},
        Simple{"stop", "Stop the VM", &devx::vm_stop, "stopped"},
        Simple{"sleep", "Put the VM to sleep where the provider can", &devx::vm_sleep, "asleep"}}) {
    auto* command = sub(s.name, s.description);
    command->callback([&cli, vm_flags, s] {
      cli.action = [vm_flags, s](Output& out) {
        return run_simple(out, *vm_flags, s.call, s.done);
      };
    });
  }

  sub("status", "Show the VM, its state, size, tunnel and mesh node")->callback([&cli, vm_flags] {
    cli.action = [vm_flags](Output& out) { return run_status(out, *vm_flags); };
  });

  auto resize = std::make_shared<ResizeFlags>();
  auto* r = sub("resize", "Change CPUs, memory or disk (restarts a running VM)");
  r->add_option("--cpus", resize->cpus, "CPUs")->check(CLI::PositiveNumber);
  r->add_option("--memory", resize->memory_mb, "memory in MB")->check(CLI::PositiveNumber);
  r->add_option("--disk", resize->disk_gb, "disk in GB")->check(CLI::PositiveNumber);
  r->callback([&cli, vm_flags, resize] {
    cli.action = [vm_flags, resize](Output& out) { return run_resize(out, *vm_flags, *resize); };
  });

  auto keep_attachments = std::make_shared<bool>(false);
  auto* t = sub("teardown", "Remove the VM and its tunnel, DNS records and mesh node (asks)");
  t->add_flag("--keep-attachments", *keep_attachments,
              "leave the recorded tunnel, DNS records and mesh node alone");
  t->callback([&cli, vm_flags, keep_attachments] {
    cli.action = [vm_flags, keep_attachments](Output& out) {
      return run_teardown(out, *vm_flags, *keep_attachments);
    };
  });

  auto command = std::make_shared<std::vector<std::string>>();
  auto* s = sub("ssh", "Open a shell in the VM, or run a command there (-- CMD…)");
  s->add_option("command", *command, "the command and its arguments, after --");
  s->callback([&cli, vm_flags, command] {
    cli.action = [vm_flags, command](Output& out) { return run_ssh(out, *vm_flags, *command); };
  });

  auto watch = std::make_shared<SleepWatchFlags>();
  auto* w = sub("sleep-watch", "Put the VM to sleep when no containers run (until Ctrl-C)");
  w->add_option("-i,--interval", watch->interval_s, "seconds between polls")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  w->add_option("--idle-polls", watch->idle_polls, "idle polls in a row before sleeping")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  w->callback([&cli, vm_flags, watch] {
    cli.action = [&cli, vm_flags, watch](Output& out) {
      return run_sleep_watch(cli, out, *vm_flags, *watch);
    };
  });

  sub("providers", "Which VM providers this machine has")->callback([&cli] {
    cli.action = [](Output& out) { return run_providers(out); };
  });

  auto ignition = std::make_shared<IgnitionFlags>();
  auto* g = sub("ignition", "Print the VM's built-in Ignition config (no tunnel or mesh secrets)");
  g->add_option("--hostname", ignition->hostname, "the VM's hostname (default: the VM name)");
  g->add_option("--ssh-key", ignition->ssh_keys, "public key FILE for the core user (repeatable)")
      ->required();
  g->callback([&cli, vm_flags, ignition] {
    cli.action = [vm_flags, ignition](Output& out) {
      return run_ignition(out, *vm_flags, *ignition);
    };
  });

  auto file = std::make_shared<std::string>();
  auto* a = sub("apply-ignition", "Replay an Ignition config into the running VM");
  a->add_option("file", *file, "the Ignition JSON file (- for stdin)")->required();
  a->callback([&cli, vm_flags, file] {
    cli.action = [vm_flags, file](Output& out) {
      return run_apply_ignition(out, *vm_flags, *file);
    };
  });
}

}  // namespace devx::cli
