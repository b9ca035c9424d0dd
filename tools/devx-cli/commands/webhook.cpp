// devx webhook catch|list|replay — a local receiver that records webhooks as JSON Lines, lists and
// replays them (docs/webhook.md). With --expose it is reachable through a Cloudflare quick tunnel.
#include <devx/webhook.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <memory>
#include <string>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/net_common.hpp"
#include "commands/plan_output.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct CatchFlags {
  int port = 9999;
  std::string bind = "127.0.0.1";
  std::string session;
  bool expose = false;
  int status = 200;
  std::string body;
};

// "listening", "exposed" and "stopped" states as people read them. The "stopped" summary also
// carries the URLs, so it is recognised first, by its request count; it is the only place that
// count is shown (Ctrl-C ends the operation as cancelled, without a result).
std::string catch_state(const devx::Event& e) {
  json::error_code ec;
  const json::value data = json::parse(e.data_json, ec);
  if (ec || !data.is_object()) return e.message;
  if (const std::string requests = cell(data, "requests"); requests != "-") {
    return "recorded " + requests + " request(s) in " + cell(data, "file");
  }
  if (const std::string url = cell(data, "public_url"); url != "-") return "public URL: " + url;
  if (const std::string url = cell(data, "url"); url != "-") {
    return "listening on " + url + " (recording to " + cell(data, "file") + "; Ctrl-C stops)";
  }
  return e.message;
}

int run_catch(Cli& cli, Output& out, const CatchFlags& flags) {
  devx::WebhookCatchOptions options;
  options.port = flags.port;
  options.bind = flags.bind;
  options.session = flags.session;
  options.expose = flags.expose;
  options.reply_status = flags.status;
  if (!flags.body.empty()) options.reply_body = flags.body;
  auto context = make_context(out.options());
  serve_in_foreground(cli, out, devx::start_webhook_catch(*context, std::move(options)), "webhook",
                      "webhook catcher stopped", catch_state);
  return 0;
}

int run_list(Output& out, const std::string& session) {
  auto context = make_context(out.options());
  show_document(out, devx::webhook_list(*context, session), [&](const json::value& doc) {
    if (session.empty()) {
      std::vector<std::vector<std::string>> rows{{"SESSION", "REQUESTS", "FIRST", "LAST"}};
      for (const auto& s : doc.at("sessions").as_array()) {
        rows.push_back(
            {cell(s, "session"), cell(s, "requests"), cell(s, "first"), cell(s, "last")});
      }
      if (rows.size() == 1) {
        out.status("no webhook sessions (start one with: devx webhook catch)");
        return;
      }
      out.result(aligned_columns(rows));
      return;
    }
    std::vector<std::vector<std::string>> rows{{"ID", "TIME", "METHOD", "TARGET", "BYTES"}};
    for (const auto& r : doc.at("requests").as_array()) {
      rows.push_back({cell(r, "id"), cell(r, "time"), cell(r, "method"), cell(r, "target"),
                      cell(r, "body_size")});
    }
    out.result(aligned_columns(rows));
  });
  return 0;
}

int run_replay(Output& out, const std::string& id, const std::string& to) {
  auto context = make_context(out.options());
  show_result(out, devx::webhook_replay(*context, id, to), [&](const json::value& doc) {
    const auto& request = doc.at("request");
    const auto& response = doc.at("response");
    out.status(cell(request, "method") + " " + cell(request, "url") + " → " +
               cell(response, "status"));
    if (cell(response, "body_encoding") != "base64") {
      if (const auto* body = response.as_object().if_contains("body");
          body != nullptr && body->is_string() && !body->as_string().empty()) {
        out.result(std::string(body->as_string()));
      }
    }
  });
  return 0;
}

}  // namespace

void add_webhook_commands(CLI::App& app, Cli& cli) {
  auto* webhook = app.add_subcommand("webhook", "Catch, list and replay webhooks");
  webhook->require_subcommand(1);

  auto flags = std::make_shared<CatchFlags>();
  auto* c = webhook->add_subcommand("catch", "Record every request to a local port (Ctrl-C stops)");
  c->add_option("-p,--port", flags->port, "port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  c->add_option("--bind", flags->bind, "address to listen on")->capture_default_str();
  c->add_option("--session", flags->session, "session name (default: a new one)");
  c->add_flag("-e,--expose", flags->expose, "also expose it through a Cloudflare quick tunnel");
  c->add_option("--status", flags->status, "HTTP status of every reply")
      ->check(CLI::Range(200, 599))
      ->capture_default_str();
  c->add_option("--body", flags->body, "JSON body of every reply");
  c->callback([&cli, flags] {
    cli.action = [&cli, flags](Output& out) { return run_catch(cli, out, *flags); };
  });

  auto session = std::make_shared<std::string>();
  auto* l = webhook->add_subcommand("list", "Sessions, or the requests of one session");
  l->alias("ls");
  l->add_option("session", *session, "the session to list");
  l->callback(
      [&cli, session] { cli.action = [session](Output& out) { return run_list(out, *session); }; });

  auto id = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto* r = webhook->add_subcommand("replay", "Re-send a recorded request");
  r->add_option("id", *id, "SESSION.SEQ, or SEQ of the newest session")->required();
  r->add_option("--to", *to, "base URL to send it to (the recorded path is appended)")->required();
  r->callback(
      [&cli, id, to] { cli.action = [id, to](Output& out) { return run_replay(out, *id, *to); }; });
}

}  // namespace devx::cli
