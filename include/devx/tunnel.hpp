#pragma once
// Public tunnels through Cloudflare Tunnel. docs/tunnels.md describes the behaviour.
//
// One named tunnel per machine ("devx-<machine-id>", recorded in DEVX_HOME/tunnel/machine.json)
// and one per project for `tunnel up` / `devx up` ("devx-<machine-id>-<project>", recorded in
// DEVX_HOME/tunnel/projects/<project>.json), created once through the Cloudflare API and reused.
// Routes are ingress rules in the tunnel's remote configuration (PUT .../configurations), so
// adding or removing one never restarts cloudflared. cloudflared runs each tunnel as a background
// connector owned by devx (`cloudflared tunnel --no-autoupdate run`, the token in the environment
// variable TUNNEL_TOKEN only); its pid and start time are recorded, a dead connector is restarted
// by the next expose, and the connector is stopped when its tunnel has no route left.
//
// Every exposure is recorded in DEVX_HOME/tunnel/exposures/<id>.json (hostname, zone and DNS
// record ids, port, proxies, tunnel, owner); list/status read those records, never recompute.
//
// Every mutating call honours the context's dry_run: the result is the plan (HTTP calls as method
// + URL without secrets, commands as argv) and nothing is called. Plans and results:
//   {"v":1,"operation":"tunnel.expose","dry_run":bool,"actions":[{"kind":"http"|"command"|"state",
//    "description","method"?,"url"?,"argv"?,"key"?}], …operation-specific keys}
// API failures are Error(http | permission_denied | conflict | not_found) whose details carry
// {"status","method","url","cloudflare_errors":[{"code","message"}]}.
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace devx {

// How the Cloudflare API and cloudflared are reached. Empty fields are resolved from the context's
// environment (and, for the token, from `env_sources` in order).
struct CloudflareSettings {
  std::string api_url;  // "" = $DEVX_CLOUDFLARE_API_URL, else https://api.cloudflare.com/client/v4
  std::string
      api_token;  // secret; "" = $CLOUDFLARE_API_TOKEN, else $CF_API_TOKEN, else env sources
  std::string account_id;  // "" = $CLOUDFLARE_ACCOUNT_ID, else the single account the token sees
  std::string cloudflared = "cloudflared";  // the binary (looked up in PATH)
  // Environment sources (dotenv paths or file:// URIs, as in devx.yaml `env:`) searched for the
  // token after the context's environment. A project's `env` list fits here.
  std::vector<std::string> env_sources;
};

struct TunnelExposeOptions {
  CloudflareSettings cloudflare;
  int port = 0;      // the local port (1..65535); it is not moved to a free port
  std::string name;  // exposure name ("" = "port-<port>"); also the hostname label
  // The Cloudflare zone the hostname lives in ("" = $DEVX_TUNNEL_ZONE, or the zone found for
  // `domain`). Hostnames never leave it.
  std::string zone;
  // The full hostname ("" = "<name>.<zone>", the name sanitised to a DNS label). Must be the zone
  // or below it.
  std::string domain;
  std::string basic_auth;  // "user:pass" (secret): an auth proxy in front of the route
  std::string throttle;    // "" | "3g" | "edge" | "slow": a throttle proxy in front of the route
};

// Exposes a local port at https://<hostname>. Everything (port, flags, zone, hostname) is
// validated before anything is created. Ensures the machine tunnel and its connector, adds the
// ingress rule, creates (or takes over its own) proxied CNAME to <tunnel-id>.cfargotunnel.com and
// records the exposure. An existing DNS record of that name that devx did not create is
// Error(conflict). Without proxies the operation ends once the route is live (result: the
// exposure). With --basic-auth/--throttle the proxies (127.0.0.1; target → throttle → auth →
// route) live in this operation: it emits a state event {"state":"exposed","exposure":{…}} and
// runs until cancelled, then removes the exposure it made (route, DNS record and record).
DEVX_API Operation start_tunnel_expose(Context& context, TunnelExposeOptions options);

struct TunnelUnexposeOptions {
  CloudflareSettings cloudflare;
  std::string target;  // an exposure id or hostname; ignored with `all`
  bool all = false;    // every exposure of this machine (project tunnels' routes included)
};

// Removes the ingress rule, the DNS record and the record of each exposure; stops a connector
// whose tunnel has no route left. An unknown target is Error(not_found) naming the exposures.
// Result: {"v":1,"operation":"tunnel.unexpose","dry_run","actions","removed":[…]}.
DEVX_API std::string tunnel_unexpose(Context& context, const TunnelUnexposeOptions& options);

// The recorded exposures with their connector's liveness, read from state (no API calls):
// {"v":1,"exposures":[{"id","hostname","url","port","zone","zone_id","dns_record_id","tunnel_id",
//   "tunnel_name","proxies":[…],"owner":{…},"created_at","connector":"running"|"stopped"}],
//  "tunnels":[{"id","name","scope":"machine"|"project","project"?,"connector":{"pid","started_at",
//   "running"}}]}
DEVX_API std::string tunnel_status(Context& context);

struct TunnelUpOptions {
  CloudflareSettings cloudflare;  // env_sources default to the project's `env`
  std::string zone;               // "" = $DEVX_TUNNEL_ZONE, else the project's `domain:`
};

// Brings up the project's `tunnels:` on the project's tunnel: one ingress rule and DNS record per
// entry (hostname "<entry name>-<project>.<zone>"), proxies for basic_auth/throttle, and a
// connector. Target ports are taken as they are. Emits {"state":"exposed","exposure":{…}} per
// entry, then runs until cancelled; on cancel it stops its proxies and, when it started the
// connector itself, the connector, and removes the routes it added. Dry run: the plan only.
DEVX_API Operation start_tunnel_up(Context& context, const Project& project,
                                   TunnelUpOptions options = {});

// The label a name becomes in a hostname: lower-cased, every run of characters outside [a-z0-9]
// turned into one '-', trimmed of '-', at most 63 characters. Error(invalid_argument) when nothing
// is left.
DEVX_API std::string tunnel_dns_label(std::string_view name);

// This machine's id (generated once, random, stored in DEVX_HOME/tunnel/machine.json).
DEVX_API std::string tunnel_machine_id(Context& context);

}  // namespace devx
