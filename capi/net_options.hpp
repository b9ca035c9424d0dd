#pragma once
// Decoders of the options documents of the networking domains (tunnel, edge, mesh, sites,
// webhook, mail; docs/schemas/{tunnel,edge,mesh,sites,webhook,mail}-*.schema.json) into the C++
// option structs. The C ABI (capi/net.cpp) and the Python binding (bindings/python/src/net.cpp)
// both decode through these, so a mistake is named the same way in every layer: an unknown key or
// a wrong type is Error(invalid_argument) naming the field by its path ("cloudflare.api_url").
// NULL or "" is an empty document; JSON null for a field keeps its default.
#include <devx/edge.hpp>
#include <devx/mail.hpp>
#include <devx/mesh.hpp>
#include <devx/sites.hpp>
#include <devx/tunnel.hpp>
#include <devx/vm.hpp>
#include <devx/webhook.hpp>

namespace devx::capi {

VmOptions parse_net_vm_options(const char* text, const char* what = "vm options");
TunnelExposeOptions parse_tunnel_expose_options(const char* text);
TunnelUnexposeOptions parse_tunnel_unexpose_options(const char* text);
TunnelUpOptions parse_tunnel_up_options(const char* text);
MeshJoinOptions parse_mesh_join_options(const char* text);
WebhookCatchOptions parse_webhook_catch_options(const char* text);
MailCatcherOptions parse_mail_catcher_options(const char* text);
EdgeProxyOptions parse_edge_proxy_options(const char* text);
ReplayOptions parse_replay_options(const char* text);
SitesOptions parse_sites_options(const char* text);
SitesInitOptions parse_sites_init_options(const char* text);
SitesVerifyOptions parse_sites_verify_options(const char* text);

}  // namespace devx::capi
