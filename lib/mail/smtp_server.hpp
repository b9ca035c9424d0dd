#pragma once
// The SMTP side of the mail catcher: an RFC 5321 subset (EHLO/HELO, MAIL FROM, RCPT TO, DATA with
// dot-unstuffing, RSET, NOOP, VRFY, HELP, QUIT; SIZE, 8BITMIME, PIPELINING) that accepts every
// message for every recipient and relays nothing.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "webhook/loopback_server.hpp"

namespace devx::mail {

struct SmtpEnvelope {
  std::string helo;
  std::string mail_from;  // "" for the null reverse path <>
  std::vector<std::string> rcpt_to;
  std::string remote;  // "ip:port"
};

struct SmtpSettings {
  std::string hostname = "devx-mail";
  std::size_t max_message_size = 25 * 1024 * 1024;
  std::size_t max_recipients = 1000;
};

// Called once per accepted message with its dot-unstuffed content (CRLF line ends). Returns the
// stored id (quoted in the 250 reply); an exception makes the reply 451 and the message is lost.
using DeliverMessage = std::function<std::string(const SmtpEnvelope&, std::string data)>;

// Binds at construction (Error(port_in_use) when taken) and serves on `loop`.
class SmtpListener {
 public:
  SmtpListener(net::EventLoop& loop, const std::string& address, int port, SmtpSettings settings,
               DeliverMessage deliver);
  ~SmtpListener();
  SmtpListener(const SmtpListener&) = delete;
  SmtpListener& operator=(const SmtpListener&) = delete;
  int port() const noexcept;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// "<a@b>" / "<>" / "a@b" (lenient) from the argument of MAIL FROM: / RCPT TO:, with any ESMTP
// parameters after it in `params`. False for a path that is not one.
bool parse_smtp_path(std::string_view argument, std::string& address, std::string& params);

}  // namespace devx::mail
