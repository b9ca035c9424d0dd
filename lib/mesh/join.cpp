// `mesh join`: the VM's node joins the tailnet with a pre-auth key and is verified before it is
// recorded.
#include <devx/error.hpp>
#include <devx/mesh.hpp>

#include <boost/json/array.hpp>

#include <regex>

#include "core/json.hpp"
#include "mesh/auth_key.hpp"
#include "mesh/tailscale_cli.hpp"
#include "vm/plan.hpp"
#include "vm/provider.hpp"

namespace devx {
namespace {

namespace json = boost::json;

void validate(const MeshJoinOptions& options) {
  if (options.timeout < std::chrono::seconds(1))
    throw Error(ErrorCode::invalid_argument, "the mesh join timeout must be at least 1 s");
  if (options.poll_interval <= std::chrono::milliseconds(0))
    throw Error(ErrorCode::invalid_argument, "the mesh status poll interval must be positive");
  static const std::regex kLabel("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  if (!options.hostname.empty() && !std::regex_match(options.hostname, kLabel))
    throw Error(ErrorCode::invalid_argument,
                "mesh hostname '" + options.hostname + "' is not a DNS label",
                "use 1-63 lowercase letters, digits and '-', not starting or ending with '-'");
}

// Writes the key from stdin to a temporary file beside the target and renames it into place, so
// tailscale never reads a half-written key; umask 077 keeps it 0600 from the first byte.
std::string write_key_script() {
  const std::string path(mesh::auth_key_path);
  return "umask 077 && mkdir -p /etc/devx/tailscale && cat > " + path + ".tmp && chmod 600 " +
         path + ".tmp && mv -f " + path + ".tmp " + path;
}

json::object attachment_for(const json::object& node, const std::string& hostname,
                            const Context& context) {
  const auto id = core::string_field(node, "id");
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(context.clock().now().time_since_epoch())
          .count();
  return json::object{
      {"kind", "mesh"},        {"node", id.empty() ? core::string_field(node, "dns_name") : id},
      {"hostname", hostname},  {"dns_name", core::string_field(node, "dns_name")},
      {"ips", node.at("ips")}, {"joined_at", seconds}};
}

// What is still missing before the node counts as joined, or "" when nothing is.
std::string missing(const mesh::TailscaleStatus& status) {
  if (status.backend_state != "Running") return "BackendState is " + status.backend_state;
  if (!status.self_online()) return "the node is not online";
  if (status.self_ipv4().empty()) return "the node has no Tailscale IPv4 address (100.64.0.0/10)";
  return {};
}

class Join {
 public:
  Join(Context& context, const MeshJoinOptions& options, OperationScope& scope)
      : context_(context), options_(options), scope_(scope) {}

  std::string run() {
    validate(options_);
    const auto vm = mesh::resolve_running_vm(context_, options_.vm);
    const auto& t = vm.target;
    const std::string hostname = options_.hostname.empty() ? t.name : options_.hostname;
    vm::Plan plan(context_, "mesh.join", t.name, t.provider, context_.dry_run());
    plan.set_stop(scope_.stop_token());

    scope_.progress("mesh", "reading the node's state");
    const auto before = mesh::query_status(context_, vm, scope_.stop_token());
    if (missing(before).empty() && before.self &&
        core::string_field(*before.self, "hostname") == hostname) {
      record(plan, t.name, *before.self, hostname);
      return plan.to_string(
          {{"result", "already-joined"}, {"key_source", nullptr}, {"node", *before.self}});
    }

    const auto key = mesh::resolve_auth_key(context_, options_.auth_key, options_.vm.project_dir);
    scope_.progress("mesh", "handing the auth key to the VM");
    plan.command("write the auth key to " + std::string(mesh::auth_key_path) + " (0600)",
                 mesh::vm_root_argv(vm, {"sh", "-c", write_key_script()}), key.value + "\n",
                 std::chrono::seconds(60));

    scope_.progress("mesh", "joining the tailnet as " + hostname);
    std::vector<std::string> up = {"up", "--auth-key=file:" + std::string(mesh::auth_key_path),
                                   "--hostname=" + hostname,
                                   "--timeout=" + std::to_string(options_.timeout.count()) + "s"};
    if (options_.accept_routes) up.emplace_back("--accept-routes");
    const auto up_argv = mesh::tailscale_argv(vm, up);
    const auto joined = plan.try_command("tailscale up as " + hostname, up_argv, std::nullopt,
                                         options_.timeout + std::chrono::seconds(30));
    // tailscaled keeps its own node state; the key is not needed once `up` has read it. The
    // removal runs even when the join was cancelled, so it does not use the plan's stop token.
    const auto remove_argv = mesh::vm_root_argv(vm, {"rm", "-f", std::string(mesh::auth_key_path)});
    plan.note("command", "remove the auth key file",
              {{"argv", json::array(remove_argv.begin(), remove_argv.end())}});
    CommandResult removed;
    removed.exit_code = 0;
    if (!plan.dry_run()) {
      CommandSpec spec;
      spec.argv = remove_argv;
      spec.timeout = std::chrono::seconds(60);
      removed = context_.commands().run(spec);
    }
    if (!joined.ok()) {
      auto error = vm::command_error("tailscale up", up_argv, joined);
      if (error.code() == ErrorCode::cancelled) throw error;
      throw Error(error.code(), error.message(),
                  "check that the key (from " + key.source +
                      ") is valid, not expired, and reusable if it was used before",
                  error.details_json());
    }
    if (!removed.ok())
      scope_.emit(Event{EventType::warning, 0, "mesh",
                        "could not remove " + std::string(mesh::auth_key_path) + " from the VM",
                        LogLevel::warn, ""});

    const auto status_argv = mesh::tailscale_argv(vm, {"status", "--json"});
    if (plan.dry_run()) {
      plan.note("command", "wait until tailscale reports BackendState Running, online, with an IP",
                {{"argv", json::array(status_argv.begin(), status_argv.end())}});
      plan.note("state", "record the node as a mesh attachment of VM " + t.name);
      return plan.to_string({{"result", "would-join"},
                             {"key_source", key.source},
                             {"node", nullptr},
                             {"hostname", hostname}});
    }
    const auto status = wait_until_connected(vm);
    record(plan, t.name, *status.self, hostname);
    return plan.to_string(
        {{"result", "joined"}, {"key_source", key.source}, {"node", *status.self}});
  }

 private:
  mesh::TailscaleStatus wait_until_connected(const vm::ResolvedVm& vm) {
    scope_.progress("mesh", "waiting for the node to connect");
    const auto deadline = context_.clock().steady_now() + options_.timeout;
    std::string last_state;
    bool told_about_approval = false;
    while (true) {
      auto status = mesh::query_status(context_, vm, scope_.stop_token());
      const auto gap = missing(status);
      if (gap.empty()) return status;
      if (status.backend_state == "NeedsLogin")
        throw Error(ErrorCode::permission_denied,
                    "the tailnet did not accept the node: tailscale is logged out again",
                    "the auth key may be expired, revoked or already used; create a new one");
      if (status.backend_state == "NeedsMachineAuth" && !told_about_approval) {
        told_about_approval = true;
        scope_.progress("mesh", "waiting for an admin to approve the device in the tailnet");
      }
      if (status.backend_state != last_state) {
        last_state = status.backend_state;
        scope_.emit(Event{EventType::state, 0, "mesh", "tailscale: " + last_state, LogLevel::info,
                          core::to_json_string(json::object{{"backend_state", last_state}})});
      }
      if (context_.clock().steady_now() >= deadline)
        throw Error(ErrorCode::timeout,
                    "the node did not connect within " + std::to_string(options_.timeout.count()) +
                        " s: " + gap,
                    status.backend_state == "NeedsMachineAuth"
                        ? "approve the device in the Tailscale admin console, then run `devx mesh "
                          "join` again"
                        : "see `devx mesh status` and `devx exec tailscale status`",
                    core::to_json_string(json::object{{"backend_state", status.backend_state}}));
      if (!context_.clock().sleep_for(options_.poll_interval, scope_.stop_token()))
        throw Error(ErrorCode::cancelled, "mesh join cancelled while waiting for the node");
    }
  }

  void record(vm::Plan& plan, const std::string& vm_name, const json::object& node,
              const std::string& hostname) {
    if (plan.dry_run()) {
      plan.note("state", "record the node as a mesh attachment of VM " + vm_name);
      return;
    }
    if (!mesh::set_recorded_node(context_, vm_name, attachment_for(node, hostname, context_)))
      scope_.emit(Event{EventType::warning, 0, "mesh",
                        "VM " + vm_name +
                            " has no devx record (it was not created by `devx vm init`), so "
                            "`devx vm teardown` will not log the node out",
                        LogLevel::warn, ""});
    else
      plan.note("state", "recorded the node as a mesh attachment of VM " + vm_name);
  }

  Context& context_;
  const MeshJoinOptions& options_;
  OperationScope& scope_;
};

}  // namespace

Operation start_mesh_join(Context& context, MeshJoinOptions options) {
  return context.start("mesh.join",
                       [&context, options = std::move(options)](OperationScope& scope) {
                         return Join(context, options, scope).run();
                       });
}

}  // namespace devx
