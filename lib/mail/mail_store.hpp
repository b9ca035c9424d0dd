#pragma once
// The files of a mail catcher instance under DEVX_HOME/mail/<instance>/ (layout in
// include/devx/mail.hpp). Every file is 0600 in 0700 directories.
#include <devx/context.hpp>

#include <boost/json/object.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/smtp_server.hpp"

namespace devx::mail {

// Error(invalid_argument) unless the instance name is [a-z0-9-]{1,63}.
void check_instance_name(std::string_view instance);
std::filesystem::path mail_root(const Context& context);

class MailStore {
 public:
  MailStore(const Context& context, std::string instance);
  const std::string& instance() const noexcept { return instance_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }

  // Writes <id>.eml and <id>.json; returns the message document.
  boost::json::object save(const std::string& id, const SmtpEnvelope& envelope,
                           const std::string& raw, const std::string& received);
  // Message ids, oldest first.
  std::vector<std::string> ids() const;
  // The message document / raw source; nullopt for an unknown or malformed id.
  std::optional<boost::json::object> document(std::string_view id) const;
  std::optional<std::string> raw(std::string_view id) const;
  // Removes one message; false when there was none.
  bool remove(std::string_view id);
  // {"id","received","mail_from","rcpt_to","subject","size"} of a message document.
  static boost::json::object summary(const boost::json::object& document);

  // instance.json of the running catcher; nullopt when none was recorded.
  std::optional<boost::json::object> instance_record() const;
  void write_instance_record(const boost::json::object& record);
  void remove_instance_record();

 private:
  std::filesystem::path messages_dir() const { return dir_ / "messages"; }
  static bool valid_id(std::string_view id);

  std::string instance_;
  std::filesystem::path dir_;
};

// Whether the process of a record's "pid" is alive.
bool owner_alive(const boost::json::object& record);

}  // namespace devx::mail
