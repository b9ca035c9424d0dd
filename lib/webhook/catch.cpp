// `devx webhook catch` and `devx webhook list`.
#include <devx/error.hpp>
#include <devx/webhook.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <optional>

#include "core/json.hpp"
#include "webhook/loopback_server.hpp"
#include "webhook/quick_tunnel.hpp"
#include "webhook/session_log.hpp"

namespace devx {
namespace {

namespace json = boost::json;

void check_options(const WebhookCatchOptions& options) {
  if (options.reply_status < 200 || options.reply_status > 599)
    throw Error(ErrorCode::invalid_argument,
                "reply status " + std::to_string(options.reply_status) + " is not allowed",
                "use a final status between 200 and 599");
  if (options.port < 0 || options.port > 65535)
    throw Error(ErrorCode::invalid_argument,
                "port " + std::to_string(options.port) + " is out of range",
                "use 0..65535 (0 picks a free port)");
  if (!options.session.empty()) webhook::check_session_name(options.session);
}

std::string http_url(const std::string& bind, int port) {
  const std::string host = bind == "0.0.0.0" || bind == "::" ? "127.0.0.1" : bind;
  return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

Event state_event(std::string message, const json::object& data) {
  Event e;
  e.type = EventType::state;
  e.source = "webhook";
  e.message = std::move(message);
  e.data_json = core::to_json_string(data);
  return e;
}

std::string plan(const Context& context, const WebhookCatchOptions& options,
                 const std::string& session) {
  json::array actions;
  actions.push_back(json::object{
      {"kind", "listen"},
      {"description", "serve HTTP on " + options.bind + ":" + std::to_string(options.port)}});
  actions.push_back(
      json::object{{"kind", "file"},
                   {"description", "append each request to the session file (0600)"},
                   {"path", (webhook::sessions_dir(context) / (session + ".jsonl")).string()}});
  if (options.expose) {
    json::array argv;
    for (const auto& a : webhook::quick_tunnel_argv(
             options.cloudflared, http_url(options.bind, options.port ? options.port : 0)))
      argv.push_back(json::string(a));
    actions.push_back(json::object{{"kind", "command"},
                                   {"description", "open a Cloudflare quick tunnel"},
                                   {"argv", std::move(argv)}});
  }
  return core::to_json_string(json::object{{"v", 1},
                                           {"operation", "webhook.catch"},
                                           {"dry_run", true},
                                           {"session", session},
                                           {"actions", std::move(actions)}});
}

}  // namespace

Operation start_webhook_catch(Context& context, WebhookCatchOptions options) {
  check_options(options);
  if (options.session.empty()) options.session = webhook::new_session_name(context);
  return context.start("webhook.catch", [&context, options](OperationScope& scope) -> std::string {
    if (context.dry_run()) return plan(context, options, options.session);

    // One catcher per session: request numbers must stay unique within its file.
    StateLock session_lock;
    try {
      session_lock =
          context.state().lock("webhook." + options.session, std::chrono::milliseconds(0));
    } catch (const Error& e) {
      if (e.code() != ErrorCode::locked) throw;
      throw Error(ErrorCode::already_exists,
                  "webhook session '" + options.session + "' is being recorded by another catcher",
                  "pick another --session, or leave it out for a new one");
    }
    net::EventLoop loop;
    webhook::SessionLog log(context, options.session);
    // Numbering continues after the requests an earlier catch of this session recorded.
    std::int64_t requests = 0;
    std::int64_t next_seq = 0;
    for (const auto& r : webhook::read_session(context, options.session))
      next_seq = std::max(next_seq, core::int_field(r, "seq"));
    net::HttpListener listener(
        loop, options.bind, options.port, options.body_limit,
        [&](const net::HttpServerRequest& request) {
          const auto received = context.clock().now();
          ++requests;
          auto record = webhook::make_record(options.session, ++next_seq, received, request,
                                             std::chrono::steady_clock::now());
          log.append(record);
          Event e;
          e.type = EventType::progress;
          e.source = "webhook";
          e.message = request.method + " " + core::string_field(record, "target");
          e.data_json = core::to_json_string(record);
          scope.emit(std::move(e));
          return net::HttpServerResponse{options.reply_status, "application/json",
                                         options.reply_body};
        });
    const std::string url = http_url(options.bind, listener.port());
    scope.emit(state_event("listening on " + url,
                           json::object{{"session", options.session},
                                        {"file", log.path().string()},
                                        {"bind", options.bind},
                                        {"port", listener.port()},
                                        {"url", url},
                                        {"env", json::object{{"WEBHOOK_URL", url}}}}));

    std::optional<webhook::QuickTunnel> tunnel;
    if (options.expose) {
      scope.progress("webhook", "starting a Cloudflare quick tunnel");
      tunnel.emplace(context, options.cloudflared, url, options.expose_timeout, scope.stop_token());
      scope.emit(state_event(
          "exposed at " + tunnel->url(),
          json::object{
              {"public_url", tunnel->url()},
              {"pid", tunnel->pid()},
              {"env", json::object{{"WEBHOOK_URL", url}, {"WEBHOOK_PUBLIC_URL", tunnel->url()}}}}));
    }
    loop.run(scope.stop_token());

    json::object summary{{"v", 1},
                         {"session", options.session},
                         {"file", log.path().string()},
                         {"requests", requests},
                         {"url", url}};
    if (tunnel) {
      summary["public_url"] = tunnel->url();
      tunnel->stop();
    }
    scope.emit(state_event("stopped after " + std::to_string(requests) + " request(s)", summary));
    return core::to_json_string(summary);
  });
}

std::string webhook_list(Context& context, std::string_view session) {
  if (!session.empty()) {
    json::array requests;
    for (auto& r : webhook::read_session(context, session)) requests.push_back(std::move(r));
    return core::to_json_string(json::object{
        {"v", 1}, {"session", std::string(session)}, {"requests", std::move(requests)}});
  }
  struct Row {
    std::string session, file, first, last;
    std::size_t requests = 0;
    std::filesystem::file_time_type modified;
  };
  std::vector<Row> rows;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(webhook::sessions_dir(context), ec)) {
    if (entry.path().extension() != ".jsonl") continue;
    Row row;
    row.session = entry.path().stem().string();
    row.file = entry.path().string();
    row.modified = entry.last_write_time(ec);
    try {
      const auto records = webhook::read_session(context, row.session);
      row.requests = records.size();
      if (!records.empty()) {
        row.first = core::string_field(records.front(), "time");
        row.last = core::string_field(records.back(), "time");
      }
    } catch (const Error&) {
      continue;  // not a session file of ours (a name we would not have written)
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.modified != b.modified ? a.modified > b.modified : a.session > b.session;
  });
  json::array sessions;
  for (const auto& r : rows)
    sessions.push_back(json::object{{"session", r.session},
                                    {"file", r.file},
                                    {"requests", r.requests},
                                    {"first", r.first},
                                    {"last", r.last}});
  return core::to_json_string(json::object{{"v", 1}, {"sessions", std::move(sessions)}});
}

}  // namespace devx
