#pragma once
// cloudflared as the background connector of a named tunnel. It is started detached
// (`setsid -f`: its own session, so it outlives the devx process that started it) as
//   cloudflared tunnel --no-autoupdate --logfile <log> --pidfile <pid file> run
// with the connector token in the environment variable TUNNEL_TOKEN only (never argv). The pid
// file is written once the first edge connection is up; its pid and /proc start time are
// recorded so liveness survives pid reuse. Logs: DEVX_HOME/tunnel/logs/<tunnel>.log (0600).
#include <devx/context.hpp>

#include <stop_token>

#include "tunnel/cloudflare_api.hpp"
#include "tunnel/plan.hpp"
#include "tunnel/records.hpp"

namespace devx::tunnel {

// Starts the tunnel's connector unless the recorded one is alive; records it. Returns true when
// it started one. Dry run: the command is planned, nothing runs.
bool ensure_connector(Context& context, TunnelPlan& plan, CloudflareApi& api,
                      const ResolvedCloudflare& settings, const TunnelScope& scope,
                      TunnelRecord& tunnel, std::stop_token stop = {});

// SIGTERM to the recorded connector (SIGKILL if it lingers) and clears the record.
void stop_connector(Context& context, TunnelPlan& plan, const TunnelScope& scope,
                    TunnelRecord& tunnel);

}  // namespace devx::tunnel
