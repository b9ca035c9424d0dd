// `devx mail`: the catcher operation, its HTTP JSON view and the store queries.
#include <devx/error.hpp>
#include <devx/mail.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdio>

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "mail/mail_store.hpp"
#include "mail/smtp_server.hpp"
#include "webhook/loopback_server.hpp"
#include "webhook/session_log.hpp"

namespace devx {
namespace {

namespace json = boost::json;

constexpr std::string_view kApi = "/api/messages";

std::string host_of(const std::string& bind) {
  return bind == "0.0.0.0" || bind == "::" ? "127.0.0.1" : bind;
}

std::string http_url(const std::string& bind, int port) {
  const auto host = host_of(bind);
  return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

json::object env_hints(const std::string& bind, int smtp_port, int http_port) {
  return json::object{{"SMTP_HOST", host_of(bind)},
                      {"SMTP_PORT", std::to_string(smtp_port)},
                      {"MAIL_CATCHER_URL", http_url(bind, http_port)}};
}

void make_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  // DEVX_HOME itself keeps the mode it is given; what devx adds below it is private.
  std::filesystem::create_directories(dir.parent_path().parent_path(), ec);
  for (const auto& d : {dir.parent_path(), dir, dir / "messages"}) {
    if (std::filesystem::exists(d, ec)) continue;
    std::filesystem::create_directory(d, ec);
    if (ec) throw Error(ErrorCode::io, "cannot create " + d.string() + ": " + ec.message());
    ::chmod(d.c_str(), 0700);
  }
}

net::HttpServerResponse json_reply(int status, const json::value& body) {
  return {status, "application/json", core::to_json_string(body)};
}

net::HttpServerResponse not_found(std::string_view what) {
  return json_reply(404, json::object{{"error", std::string(what)}});
}

json::array summaries(const mail::MailStore& store) {
  json::array out;
  auto ids = store.ids();
  for (auto it = ids.rbegin(); it != ids.rend(); ++it)
    if (auto doc = store.document(*it)) out.push_back(mail::MailStore::summary(*doc));
  return out;
}

// GET/DELETE /api/messages[/{id}[/raw]].
net::HttpServerResponse route(mail::MailStore& store, const net::HttpServerRequest& request) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (!path.starts_with(kApi)) return not_found("no such endpoint; the API is under /api/messages");
  path.remove_prefix(kApi.size());
  while (path.ends_with('/')) path.remove_suffix(1);
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool del = request.method == "DELETE";
  if (!get && !del)
    return json_reply(405, json::object{{"error", "method not allowed: " + request.method}});

  if (path.empty()) {
    if (get)
      return json_reply(
          200, json::object{{"instance", store.instance()}, {"messages", summaries(store)}});
    json::array deleted;
    for (const auto& id : store.ids())
      if (store.remove(id)) deleted.push_back(json::string(id));
    return json_reply(200, json::object{{"deleted", std::move(deleted)}});
  }
  path.remove_prefix(1);  // the '/'
  const bool raw = path.ends_with("/raw");
  const auto id = raw ? path.substr(0, path.size() - 4) : path;
  if (del && !raw) {
    if (!store.remove(id)) return not_found("no message " + std::string(id));
    return json_reply(200, json::object{{"deleted", json::array{json::string(id)}}});
  }
  if (!get) return json_reply(405, json::object{{"error", "method not allowed: DELETE"}});
  if (raw) {
    auto source = store.raw(id);
    if (!source) return not_found("no message " + std::string(id));
    return {200, "message/rfc822", std::move(*source)};
  }
  auto doc = store.document(id);
  if (!doc) return not_found("no message " + std::string(id));
  return json_reply(200, *doc);
}

Event mail_event(EventType type, std::string message, const json::object& data) {
  Event e;
  e.type = type;
  e.source = "mail";
  e.message = std::move(message);
  e.data_json = core::to_json_string(data);
  return e;
}

std::string plan(const Context& context, const MailCatcherOptions& options) {
  const auto dir = mail::mail_root(context) / options.instance;
  json::array actions{json::object{{"kind", "listen"},
                                   {"description", "SMTP on " + options.bind + ":" +
                                                       std::to_string(options.smtp_port)}},
                      json::object{{"kind", "listen"},
                                   {"description", "HTTP JSON view on " + options.bind + ":" +
                                                       std::to_string(options.http_port)}},
                      json::object{{"kind", "file"},
                                   {"description", "record the running catcher"},
                                   {"path", (dir / "instance.json").string()}},
                      json::object{{"kind", "file"},
                                   {"description", "store each message (0600)"},
                                   {"path", (dir / "messages").string()}}};
  return core::to_json_string(json::object{{"v", 1},
                                           {"operation", "mail.start"},
                                           {"dry_run", true},
                                           {"instance", options.instance},
                                           {"actions", std::move(actions)}});
}

mail::MailStore open_store(Context& context, std::string_view instance) {
  return mail::MailStore(context, std::string(instance.empty() ? "default" : instance));
}

}  // namespace

