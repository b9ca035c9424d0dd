#include "mesh/tailscale_cli.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <charconv>

#include "core/json.hpp"
#include "vm/lifecycle.hpp"
#include "vm/provider.hpp"
#include "vm/vm_record.hpp"

namespace devx::mesh {

namespace json = boost::json;

namespace {

std::string string_or_empty(const json::object& o, std::string_view key) {
  return core::string_field(o, key);
}

bool bool_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::string without_trailing_dot(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// A PeerStatus of `tailscale status --json` in the shape mesh.hpp documents.
json::object node_from(const json::object& peer) {
  json::array ips;
  if (const auto* list = peer.if_contains("TailscaleIPs"); list && list->is_array())
    for (const auto& ip : list->as_array())
      if (ip.is_string()) ips.emplace_back(ip.get_string());
  return json::object{{"id", string_or_empty(peer, "ID")},
                      {"hostname", string_or_empty(peer, "HostName")},
                      {"dns_name", without_trailing_dot(string_or_empty(peer, "DNSName"))},
                      {"ips", std::move(ips)},
                      {"os", string_or_empty(peer, "OS")},
                      {"online", bool_field(peer, "Online")},
                      {"exit_node", bool_field(peer, "ExitNode")},
                      {"relay", string_or_empty(peer, "Relay")}};
}

}  // namespace

vm::ResolvedVm resolve_running_vm(Context& context, const VmOptions& options) {
  auto r = vm::resolve(context, options);
  const auto& t = r.target;
  if (!r.provider->has_systemd())
    throw Error(ErrorCode::unsupported,
                "the " + t.provider + " provider does not run devx's dev machine configuration, " +
                    "so there is no tailscaled of devx's to talk to",
                "use the podman, lima or colima provider, or run tailscale on the host directly");
  const auto state = r.provider->inspect(context, t.name);
  if (!state.exists) throw vm::vm_not_found(context, r);
  if (!state.running())
    throw Error(ErrorCode::unreachable, "VM '" + t.name + "' is not running",
                "start it with `devx vm start`");
  return r;
}

std::vector<std::string> tailscale_argv(const vm::ResolvedVm& vm,
                                        const std::vector<std::string>& args, bool with_stdin) {
  std::vector<std::string> command = {vm.target.runtime, "exec"};
  if (with_stdin) command.emplace_back("-i");
  command.emplace_back(tailscaled_container);
  command.emplace_back("tailscale");
  command.insert(command.end(), args.begin(), args.end());
  return vm_root_argv(vm, command);
}

std::vector<std::string> vm_root_argv(const vm::ResolvedVm& vm,
                                      const std::vector<std::string>& command) {
  return vm.provider->transport(vm.target.name).wrap(command, true);
}

bool TailscaleStatus::self_online() const { return self && bool_field(*self, "online"); }

std::string TailscaleStatus::self_ipv4() const {
  if (!self) return {};
  const auto* ips = self->if_contains("ips");
  if (ips == nullptr || !ips->is_array()) return {};
  for (const auto& ip : ips->as_array())
    if (ip.is_string() && is_tailscale_ipv4(ip.get_string())) return std::string(ip.get_string());
  return {};
}

bool is_tailscale_ipv4(std::string_view address) {
  unsigned octets[4] = {};
  std::size_t position = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (position >= address.size() || address[position] != '.') return false;
      ++position;
    }
    const auto* begin = address.data() + position;
    const auto* end = address.data() + address.size();
    auto [next, ec] = std::from_chars(begin, end, octets[i]);
    if (ec != std::errc{} || next == begin || next - begin > 3 || octets[i] > 255) return false;
    position += static_cast<std::size_t>(next - begin);
  }
  // 100.64.0.0/10: first octet 100, top two bits of the second octet 01.
  return position == address.size() && octets[0] == 100 && (octets[1] & 0xC0u) == 0x40u;
}

