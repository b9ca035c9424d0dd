#pragma once
// The webhook catcher: a local HTTP receiver that records every request it gets, so webhooks from
// third parties (or a local producer) can be inspected and replayed. docs/webhook.md describes the
// behaviour and the record format.
//
// Each catch session appends one JSON object per request to DEVX_HOME/webhooks/<session>.jsonl
// (mode 0600: bodies hold signatures and tokens):
//   {"v":1,"id":"<session>.<seq>","session","seq","time":"2026-11-28T22:40:12.345Z",
//    "method","target":"/path?query","path","query","headers":[["Name","value"],…],
//    "body","body_encoding":"utf8"|"base64","body_size","truncated","remote","duration_ms"}
// Headers keep their order, spelling and repeats; a body that is not UTF-8 is base64; a body
// larger than the cap is recorded up to the cap with "truncated":true ("body_size" is the real
// size).
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace devx {

struct WebhookCatchOptions {
  std::string bind = "127.0.0.1";  // any other address must be asked for
  int port = 9999;                 // 0 = an ephemeral port (reported in the "listening" event)
  // "" = a new id "<UTC yyyymmddThhmmssZ>-<4 hex>"; an existing session is appended to (its
  // numbering continues). One catcher per session at a time: Error(already_exists).
  std::string session;
  int reply_status = 200;  // status of every reply (100..599 rejected outside 200..599)
  std::string reply_body = R"({"status":"captured"})";  // sent as application/json
  std::size_t body_limit = 1024 * 1024;                 // bytes of each body kept in the record
  // Expose the catcher through a Cloudflare quick tunnel (`cloudflared tunnel --url …`).
  bool expose = false;
  std::string cloudflared = "cloudflared";          // the binary (looked up in PATH)
  std::chrono::milliseconds expose_timeout{20000};  // for the trycloudflare.com URL to appear
};

// Serves until cancelled. Events (source "webhook"):
//   state "listening" {"session","file","bind","port","url","env":{"WEBHOOK_URL"}}
//   state "exposed"   {"public_url"} (with expose; the cloudflared child is terminated when the
//                      operation ends, however it ends)
//   progress "<METHOD> <target>" with the request record as data, once per request.
//   state "stopped"   {"v":1,"session","file","requests","url","public_url"?} when cancelled;
//                      the operation then ends with Error(cancelled), like every cancelled one.
// A taken port → Error(port_in_use); cloudflared missing → Error(command_not_found); no URL in
// time or cloudflared exiting first → Error(timeout) / Error(command_failed) with its last lines.
// Dry run: the plan {"v":1,"operation":"webhook.catch","dry_run":true,"actions":[…]}.
DEVX_API Operation start_webhook_catch(Context& context, WebhookCatchOptions options);

// Without a session: {"v":1,"sessions":[{"session","file","requests","first","last"}]} (newest
// first). With one: {"v":1,"session","requests":[record…]}; an unknown session → Error(not_found).
DEVX_API std::string webhook_list(Context& context, std::string_view session = {});

// Re-sends a recorded request: same method, headers (minus hop-by-hop ones, Host and
// Content-Length) and body, to `to_url` + the recorded target ("http://127.0.0.1:3000" →
// "http://127.0.0.1:3000/hooks/stripe?x=1"). `id` is "<session>.<seq>", or "<seq>" for the
// newest session. A truncated body cannot be replayed faithfully → Error(unsupported).
// Result: {"v":1,"id","request":{"method","url"},"response":{"status","headers":[[…]],"body",
// "body_encoding"}}. Dry run: the plan with the HTTP action, nothing sent.
DEVX_API std::string webhook_replay(Context& context, std::string_view id, std::string_view to_url);

}  // namespace devx