Operation start_mail_catcher(Context& context, MailCatcherOptions options) {
  mail::check_instance_name(options.instance);
  if (options.hostname.empty() || options.hostname.find_first_of(" \t\r\n") != std::string::npos)
    throw Error(ErrorCode::invalid_argument,
                "the greeting hostname must be one word without spaces or line breaks",
                "use a name such as devx-mail");
  if (options.max_message_size < 1024)
    throw Error(ErrorCode::invalid_argument, "a message size limit under 1 KiB cannot hold mail",
                "use a limit of at least 1024 bytes");
  return context.start("mail.start", [&context, options](OperationScope& scope) -> std::string {
    if (context.dry_run()) return plan(context, options);
    mail::MailStore store(context, options.instance);
    // Held while the catcher runs: a second one (this process or another) cannot start.
    StateLock running;
    try {
      running = context.state().lock("mail." + options.instance, std::chrono::milliseconds(0));
    } catch (const Error& e) {
      if (e.code() != ErrorCode::locked) throw;
      const auto record = store.instance_record();
      throw Error(ErrorCode::already_exists,
                  "mail catcher '" + options.instance + "' is already running" +
                      (record ? " (pid " + std::to_string(core::int_field(*record, "pid")) + ")"
                              : std::string()),
                  "stop it first, or start another with a different instance name",
                  record ? core::to_json_string(*record) : std::string());
    }
    make_private_dir(store.dir());

    net::EventLoop loop;
    std::int64_t received = 0;
    std::int64_t last_ms = 0;
    int same_ms = 0;
    mail::SmtpListener smtp(
        loop, options.bind, options.smtp_port,
        mail::SmtpSettings{options.hostname, options.max_message_size, 1000},
        [&](const mail::SmtpEnvelope& envelope, std::string data) {
          const auto now = context.clock().now();
          const auto ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
          same_ms = ms == last_ms ? same_ms + 1 : 0;
          last_ms = ms;
          char id[40];
          std::snprintf(id, sizeof id, "%013lld-%04d", static_cast<long long>(ms), same_ms);
          const auto doc = store.save(id, envelope, data, webhook::rfc3339_ms(now));
          ++received;
          auto summary = mail::MailStore::summary(doc);
          scope.emit(mail_event(EventType::progress,
                                std::string("message ") + id + " from <" + envelope.mail_from + ">",
                                summary));
          return std::string(id);
        });
    net::HttpListener http(
        loop, options.bind, options.http_port, 64 * 1024,
        [&store](const net::HttpServerRequest& request) { return route(store, request); });

    struct RecordGuard {
      mail::MailStore& store;
      ~RecordGuard() { store.remove_instance_record(); }
    } guard{store};
    store.write_instance_record(
        json::object{{"v", 1},
                     {"instance", options.instance},
                     {"pid", static_cast<std::int64_t>(::getpid())},
                     {"bind", options.bind},
                     {"smtp_port", smtp.port()},
                     {"http_port", http.port()},
                     {"started", webhook::rfc3339_ms(context.clock().now())}});
    const auto env = env_hints(options.bind, smtp.port(), http.port());
    scope.emit(mail_event(EventType::state,
                          "listening: SMTP " + std::to_string(smtp.port()) + ", HTTP " +
                              http_url(options.bind, http.port()),
                          json::object{{"instance", options.instance},
                                       {"smtp_host", host_of(options.bind)},
                                       {"smtp_port", smtp.port()},
                                       {"http_port", http.port()},
                                       {"http_url", http_url(options.bind, http.port())},
                                       {"env", env}}));
    loop.run(scope.stop_token());
    const json::object summary{
        {"v", 1}, {"instance", options.instance}, {"messages_received", received}};
    scope.emit(mail_event(EventType::state,
                          "stopped after " + std::to_string(received) + " message(s)", summary));
    return core::to_json_string(summary);
  });
}

