// vm init: resolve → (existing VM: report it, or replace it when asked and confirmed) → compile
// the dev machine config → create (podman: with the Ignition file) → start → make it the default
// → replay the config where the provider took none at creation → record. A failure after creation
// names the step and what was left; the VM is never removed behind the user's back.
#include <devx/error.hpp>
#include <devx/ignition.hpp>
#include <devx/vm.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "vm/ignition_replay.hpp"
#include "vm/lifecycle.hpp"
#include "vm/plan.hpp"
#include "vm/vm_record.hpp"

namespace devx {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string env_value(const Context& context, const std::string& key) {
  const auto it = context.env().find(key);
  return it == context.env().end() ? std::string() : it->second;
}

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The keys in the first readable of the usual public key files.
std::vector<std::string> default_ssh_keys(const Context& context) {
  const fs::path home = env_value(context, "HOME");
  if (home.empty()) return {};
  for (const auto* relative :
       {".local/share/containers/podman/machine/machine.pub", ".ssh/podman-machine-default.pub",
        ".ssh/id_ed25519.pub", ".ssh/id_rsa.pub"}) {
    const auto text = read_text(home / relative);
    if (!text) continue;
    std::vector<std::string> keys;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line.front() != '#') keys.push_back(line);
    }
    if (!keys.empty()) return keys;
  }
  return {};
}

