// devx mail start|list|messages|show|rm — the local SMTP catcher and its stored messages
// (docs/mail.md). `start` serves in the foreground until Ctrl-C.
#include <devx/mail.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <iostream>
#include <memory>
#include <string>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/net_common.hpp"
#include "commands/plan_output.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct StartFlags {
  std::string instance = "default";
  std::string bind = "127.0.0.1";
  int smtp_port = 1025;
  int http_port = 8025;
};

// "listening" and "stopped" states as people read them; the "stopped" summary is the only place
// the message count is shown (Ctrl-C ends the operation as cancelled, without a result).
std::string catcher_state(const devx::Event& e) {
  json::error_code ec;
  const json::value data = json::parse(e.data_json, ec);
  if (ec || !data.is_object()) return e.message;
  if (const std::string received = cell(data, "messages_received"); received != "-") {
    return "received " + received + " message(s)";
  }
  if (cell(data, "smtp_port") == "-") return e.message;
  return "SMTP on " + cell(data, "smtp_host") + ":" + cell(data, "smtp_port") + ", messages at " +
         cell(data, "http_url") + " (Ctrl-C stops)";
}

int run_start(Cli& cli, Output& out, const StartFlags& flags) {
  devx::MailCatcherOptions options;
  options.instance = flags.instance;
  options.bind = flags.bind;
  options.smtp_port = flags.smtp_port;
  options.http_port = flags.http_port;
  auto context = make_context(out.options());
  serve_in_foreground(cli, out, devx::start_mail_catcher(*context, std::move(options)), "mail",
                      "mail catcher stopped", catcher_state);
  return 0;
}

int run_list(Output& out) {
  auto context = make_context(out.options());
  show_document(out, devx::mail_instances(*context), [&](const json::value& doc) {
    std::vector<std::vector<std::string>> rows{{"INSTANCE", "STATE", "SMTP", "HTTP", "MESSAGES"}};
    for (const auto& i : doc.at("instances").as_array()) {
      rows.push_back({cell(i, "instance"), cell(i, "running") == "yes" ? "running" : "stopped",
                      cell(i, "smtp_port"), cell(i, "http_url"), cell(i, "messages")});
    }
    if (rows.size() == 1) {
      out.status("no mail catcher yet (start one with: devx mail start)");
      return;
    }
    out.result(aligned_columns(rows));
  });
  return 0;
}

std::string recipients(const json::value& message) {
  std::string list;
  if (const auto* rcpt = message.as_object().if_contains("rcpt_to"); rcpt && rcpt->is_array()) {
    for (const auto& r : rcpt->as_array()) {
      if (r.is_string()) list += (list.empty() ? "" : ",") + std::string(r.as_string());
    }
  }
  return list.empty() ? "-" : list;
}

int run_messages(Output& out, const std::string& instance) {
  auto context = make_context(out.options());
  show_document(out, devx::mail_messages(*context, instance), [&](const json::value& doc) {
    std::vector<std::vector<std::string>> rows{{"ID", "RECEIVED", "FROM", "TO", "SUBJECT", "SIZE"}};
    for (const auto& m : doc.at("messages").as_array()) {
      rows.push_back({cell(m, "id"), cell(m, "received"), cell(m, "mail_from"), recipients(m),
                      cell(m, "subject"), cell(m, "size")});
    }
    if (rows.size() == 1) {
      out.status("no messages in " + instance);
      return;
    }
    out.result(aligned_columns(rows));
  });
  return 0;
}

int run_show(Output& out, const std::string& instance, const std::string& id, bool raw) {
  auto context = make_context(out.options());
  if (raw) {
    // The message source exactly as received, also with --json (it is not a document).
    std::cout << devx::mail_message_raw(*context, instance, id) << std::flush;
    return 0;
  }
  show_document(out, devx::mail_message(*context, instance, id), [&](const json::value& doc) {
    const auto& headers = doc.at("headers");
    std::vector<std::vector<std::string>> rows{{"From:", cell(headers, "from")},
                                               {"To:", cell(headers, "to")},
                                               {"Subject:", cell(headers, "subject")},
                                               {"Date:", cell(headers, "date")}};
    std::string text = aligned_columns(rows) + "\n";
    if (const auto* body = doc.as_object().if_contains("text"); body && body->is_string()) {
      text += std::string(body->as_string());
    } else if (doc.as_object().contains("html")) {
      text += "(HTML only; see --json or --raw)";
    }
    out.result(text);
  });
  return 0;
}

int run_rm(Output& out, const std::string& instance, const std::string& id, bool all) {
  if (all == !id.empty()) {
    throw devx::Error(devx::ErrorCode::invalid_argument,
                      all ? "pass either a message id or --all, not both"
                          : "which message? pass its id, or --all",
                      "see them with: devx mail messages");
  }
  auto context = make_context(out.options());
  show_result(out, devx::mail_delete(*context, instance, id), [&](const json::value& doc) {
    out.status(out.paint(Style::green, "✓") + " deleted " +
               std::to_string(doc.at("deleted").as_array().size()) + " message(s)");
  });
  return 0;
}

}  // namespace

void add_mail_commands(CLI::App& app, Cli& cli) {
  auto* mail = app.add_subcommand("mail", "A local SMTP catcher and the mail it received");
  mail->require_subcommand(1);
  auto instance = std::make_shared<std::string>("default");
  mail->add_option("--instance", *instance, "catcher instance ([a-z0-9-]+)")->capture_default_str();
  auto sub = [mail](const char* name, const char* description) {
    auto* command = mail->add_subcommand(name, description);
    command->fallthrough();
    return command;
  };

  auto start = std::make_shared<StartFlags>();
  auto* s = sub("start", "Run the SMTP catcher and its HTTP view (Ctrl-C stops)");
  s->add_option("--bind", start->bind, "address to listen on")->capture_default_str();
  s->add_option("--smtp-port", start->smtp_port, "SMTP port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  s->add_option("--http-port", start->http_port, "HTTP port of the JSON view (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  s->callback([&cli, start, instance] {
    cli.action = [&cli, start, instance](Output& out) {
      start->instance = *instance;
      return run_start(cli, out, *start);
    };
  });

  sub("list", "The catcher instances")->callback([&cli] {
    cli.action = [](Output& out) { return run_list(out); };
  });
  sub("messages", "The received messages, newest first")->callback([&cli, instance] {
    cli.action = [instance](Output& out) { return run_messages(out, *instance); };
  });

  auto id = std::make_shared<std::string>();
  auto raw = std::make_shared<bool>(false);
  auto* w = sub("show", "One message");
  w->add_option("id", *id, "the message id")->required();
  w->add_flag("--raw", *raw, "the source as received");
  w->callback([&cli, instance, id, raw] {
    cli.action = [instance, id, raw](Output& out) { return run_show(out, *instance, *id, *raw); };
  });

  auto rm_id = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto* r = sub("rm", "Delete a message, or --all");
  r->add_option("id", *rm_id, "the message id");
  r->add_flag("--all", *all, "every message of the instance");
  r->callback([&cli, instance, rm_id, all] {
    cli.action = [instance, rm_id, all](Output& out) {
      return run_rm(out, *instance, *rm_id, *all);
    };
  });
}

}  // namespace devx::cli
