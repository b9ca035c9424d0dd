#pragma once
// The mail catcher: a native SMTP server (no relay, no auth) that keeps every message it receives,
// and an HTTP JSON view of them. Both listen on 127.0.0.1 unless asked. docs/mail.md describes
// the SMTP subset, the HTTP API and how to run it as a `devx up` service.
//
// Storage, all 0600 files in 0700 directories under DEVX_HOME/mail/<instance>/:
//   instance.json            the running catcher {"v":1,"instance","pid","bind","smtp_port",
//                            "http_port","started"} (removed when it stops)
//   messages/<id>.eml        the raw RFC 5322 source as received (dot-unstuffed)
//   messages/<id>.json       the message document (below)
// A message document:
//   {"v":1,"id","instance","received":"<RFC 3339 ms>","size",
//    "envelope":{"helo","mail_from","rcpt_to":[…],"remote"},
//    "headers":{"subject","from","to","cc","date","message_id"},   (RFC 2047 words decoded)
//    "header_list":[["Name","value"],…],
//    "text"?,"html"?,"parts":[{"content_type","charset","filename","size"}]}
// Message ids sort in arrival order.
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace devx {

struct MailCatcherOptions {
  std::string instance = "default";  // [a-z0-9-]+; one running catcher per instance
  std::string bind = "127.0.0.1";
  int smtp_port = 1025;  // 0 = ephemeral (reported in the "listening" event)
  int http_port = 8025;  // 0 = ephemeral
  std::size_t max_message_size = 25 * 1024 * 1024;  // advertised as SIZE; larger → 552
  std::string hostname = "devx-mail";               // the greeting's domain
};

// Runs the SMTP and HTTP servers until cancelled (a foreground service; `devx up` runs it as a
// host service). Events (source "mail"):
//   state "listening" {"instance","smtp_host","smtp_port","http_url","env":{SMTP_HOST,SMTP_PORT,
//                      MAIL_CATCHER_URL}}
//   progress "message <id> from <mail_from>" with {"id","mail_from","rcpt_to","subject","size"}
// HTTP (JSON unless noted): GET /api/messages (summaries, newest first), GET /api/messages/{id},
// GET /api/messages/{id}/raw (message/rfc822), DELETE /api/messages, DELETE /api/messages/{id};
// an unknown id is 404 {"error":…}.
// Another live catcher of the instance → Error(already_exists); a taken port → Error(port_in_use).
// Dry run: the plan {"v":1,"operation":"mail.start","dry_run":true,"actions":[…]}.
// When cancelled: state "stopped" {"v":1,"instance","messages_received"}, then Error(cancelled).
DEVX_API Operation start_mail_catcher(Context& context, MailCatcherOptions options);

// Every instance under DEVX_HOME/mail: {"v":1,"instances":[{"instance","running","pid"?,
// "smtp_port"?,"http_port"?,"http_url"?,"messages","env"?}]}. A record whose owner died is
// reported as not running.
DEVX_API std::string mail_instances(Context& context);

// Summaries of the stored messages, newest first: {"v":1,"instance","messages":[{"id","received",
// "mail_from","rcpt_to","subject","size"}]}. An instance without messages has an empty list.
DEVX_API std::string mail_messages(Context& context, std::string_view instance = "default");

// One message document; an unknown (or malformed) id → Error(not_found).
DEVX_API std::string mail_message(Context& context, std::string_view instance, std::string_view id);
// The raw RFC 5322 source of one message.
DEVX_API std::string mail_message_raw(Context& context, std::string_view instance,
                                      std::string_view id);

// Deletes one message (`id`) or all of them (id ""): {"v":1,"instance","deleted":[ids]}.
// Dry run: {"v":1,"dry_run":true,"instance","deleted":[ids that would go]}.
DEVX_API std::string mail_delete(Context& context, std::string_view instance,
                                 std::string_view id = {});

// SMTP_HOST, SMTP_PORT, MAIL_CATCHER_URL of the running catcher of `instance`; empty when none
// runs. For services started next to it (devx up, shells).
DEVX_API std::map<std::string, std::string> mail_environment(Context& context,
                                                             std::string_view instance = "default");

}  // namespace devx