// The Ignition file handed to `podman machine init`: it holds secrets, so it lives 0600 in a
// 0700 directory under DEVX_HOME and is deleted when this goes out of scope, on every path.
class PrivateIgnitionFile {
 public:
  PrivateIgnitionFile(const fs::path& home, const std::string& vm, const std::string& content) {
    static std::atomic<unsigned> counter{0};
    const auto dir = home / "vm" / "ignition";
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
    path_ =
        dir / (vm + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".ign");
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      throw Error(ErrorCode::io, "cannot create " + path_.string() + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < content.size()) {
      const auto n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0) {
        const int error = errno;
        ::close(fd);
        fs::remove(path_);
        throw Error(ErrorCode::io, "cannot write " + path_.string() + ": " + std::strerror(error));
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  ~PrivateIgnitionFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  PrivateIgnitionFile(const PrivateIgnitionFile&) = delete;
  PrivateIgnitionFile& operator=(const PrivateIgnitionFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string now_rfc3339(const Context& context) {
  const auto t = std::chrono::system_clock::to_time_t(context.clock().now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

class Init {
 public:
  Init(Context& context, const VmInitOptions& options, const vm::ResolvedVm& resolved,
       const vm::MachineState& state, OperationScope* scope)
      : context_(context), options_(options), r_(resolved), state_(state), scope_(scope) {}

  json::object run(vm::Plan& plan) {
    const auto& t = r_.target;
    const auto& p = *r_.provider;
    if (!p.creates_vm()) return adopt_engine(plan);

    std::optional<std::string> machine_key;
    const fs::path home = env_value(context_, "HOME");
    if (const auto identity = p.login_identity(home, t.name))
      step("create the machine's SSH key", [&] {
        if (home.empty() || home.is_relative())
          throw Error(ErrorCode::invalid_argument, "HOME is not set to an absolute path",
                      "the machine's SSH key is kept in ~/.ssh; set HOME");
        machine_key = ensure_key(plan, *identity);
      });
    DevMachineConfig config;
    step("compile the dev machine configuration", [&] { config = compile(machine_key); });
    const std::string ignition_mode = p.takes_ignition_at_creation() ? "at-creation" : "replayed";
    // Only now that the new configuration compiled is the old VM replaced.
    if (state_.exists)
      step("remove the existing VM",
           [&] { plan.command("remove existing VM " + t.name, p.remove_argv(t.name)); });

    step("create", [&] {
      const vm::MachineSizes sizes{options_.cpus, options_.memory_mb, options_.disk_gb};
      if (!p.takes_ignition_at_creation()) {
        plan.command("create VM " + t.name, p.create_argv(t.name, sizes, ""));
        return;
      }
      if (plan.dry_run()) {
        const auto path = (context_.home() / "vm" / "ignition" / (t.name + ".ign")).string();
        plan.note("file", "write the Ignition config (0600, deleted after use)", {{"path", path}});
        plan.command("create VM " + t.name + " with the Ignition config",
                     p.create_argv(t.name, sizes, path));
        return;
      }
      const PrivateIgnitionFile file(context_.home(), t.name,
                                     p.prepare_ignition(config.output.ignition));
      plan.command("create VM " + t.name + " with the Ignition config",
                   p.create_argv(t.name, sizes, file.path().string()));
      // The provider's copy holds the same secrets: restrict it to its owner.
      if (const auto copy = p.ignition_copy(context_, t.name)) {
        std::error_code ec;
        fs::permissions(*copy, fs::perms::owner_read | fs::perms::owner_write,
                        fs::perm_options::replace, ec);
        if (ec)
          throw Error(ErrorCode::io,
                      "cannot restrict " + copy->string() + " to its owner: " + ec.message(),
                      "it holds the tunnel credentials; chmod 600 it");
      }
    });
    created_ = true;
    write_record(plan, ignition_mode);

    if (!p.create_starts())
      step("start", [&] { plan.command("start " + t.name, p.start_argv(t.name)); });
    step("make it the default", [&] {
      auto argv = p.set_default_argv(context_, t.name, plan.dry_run());
      if (argv)
        plan.command("make " + t.name + " the default connection", *argv);
      else if (t.provider == "podman")
        warnings_.emplace_back(
            "podman registered no connection for " + t.name +
            " (podman 4.x adds none for a machine created with --ignition-path); reach it with "
            "`podman machine ssh " +
            t.name + "`");
    });
    json::object replay;
    if (!p.takes_ignition_at_creation())
      step("replay the dev machine configuration", [&] {
        replay = vm::replay_ignition(plan, p.transport(t.name), config.output.ignition);
      });
    json::object extra{{"created", true},
                       {"ignition", ignition_mode},
                       {"target", vm::target_json(t)},
                       {"warnings", warnings_}};
    if (!replay.empty()) extra["replay"] = std::move(replay);
    return extra;
  }

 private:
  template <typename F>
  void step(const std::string& name, F&& work) {
    if (scope_ != nullptr) {
      if (scope_->cancelled()) throw Error(ErrorCode::cancelled, "vm init cancelled");
      scope_->progress("vm", name);
    }
    try {
      work();
    } catch (const Error& e) {
      const auto& vm = r_.target.name;
      json::object details{{"step", name}, {"vm", vm}, {"created", created_}};
      std::string hint = e.hint();
      // podman registers the machine before it reads the Ignition file: a failed create can
      // still leave one behind.
      if (!created_ && name == "create" && !context_.dry_run()) {
        try {
          created_ = r_.provider->inspect(context_, vm).exists;
        } catch (const Error&) {
          // The original failure is what matters.
        }
        details["created"] = created_;
      }
      if (created_) {
        details["left"] = "VM '" + vm + "' exists and was left in place";
        hint = "VM '" + vm +
               "' was created and left in place: look at it with `devx vm status`, "
               "retry with `devx vm init --recreate -y`, or remove it with `devx vm teardown -y`";
        mark_failed(name);
      }
      throw Error(e.code(), "vm init: step '" + name + "' failed: " + e.message(), hint,
                  core::to_json_string(details))
          .with_cause(e);
    }
  }

  // The key pair the provider's ssh logs in with (podman: ~/.ssh/<name>, which podman 4.x does
  // not generate when it is handed an Ignition file). Returns its public key once it exists.
  std::optional<std::string> ensure_key(vm::Plan& plan, const fs::path& identity) {
    const auto pub = identity.string() + ".pub";
    if (!fs::exists(pub)) {
      if (!plan.dry_run()) {
        fs::create_directories(identity.parent_path());
        fs::permissions(identity.parent_path(), fs::perms::owner_all, fs::perm_options::replace);
      }
      // No passphrase: podman machine ssh runs non-interactively.
      plan.command("generate the machine's SSH key",
                   {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", r_.target.name, "-f",
                    identity.string()});
    }
    auto text = read_text(pub);
    if (!text) return std::nullopt;
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
    return text;
  }

  DevMachineConfig compile(const std::optional<std::string>& machine_key) {
    DevMachineValues values;
    values.hostname = r_.target.name;
    values.runtime = r_.provider->runtime();
    values.ssh_authorized_keys = options_.ssh_authorized_keys.empty()
                                     ? default_ssh_keys(context_)
                                     : options_.ssh_authorized_keys;
    if (machine_key &&
        std::find(values.ssh_authorized_keys.begin(), values.ssh_authorized_keys.end(),
                  *machine_key) == values.ssh_authorized_keys.end())
      values.ssh_authorized_keys.insert(values.ssh_authorized_keys.begin(), *machine_key);
    // podman machine ssh logs in with these keys only: without one the VM is unreachable.
    if (values.ssh_authorized_keys.empty() && r_.provider->takes_ignition_at_creation() &&
        !context_.dry_run())
      throw Error(ErrorCode::not_found, "no SSH public key for the VM's user",
                  "create one with `ssh-keygen -t ed25519`, or pass the keys to authorise");
    if (options_.tunnel) {
      const auto& tunnel = *options_.tunnel;
      if (tunnel.id.empty() || tunnel.hostname.empty())
        throw Error(ErrorCode::invalid_argument, "the tunnel needs an id and a hostname");
      const auto credentials = read_text(tunnel.credentials_file);
      if (!credentials)
        throw Error(ErrorCode::io,
                    "cannot read the tunnel credentials file " + tunnel.credentials_file,
                    "cloudflared writes it as ~/.cloudflared/<tunnel id>.json when it creates "
                    "the tunnel");
      values.tunnel_id = tunnel.id;
      values.tunnel_credentials_json = *credentials;
      values.tunnel_hostname = tunnel.hostname;
    }
    values.tailscale_auth_key = options_.tailscale_auth_key.empty()
                                    ? env_value(context_, "TS_AUTHKEY")
                                    : options_.tailscale_auth_key;
    return dev_machine_config(values);
  }

  json::object record(const std::string& ignition_mode) const {
    const auto& t = r_.target;
    json::array attachments;
    if (options_.tunnel)
      attachments.push_back(json::object{{"kind", "tunnel"},
                                         {"id", options_.tunnel->id},
                                         {"name", ""},
                                         {"hostname", options_.tunnel->hostname}});
    return json::object{{"v", 1},
                        {"name", t.name},
                        {"provider", t.provider},
                        {"runtime", t.runtime},
                        {"created_at", now_rfc3339(context_)},
                        {"cpus", options_.cpus},
                        {"memory_mb", options_.memory_mb},
                        {"disk_gb", options_.disk_gb},
                        {"ignition", ignition_mode},
                        {"attachments", std::move(attachments)}};
  }

  void write_record(vm::Plan& plan, const std::string& ignition_mode) {
    const auto path = (context_.home() / vm::record_key(r_.target.name)).string();
    plan.note("state", "record the VM", {{"path", path}});
    if (plan.dry_run()) return;
    vm::save_record(context_, record(ignition_mode));
    vm::set_current(context_, r_.target.name);
  }

  void mark_failed(const std::string& step) {
    if (context_.dry_run()) return;
    if (auto rec = vm::load_record(context_, r_.target.name)) {
      (*rec)["failed_step"] = step;
      vm::save_record(context_, *rec);
    }
  }

  // Docker Desktop, OrbStack, the host: nothing to create and no systemd to configure; the
  // engine must answer, and the VM is recorded for the name resolver and teardown.
  json::object adopt_engine(vm::Plan& plan) {
    const auto& t = r_.target;
    step("check the engine", [&] {
      if (!state_.running())
        throw Error(
            ErrorCode::unreachable,
            "the " + t.runtime + " engine of provider " + t.provider + " does not answer",
            t.provider == "host"
                ? "check `" + t.runtime + " info`"
                : "start " + std::string(t.provider == "docker" ? "Docker Desktop" : "OrbStack"));
    });
    write_record(plan, "not-applicable");
    return json::object{{"created", false},
                        {"ignition", "not-applicable"},
                        {"target", vm::target_json(t)},
                        {"note",
                         "no VM to create and no systemd to configure: the dev machine "
                         "units (tunnel, tailscale) are not applied with provider " +
                             t.provider},
                        {"warnings", json::array{}}};
  }

  Context& context_;
  const VmInitOptions& options_;
  const vm::ResolvedVm& r_;
  const vm::MachineState& state_;
  OperationScope* scope_;
  bool created_ = false;
  json::array warnings_;
};

std::string run_init(Context& context, const VmInitOptions& options, OperationScope& scope) {
  if (options.cpus < 0 || options.memory_mb < 0 || options.disk_gb < 0)
    throw Error(ErrorCode::invalid_argument, "VM sizes cannot be negative");
  scope.progress("vm", "resolve the provider and the VM name");
  const auto resolved = vm::resolve(context, options.vm);
  const auto& t = resolved.target;
  const auto state = resolved.provider->inspect(context, t.name);
  if (resolved.provider->creates_vm() && state.exists && !options.recreate) {
    vm::Plan plan(context, "vm.init", t.name, t.provider, context.dry_run());
    const auto record = vm::load_record(context, t.name);
    return plan.to_string(
        {{"created", false},
         {"ignition", record ? core::string_field(*record, "ignition") : std::string("unknown")},
         {"target", vm::target_json(t)},
         {"state", state.state},
         {"note", "VM '" + t.name +
                      "' already exists and was left as it is; pass recreate "
                      "(--recreate -y) to replace it"}});
  }
  if (resolved.provider->creates_vm() && state.exists && !options.vm.assume_yes &&
      !context.dry_run()) {
    vm::Plan preview(context, "vm.init", t.name, t.provider, true);
    Init(context, options, resolved, state, nullptr).run(preview);
    throw Error(ErrorCode::prompt_required, "replacing VM '" + t.name + "' needs confirmation",
                "pass -y (assume_yes) together with recreate",
                core::to_json_string(json::object{
                    {"confirm", "Remove VM '" + t.name + "' (" + t.provider +
                                    ") and everything inside it, then create it again?"},
                    {"plan", preview.document()}}));
  }
  vm::Plan plan(context, "vm.init", t.name, t.provider, context.dry_run());
  plan.set_stop(scope.stop_token());
  auto extra = Init(context, options, resolved, state, &scope).run(plan);
  return plan.to_string(std::move(extra));
}

}  // namespace

Operation start_vm_init(Context& context, VmInitOptions options) {
  return context.start("vm.init", [&context, options = std::move(options)](OperationScope& scope) {
    return run_init(context, options, scope);
  });
}

}  // namespace devx