std::string mail_instances(Context& context) {
  json::array instances;
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(mail::mail_root(context), ec))
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    try {
      mail::check_instance_name(name);
    } catch (const Error&) {
      continue;  // not a directory we made
    }
    mail::MailStore store(context, name);
    json::object row{{"instance", name}, {"running", false}, {"messages", store.ids().size()}};
    if (auto record = store.instance_record(); record && mail::owner_alive(*record)) {
      const auto bind = core::string_field(*record, "bind");
      const auto smtp_port = static_cast<int>(core::int_field(*record, "smtp_port"));
      const auto http_port = static_cast<int>(core::int_field(*record, "http_port"));
      row["running"] = true;
      row["pid"] = core::int_field(*record, "pid");
      row["smtp_port"] = smtp_port;
      row["http_port"] = http_port;
      row["http_url"] = http_url(bind, http_port);
      row["env"] = env_hints(bind, smtp_port, http_port);
    }
    instances.push_back(std::move(row));
  }
  return core::to_json_string(json::object{{"v", 1}, {"instances", std::move(instances)}});
}

std::string mail_messages(Context& context, std::string_view instance) {
  const auto store = open_store(context, instance);
  return core::to_json_string(
      json::object{{"v", 1}, {"instance", store.instance()}, {"messages", summaries(store)}});
}

std::string mail_message(Context& context, std::string_view instance, std::string_view id) {
  const auto store = open_store(context, instance);
  auto doc = store.document(id);
  if (!doc)
    throw Error(
        ErrorCode::not_found,
        "no message '" + core::valid_utf8(id) + "' in mail catcher '" + store.instance() + "'",
        "`devx mail messages` lists the stored messages");
  return core::to_json_string(*doc);
}

std::string mail_message_raw(Context& context, std::string_view instance, std::string_view id) {
  const auto store = open_store(context, instance);
  auto raw = store.raw(id);
  if (!raw)
    throw Error(
        ErrorCode::not_found,
        "no message '" + core::valid_utf8(id) + "' in mail catcher '" + store.instance() + "'",
        "`devx mail messages` lists the stored messages");
  return std::move(*raw);
}

std::string mail_delete(Context& context, std::string_view instance, std::string_view id) {
  auto store = open_store(context, instance);
  std::vector<std::string> targets;
  if (id.empty()) {
    targets = store.ids();
  } else {
    if (!store.document(id))
      throw Error(
          ErrorCode::not_found,
          "no message '" + core::valid_utf8(id) + "' in mail catcher '" + store.instance() + "'",
          "`devx mail messages` lists the stored messages");
    targets.emplace_back(id);
  }
  json::array deleted;
  for (const auto& t : targets)
    if (context.dry_run() || store.remove(t)) deleted.push_back(json::string(t));
  json::object out{{"v", 1}, {"instance", store.instance()}, {"deleted", std::move(deleted)}};
  if (context.dry_run()) out["dry_run"] = true;
  return core::to_json_string(out);
}

std::map<std::string, std::string> mail_environment(Context& context, std::string_view instance) {
  const auto store = open_store(context, instance);
  const auto record = store.instance_record();
  if (!record || !mail::owner_alive(*record)) return {};
  const auto env = env_hints(core::string_field(*record, "bind"),
                             static_cast<int>(core::int_field(*record, "smtp_port")),
                             static_cast<int>(core::int_field(*record, "http_port")));
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : env) out.emplace(std::string(k), std::string(v.as_string()));
  return out;
}

}  // namespace devx
