// libFuzzer target for the parser of `tailscale status --json` (the output of a daemon inside the
// VM, talking to a coordination server: untrusted). A bad document may only end in a devx::Error;
// a parsed one keeps the shape mesh.hpp documents.
#include <devx/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "mesh/tailscale_cli.hpp"

namespace {

void require_utf8(std::string_view text) {
  if (devx::core::valid_utf8(text) != text) __builtin_trap();
}

void check_node(const boost::json::object& node) {
  // Nodes are serialized into VM records and API answers.
  (void)boost::json::parse(boost::json::serialize(node));
  const auto* ips = node.if_contains("ips");
  if (ips == nullptr || !ips->is_array()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The address check on its own: true only for dotted quads in 100.64.0.0/10.
  if (devx::mesh::is_tailscale_ipv4(text)) {
    if (!text.starts_with("100.") || text.size() > 15 ||
        text.find_first_not_of("0123456789.") != std::string_view::npos ||
        std::count(text.begin(), text.end(), '.') != 3)
      __builtin_trap();
  }
  try {
    const auto status = devx::mesh::parse_status(text);
    require_utf8(status.backend_state);
    require_utf8(status.auth_url);
    if (status.self) {
      check_node(*status.self);
      if (devx::core::string_field(*status.self, "id").empty()) __builtin_trap();
    }
    for (const auto& peer : status.peers) check_node(peer);
    if (!std::is_sorted(status.peers.begin(), status.peers.end(), [](const auto& a, const auto& b) {
          return devx::core::string_field(a, "dns_name") < devx::core::string_field(b, "dns_name");
        }))
      __builtin_trap();
    const auto ip = status.self_ipv4();
    if (!ip.empty() && !devx::mesh::is_tailscale_ipv4(ip)) __builtin_trap();
    (void)status.self_online();
    for (const auto& h : status.health) require_utf8(h);
  } catch (const devx::Error& e) {
    if (e.message().empty()) __builtin_trap();
  }
  return 0;
}
