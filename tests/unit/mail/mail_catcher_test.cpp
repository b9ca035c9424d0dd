// The mail catcher with real SMTP clients (Python's smtplib in a subprocess, and a raw socket
// conversation) and its HTTP JSON view read with real HTTP requests.
#include <devx/error.hpp>
#include <devx/mail.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json/array.hpp>

#include <fstream>
#include <set>

#include "../webhook/catch_test_util.hpp"
#include "core/json.hpp"

namespace devx {
namespace {

namespace json = boost::json;
using test::Scratch;

struct Catcher {
  Operation op;
  json::object listening;
  int smtp_port() const { return static_cast<int>(core::int_field(listening, "smtp_port")); }
  std::string api() const { return core::string_field(listening, "http_url") + "/api/messages"; }
};

Catcher catcher(Context& context, MailCatcherOptions options = {}) {
  options.smtp_port = 0;
  options.http_port = 0;
  Operation op = start_mail_catcher(context, std::move(options));
  auto listening = test::wait_for_state(op, "listening");
  return {op, listening};
}

HttpResponse http(Context& context, const std::string& method, const std::string& url) {
  HttpRequest request;
  request.method = method;
  request.url = url;
  return context.http().send(request);
}

json::object get_json(Context& context, const std::string& url, long status = 200) {
  const auto r = http(context, "GET", url);
  EXPECT_EQ(r.status, status) << url << ": " << r.body;
  return core::parse_json_object_or_throw(r.body, url);
}

// Runs a Python smtplib script against the catcher; `script` sees PORT.
void python_send(Context& context, const Scratch& s, int port, const std::string& script) {
  const auto path = s.path() / "send.py";
  std::ofstream(path) << "import smtplib, sys, threading\n"
                         "from email.message import EmailMessage\n"
                         "PORT = int(sys.argv[1])\n"
                      << script;
  CommandSpec spec;
  spec.argv = {"python3", path.string(), std::to_string(port)};
  spec.timeout = std::chrono::seconds(120);
  const auto result = context.commands().run(spec);
  ASSERT_TRUE(result.ok()) << result.err;
}

constexpr const char* kTwoMessages = R"(
plain = EmailMessage()
plain["From"] = "alice@example.com"
plain["To"] = "bob@example.com"
plain["Subject"] = "Grüße ✓"
plain.set_content(".hidden\n..two\n.\nend\n")
html = EmailMessage()
html["From"] = "Shop <shop@example.com>"
html["To"] = "carol@example.com, dave@example.com"
html["Subject"] = "Your order"
html["Message-ID"] = "<order-1@example.com>"
html.set_content("Thanks for your order.\n")
html.add_alternative("<p>Thanks for your <b>order</b>.</p>\n", subtype="html")
html.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
with smtplib.SMTP("127.0.0.1", PORT) as s:
    s.send_message(plain)
    s.send_message(html, to_addrs=["carol@example.com", "dave@example.com", "bcc@example.com"])
)";

std::string without_cr(std::string text) {
  std::erase(text, '\r');
  return text;
}

TEST(MailCatcher, MessagesFromARealClientAreStoredAndServedAsJson) {
  Scratch s;
  auto context = s.context();
  auto c = catcher(*context);
  python_send(*context, s, c.smtp_port(), kTwoMessages);

  const auto list = get_json(*context, c.api());
  const auto& messages = list.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  // Newest first.
  const auto& html_summary = messages[0].as_object();
  const auto& plain_summary = messages[1].as_object();
  EXPECT_EQ(core::string_field(plain_summary, "subject"), "Grüße ✓");
  EXPECT_EQ(core::string_field(plain_summary, "mail_from"), "alice@example.com");
  EXPECT_EQ(html_summary.at("rcpt_to").as_array().size(), 3u);

  const auto plain = get_json(*context, c.api() + "/" + core::string_field(plain_summary, "id"));
  // Lines starting with dots survive the dot-stuffing round trip.
  EXPECT_EQ(without_cr(core::string_field(plain, "text")), ".hidden\n..two\n.\nend\n");
  EXPECT_EQ(core::string_field(plain.at("envelope").as_object(), "mail_from"), "alice@example.com");

  const auto html = get_json(*context, c.api() + "/" + core::string_field(html_summary, "id"));
  const auto& headers = html.at("headers").as_object();
  EXPECT_EQ(core::string_field(headers, "from"), "Shop <shop@example.com>");
  EXPECT_EQ(core::string_field(headers, "to"), "carol@example.com, dave@example.com");
  EXPECT_EQ(core::string_field(headers, "message_id"), "<order-1@example.com>");
  EXPECT_EQ(without_cr(core::string_field(html, "text")), "Thanks for your order.\n");
  EXPECT_EQ(without_cr(core::string_field(html, "html")), "<p>Thanks for your <b>order</b>.</p>\n");
  bool attachment = false;
  for (const auto& p : html.at("parts").as_array())
    attachment |= core::string_field(p.as_object(), "filename") == "invoice.pdf";
  EXPECT_TRUE(attachment);

  const auto raw =
      http(*context, "GET", c.api() + "/" + core::string_field(plain_summary, "id") + "/raw");
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(raw.header("content-type"), "message/rfc822");
  EXPECT_NE(raw.body.find("\r\n.hidden\r\n..two\r\n.\r\nend\r\n"), std::string::npos) << raw.body;
  EXPECT_EQ(raw.body,
            mail_message_raw(*context, "default", core::string_field(plain_summary, "id")));

  // The store is private.
  for (const auto& entry :
       std::filesystem::directory_iterator(context->home() / "mail" / "default" / "messages")) {
    struct stat st {};
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << entry.path();
  }
  test::stop(c.op);

  // The store outlives the catcher.
  const auto stored = core::parse_json_object_or_throw(mail_messages(*context), "messages");
  EXPECT_EQ(stored.at("messages").as_array().size(), 2u);
}

TEST(MailCatcher, DeletingOneAndAllMessages) {
  Scratch s;
  auto context = s.context();
  auto c = catcher(*context);
  python_send(*context, s, c.smtp_port(), kTwoMessages);
  auto messages = get_json(*context, c.api()).at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  const auto first = core::string_field(messages[0].as_object(), "id");

  EXPECT_EQ(http(*context, "DELETE", c.api() + "/" + first).status, 200);
  EXPECT_EQ(http(*context, "GET", c.api() + "/" + first).status, 404);
  EXPECT_EQ(http(*context, "DELETE", c.api() + "/" + first).status, 404);
  EXPECT_EQ(http(*context, "GET", c.api() + "/..%2F..%2Finstance").status, 404);
  EXPECT_EQ(get_json(*context, c.api()).at("messages").as_array().size(), 1u);

  const auto all = get_json(*context, c.api());
  EXPECT_EQ(http(*context, "DELETE", c.api()).status, 200);
  EXPECT_TRUE(get_json(*context, c.api()).at("messages").as_array().empty());
  test::stop(c.op);
  EXPECT_FALSE(all.at("messages").as_array().empty());
}

TEST(MailCatcher, ConcurrentSendersAllArrive) {
  Scratch s;
  auto context = s.context();
  auto c = catcher(*context);
  python_send(*context, s, c.smtp_port(), R"(
def worker(n):
    with smtplib.SMTP("127.0.0.1", PORT) as s:
        for i in range(5):
            m = EmailMessage()
            m["From"] = f"sender{n}@example.com"
            m["To"] = "sink@example.com"
            m["Subject"] = f"{n}-{i}"
            m.set_content("x" * (1000 * n + i))
            s.send_message(m)
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
)");
  const auto messages = get_json(*context, c.api()).at("messages").as_array();
  ASSERT_EQ(messages.size(), 40u);
  std::set<std::string> ids, subjects;
  for (const auto& m : messages) {
    ids.insert(core::string_field(m.as_object(), "id"));
    subjects.insert(core::string_field(m.as_object(), "subject"));
  }
  EXPECT_EQ(ids.size(), 40u);
  EXPECT_EQ(subjects.size(), 40u);
  test::stop(c.op);
}

// A line-oriented SMTP conversation over a plain socket.
class RawSmtp {
 public:
  explicit RawSmtp(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(static_cast<const void*>(&address)),
                  sizeof address) != 0)
      throw std::runtime_error("connect failed");
  }
  ~RawSmtp() { ::close(fd_); }
  RawSmtp(const RawSmtp&) = delete;
  RawSmtp& operator=(const RawSmtp&) = delete;

  // The full reply (all lines of a multi-line one).
  std::string reply() {
    std::string out;
    for (;;) {
      const auto eol = buffer_.find("\r\n");
      if (eol == std::string::npos) {
        char chunk[4096];
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return out + buffer_;
        buffer_.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      const std::string line = buffer_.substr(0, eol + 2);
      buffer_.erase(0, eol + 2);
      out += line;
      if (line.size() < 4 || line[3] != '-') return out;
    }
  }
  void send(const std::string& text) { ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
  std::string command(const std::string& line) {
    send(line + "\r\n");
    return reply();
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

TEST(MailCatcher, SmtpConversationFollowsTheProtocol) {
  Scratch s;
  auto context = s.context();
  MailCatcherOptions options;
  options.max_message_size = 2048;
  auto c = catcher(*context, options);
  RawSmtp smtp(c.smtp_port());
  EXPECT_TRUE(smtp.reply().starts_with("220 "));
  EXPECT_TRUE(smtp.command("MAIL FROM:<a@example.com>").starts_with("503 "));
  const auto ehlo = smtp.command("EHLO client.example");
  EXPECT_NE(ehlo.find("250-SIZE 2048\r\n"), std::string::npos) << ehlo;
  EXPECT_NE(ehlo.find("8BITMIME"), std::string::npos) << ehlo;
  EXPECT_TRUE(smtp.command("RCPT TO:<b@example.com>").starts_with("503 "));
  EXPECT_TRUE(smtp.command("DATA").starts_with("503 "));
  EXPECT_TRUE(smtp.command("MAIL FROM:<a@example.com> SIZE=999999").starts_with("552 "));
  EXPECT_TRUE(smtp.command("MAIL FROM:<> BODY=8BITMIME").starts_with("250 "));
  EXPECT_TRUE(smtp.command("MAIL FROM:<x@example.com>").starts_with("503 "));
  EXPECT_TRUE(smtp.command("RCPT TO:<not an address>").starts_with("501 "));
  EXPECT_TRUE(smtp.command("RCPT TO:<b@example.com>").starts_with("250 "));
  EXPECT_TRUE(smtp.command("NOOP").starts_with("250 "));
  EXPECT_TRUE(smtp.command("AUTH PLAIN AGhpAHB3").starts_with("502 "));
  EXPECT_TRUE(smtp.command("FROBNICATE").starts_with("500 "));
  EXPECT_TRUE(smtp.command("DATA").starts_with("354 "));
  // Pipelined: the whole body and the terminator in one write.
  const auto queued = smtp.command("Subject: raw\r\n\r\n..leading dot\r\nnot . end\r\n.");
  EXPECT_TRUE(queued.starts_with("250 ")) << queued;

  // Too large: refused after the data, and the session goes on.
  EXPECT_TRUE(smtp.command("MAIL FROM:<a@example.com>").starts_with("250 "));
  EXPECT_TRUE(smtp.command("RCPT TO:<b@example.com>").starts_with("250 "));
  EXPECT_TRUE(smtp.command("DATA").starts_with("354 "));
  EXPECT_TRUE(smtp.command(std::string(3000, 'y') + "\r\n.").starts_with("552 "));
  EXPECT_TRUE(smtp.command("RSET").starts_with("250 "));
  EXPECT_TRUE(smtp.command("QUIT").starts_with("221 "));

  const auto messages = core::parse_json_object_or_throw(mail_messages(*context), "messages")
                            .at("messages")
                            .as_array();
  ASSERT_EQ(messages.size(), 1u);
  const auto id = core::string_field(messages[0].as_object(), "id");
  EXPECT_NE(queued.find(id), std::string::npos) << queued;
  EXPECT_EQ(mail_message_raw(*context, "default", id),
            "Subject: raw\r\n\r\n.leading dot\r\nnot . end\r\n");
  const auto doc = core::parse_json_object_or_throw(mail_message(*context, "default", id), "m");
  EXPECT_EQ(core::string_field(doc.at("envelope").as_object(), "mail_from"), "");
  test::stop(c.op);
}

TEST(MailCatcher, InstancesEnvironmentAndOneCatcherPerInstance) {
  Scratch s;
  auto context = s.context();
  EXPECT_TRUE(mail_environment(*context).empty());
  auto c = catcher(*context);
  EXPECT_EQ(core::string_field(c.listening, "smtp_host"), "127.0.0.1");
  const auto env = mail_environment(*context);
  EXPECT_EQ(env.at("SMTP_HOST"), "127.0.0.1");
  EXPECT_EQ(env.at("SMTP_PORT"), std::to_string(c.smtp_port()));
  EXPECT_EQ(env.at("MAIL_CATCHER_URL"), core::string_field(c.listening, "http_url"));

  const auto instances = core::parse_json_object_or_throw(mail_instances(*context), "instances");
  ASSERT_EQ(instances.at("instances").as_array().size(), 1u);
  EXPECT_TRUE(instances.at("instances").as_array()[0].as_object().at("running").as_bool());

  auto second = start_mail_catcher(*context, {});
  try {
    second.result();
    FAIL() << "two catchers for one instance";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::already_exists) << e.to_json();
  }
  test::stop(c.op);
  EXPECT_TRUE(mail_environment(*context).empty());
  const auto after = core::parse_json_object_or_throw(mail_instances(*context), "instances");
  EXPECT_FALSE(after.at("instances").as_array()[0].as_object().at("running").as_bool());
}

TEST(MailCatcher, BadNamesUnknownIdsAndDryRuns) {
  Scratch s;
  auto context = s.context();
  MailCatcherOptions bad;
  bad.instance = "../x";
  EXPECT_THROW(start_mail_catcher(*context, bad), Error);
  try {
    mail_message(*context, "default", "../../etc/passwd");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }

  auto c = catcher(*context);
  python_send(*context, s, c.smtp_port(), kTwoMessages);
  test::stop(c.op);
  auto dry = s.context(true);
  const auto plan = core::parse_json_object_or_throw(mail_delete(*dry, "default"), "plan");
  EXPECT_TRUE(plan.at("dry_run").as_bool());
  EXPECT_EQ(plan.at("deleted").as_array().size(), 2u);
  EXPECT_EQ(core::parse_json_object_or_throw(mail_messages(*context), "m")
                .at("messages")
                .as_array()
                .size(),
            2u);
  auto start_plan = start_mail_catcher(*dry, {});
  EXPECT_NE(start_plan.result().find("\"dry_run\":true"), std::string::npos);
  const auto deleted = core::parse_json_object_or_throw(mail_delete(*context, "default"), "d");
  EXPECT_EQ(deleted.at("deleted").as_array().size(), 2u);
}

}  // namespace
}  // namespace devx