TailscaleStatus parse_status(std::string_view json_text) {
  const auto doc = core::parse_json_object_or_throw(json_text, "tailscale status --json output");
  const auto* state = doc.if_contains("BackendState");
  if (state == nullptr || !state->is_string())
    throw Error(ErrorCode::invalid_argument,
                "tailscale status --json output has no BackendState: not a status document");
  TailscaleStatus status;
  status.backend_state = std::string(state->get_string());
  status.auth_url = core::string_field(doc, "AuthURL");
  if (const auto* self = doc.if_contains("Self"); self && self->is_object()) {
    auto node = node_from(self->as_object());
    // A logged-out daemon still reports a Self (the OS hostname) but it has no node id: no node.
    if (!core::string_field(node, "id").empty()) status.self = std::move(node);
  }
  if (const auto* peers = doc.if_contains("Peer"); peers && peers->is_object())
    for (const auto& [key, peer] : peers->as_object())
      if (peer.is_object()) status.peers.push_back(node_from(peer.as_object()));
  std::sort(status.peers.begin(), status.peers.end(), [](const auto& a, const auto& b) {
    return core::string_field(a, "dns_name") < core::string_field(b, "dns_name");
  });
  if (const auto* tailnet = doc.if_contains("CurrentTailnet"); tailnet && tailnet->is_object()) {
    const auto& t = tailnet->as_object();
    status.tailnet = json::object{
        {"name", core::string_field(t, "Name")},
        {"magic_dns_suffix", without_trailing_dot(core::string_field(t, "MagicDNSSuffix"))}};
  }
  if (const auto* health = doc.if_contains("Health"); health && health->is_array())
    for (const auto& h : health->as_array())
      if (h.is_string()) status.health.emplace_back(h.get_string());
  return status;
}

TailscaleStatus query_status(Context& context, const vm::ResolvedVm& vm, std::stop_token stop) {
  CommandSpec spec;
  spec.argv = tailscale_argv(vm, {"status", "--json"});
  spec.timeout = std::chrono::seconds(60);
  spec.stop = std::move(stop);
  const auto result = context.commands().run(spec);
  if (result.cancelled) throw Error(ErrorCode::cancelled, "tailscale status: cancelled");
  if (!result.ok()) {
    auto error = vm::command_error("tailscale status", spec.argv, result);
    throw Error(error.code(), error.message(),
                "the dev machine runs tailscaled in the container " +
                    std::string(tailscaled_container) + "; check it with `devx vm ssh -- sudo " +
                    vm.target.runtime + " ps -a`",
                error.details_json());
  }
  return parse_status(result.out);
}

std::optional<json::object> recorded_node(Context& context, std::string_view vm_name) {
  const auto record = vm::load_record(context, vm_name);
  if (!record) return std::nullopt;
  const auto* list = record->if_contains("attachments");
  if (list == nullptr || !list->is_array()) return std::nullopt;
  for (const auto& a : list->as_array())
    if (a.is_object() && core::string_field(a.as_object(), "kind") == "mesh") return a.as_object();
  return std::nullopt;
}

bool set_recorded_node(Context& context, std::string_view vm_name,
                       const std::optional<json::object>& attachment) {
  bool found = false;
  context.state().update(
      vm::record_key(vm_name),
      [&](std::optional<std::string> current) -> std::optional<std::string> {
        if (!current) return std::nullopt;
        auto doc = core::parse_json_or_null(*current);
        auto* record = doc.if_object();
        if (record == nullptr) return current;
        found = true;
        json::array kept;
        if (const auto* list = record->if_contains("attachments"); list && list->is_array())
          for (const auto& a : list->as_array())
            if (!a.is_object() || core::string_field(a.as_object(), "kind") != "mesh")
              kept.push_back(a);
        if (attachment) kept.push_back(*attachment);
        (*record)["attachments"] = std::move(kept);
        return core::to_json_string(*record);
      },
      FileAccess::private_);
  return found;
}

}  // namespace devx::mesh
