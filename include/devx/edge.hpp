#pragma once
// Local edge proxies that sit in front of a service (or of one another) on 127.0.0.1: basic
// auth, a network throttle and the capturing inspector behind `devx tunnel inspect`. docs/edge.md
// describes the behaviour, the capture format and the throttle model.
//
// A proxy chain runs on one context-owned thread (an Operation of kind "edge.proxy") until it is
// stopped or cancelled. Every listener binds 127.0.0.1 (port 0 = ephemeral) unless another
// address is asked for, and every hop dials 127.0.0.1, never "localhost".
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devx {

struct BasicAuthCredentials {
  std::string user;
  std::string password;
};

// "user:pass", split at the first ':' (the password may contain ':'). Error(invalid_argument)
// without a ':' or with an empty user. The text is never echoed in the error.
DEVX_API BasicAuthCredentials parse_basic_auth(std::string_view user_colon_password);

// A simulated link: every chunk is delayed by latency ± jitter (uniform), and each direction is
// limited to bytes_per_second by a token bucket. Nothing is ever dropped or altered.
struct ThrottleProfile {
  std::string name;
  std::chrono::microseconds latency{0};
  std::chrono::microseconds jitter{0};
  std::int64_t bytes_per_second = 0;
};

// "3g" (200±50 ms, 250 KiB/s), "edge" (400±100 ms, 50 KiB/s), "slow" (500±200 ms, 10 KiB/s).
// Error(invalid_argument) naming the supported profiles for anything else.
DEVX_API ThrottleProfile throttle_profile(std::string_view name);
DEVX_API std::vector<std::string> throttle_profile_names();

struct InspectOptions {
  // Captures go to DEVX_HOME/inspect/<session>/; "" = "<UTC yyyymmdd-hhmmss>-<target port>".
  // Made of [A-Za-z0-9._-]: Error(invalid_argument) otherwise.
  std::string session{};
  // Bytes of each request and response body kept; longer bodies are passed on whole and recorded
  // truncated (marked so).
  std::size_t body_limit = 1024 * 1024;
};

// One proxy chain in front of 127.0.0.1:target_port. With several layers set, traffic flows
//   client → listener → [throttle] → [basic auth + inspector] → target
// (one TCP proxy and one HTTP proxy; the inspector records requests after authentication, with
// the Authorization header already removed). For another order, start separate proxies, each
// with target_port = the next one's port(). With no layer set, the chain is a plain TCP relay.
struct EdgeProxyOptions {
  int target_port = 0;             // 1..65535
  std::string bind = "127.0.0.1";  // an IP literal; anything but loopback only when asked for
  int listen_port = 0;             // 0 = ephemeral
  std::optional<BasicAuthCredentials> basic_auth{};
  std::string throttle{};  // "" | "3g" | "edge" | "slow"
  bool inspect = false;
  InspectOptions inspect_options{};
};

// A running chain. Destroying the handle stops it. Thread-safe.
class DEVX_API EdgeProxy {
 public:
  EdgeProxy(EdgeProxy&&) noexcept;
  EdgeProxy& operator=(EdgeProxy&&) noexcept;
  EdgeProxy(const EdgeProxy&) = delete;
  EdgeProxy& operator=(const EdgeProxy&) = delete;
  ~EdgeProxy();

  // The port clients connect to (0 for a dry run).
  int port() const noexcept;
  // "http://127.0.0.1:<port>" (with the bind address).
  std::string url() const;
  // The inspector's session name ("" without inspect).
  const std::string& session() const noexcept;
  // {"v":1,"listen":{"host","port"},"target":{"host","port"},
  //  "layers":[{"kind":"throttle"|"tcp"|"http","port","target_port","profile"?,"latency_ms"?,
  //  "jitter_ms"?,"bytes_per_second"?,"basic_auth"?:bool,"inspect"?:bool}] (client side first),
  //  "session"?,"capture_dir"?,"stats":{"connections","active","bytes_up","bytes_down",
  //  "requests","rejected","upstream_errors","accept_errors"}}
  std::string status() const;
  // The operation running the chain (kind "edge.proxy"). Events: a state event "listening" (data:
  // ports and layers), a state event per recorded exchange (source "inspect", data: the capture
  // summary with "state":"exchange") and warnings (failing accepts). It ends only when stopped
  // (ErrorCode::cancelled).
  Operation& operation() noexcept;
  // Closes the listeners and every connection, then waits for the thread. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit EdgeProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend DEVX_API EdgeProxy start_edge_proxy(Context& context, EdgeProxyOptions options);
};

// The chain's plan: {"v":1,"operation":"edge.proxy","dry_run":bool,"actions":[{"kind":"listen",
// "description","host","port","target_port","layer"}]}. Validates like start_edge_proxy.
DEVX_API std::string edge_proxy_plan(Context& context, const EdgeProxyOptions& options);

// Validates the options (Error(invalid_argument): ports, bind address, profile, session name),
// binds every listener before returning (Error(port_in_use) when listen_port is taken) and starts
// the chain. With the context's dry_run nothing is bound: port() is 0 and the operation's result
// is the plan.
DEVX_API EdgeProxy start_edge_proxy(Context& context, EdgeProxyOptions options);

// Inspector sessions under DEVX_HOME/inspect, newest first:
// {"v":1,"sessions":[{"session","dir","exchanges","first","last","target_port"}]}.
DEVX_API std::string list_inspect_sessions(Context& context);

// The exchanges of a session ("" = the newest session) in capture order:
// {"v":1,"session","exchanges":[{"id","time","method","url","host","status","duration_ms",
//  "request_bytes","response_bytes","websocket","error"?}]}. Error(not_found) for an unknown
// session.
DEVX_API std::string list_captures(Context& context, std::string_view session);

// One exchange in full: the summary plus "request":{"headers":[[name,value]…],"body",
// "body_encoding":"utf-8"|"base64","body_bytes","body_truncated"} and "response":{same +
// "status","reason"}, "timing":{"started","ttfb_ms","duration_ms"}, "target_port".
DEVX_API std::string get_capture(Context& context, std::string_view session, std::string_view id);

struct ReplayOptions {
  int target_port = 0;  // 0 = the port the exchange was recorded for
  std::chrono::milliseconds timeout{30000};
};

// Re-sends a recorded request (method, URL, headers without hop-by-hop ones, body) to
// 127.0.0.1:<port> and returns the new response: {"v":1,"session","id","request":{"method",
// "url"},"response":{"status","headers","body","body_encoding","body_bytes","body_truncated"},
// "duration_ms"}. A request whose body was recorded truncated is Error(unsupported). Dry run: the
// plan ({"actions":[{"kind":"http","method","url"}]}), nothing is sent.
DEVX_API std::string replay_capture(Context& context, std::string_view session, std::string_view id,
                                    const ReplayOptions& options = {});

// Deletes a session's captures (they may hold secrets). Dry run: the plan. Error(not_found) for
// an unknown session. Result: {"v":1,"session","removed":bool,"dry_run"}.
DEVX_API std::string remove_inspect_session(Context& context, std::string_view session);

}  // namespace devx
