#include "mail/mail_store.hpp"

#include <devx/error.hpp>

#include <signal.h>

#include <boost/json/array.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "mail/mime.hpp"
#include "runtime/private_file.hpp"

namespace devx::mail {
namespace {

namespace json = boost::json;

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

void check_instance_name(std::string_view instance) {
  const bool ok =
      !instance.empty() && instance.size() <= 63 &&
      instance.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
  if (!ok)
    throw Error(ErrorCode::invalid_argument,
                "'" + core::valid_utf8(instance) + "' is not a mail catcher instance name",
                "use lower-case letters, digits and '-' (at most 63)");
}

std::filesystem::path mail_root(const Context& context) { return context.home() / "mail"; }

MailStore::MailStore(const Context& context, std::string instance)
    : instance_(std::move(instance)), dir_(mail_root(context) / instance_) {
  check_instance_name(instance_);
}

bool MailStore::valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz-") == std::string_view::npos;
}

json::object MailStore::save(const std::string& id, const SmtpEnvelope& envelope,
                             const std::string& raw, const std::string& received) {
  json::array rcpt;
  for (const auto& r : envelope.rcpt_to) rcpt.push_back(json::string(core::valid_utf8(r)));
  json::object document{
      {"v", 1},
      {"id", id},
      {"instance", instance_},
      {"received", received},
      {"size", raw.size()},
      {"envelope", json::object{{"helo", core::valid_utf8(envelope.helo)},
                                {"mail_from", core::valid_utf8(envelope.mail_from)},
                                {"rcpt_to", std::move(rcpt)},
                                {"remote", envelope.remote}}}};
  for (auto& [key, value] : parse_message(raw)) document[key] = std::move(value);
  // The raw source first: a document never points at a message that is not there.
  runtime::write_private_file(messages_dir() / (id + ".eml"), raw);
  runtime::write_private_file(messages_dir() / (id + ".json"), core::to_json_string(document));
  return document;
}

std::vector<std::string> MailStore::ids() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(messages_dir(), ec)) {
    if (entry.path().extension() != ".json") continue;
    auto id = entry.path().stem().string();
    if (valid_id(id)) out.push_back(std::move(id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<json::object> MailStore::document(std::string_view id) const {
  if (!valid_id(id)) return std::nullopt;
  const auto text = read_file(messages_dir() / (std::string(id) + ".json"));
  if (!text) return std::nullopt;
  auto value = core::parse_json_or_null(*text);
  if (auto* o = value.if_object()) return std::move(*o);
  return std::nullopt;
}

std::optional<std::string> MailStore::raw(std::string_view id) const {
  if (!valid_id(id)) return std::nullopt;
  return read_file(messages_dir() / (std::string(id) + ".eml"));
}

bool MailStore::remove(std::string_view id) {
  if (!valid_id(id)) return false;
  std::error_code ec;
  const bool had = std::filesystem::remove(messages_dir() / (std::string(id) + ".json"), ec);
  std::filesystem::remove(messages_dir() / (std::string(id) + ".eml"), ec);
  return had;
}

json::object MailStore::summary(const json::object& document) {
  json::object out{{"id", core::string_field(document, "id")},
                   {"received", core::string_field(document, "received")},
                   {"mail_from", ""},
                   {"rcpt_to", json::array{}},
                   {"subject", ""},
                   {"size", core::int_field(document, "size")}};
  if (const auto* e = document.if_contains("envelope"); e && e->is_object()) {
    out["mail_from"] = core::string_field(e->as_object(), "mail_from");
    if (const auto* r = e->as_object().if_contains("rcpt_to"); r && r->is_array())
      out["rcpt_to"] = *r;
  }
  if (const auto* h = document.if_contains("headers"); h && h->is_object())
    out["subject"] = core::string_field(h->as_object(), "subject");
  return out;
}

std::optional<json::object> MailStore::instance_record() const {
  const auto text = read_file(dir_ / "instance.json");
  if (!text) return std::nullopt;
  auto value = core::parse_json_or_null(*text);
  if (auto* o = value.if_object()) return std::move(*o);
  return std::nullopt;
}

void MailStore::write_instance_record(const json::object& record) {
  runtime::write_private_file(dir_ / "instance.json", core::to_json_string(record));
}

void MailStore::remove_instance_record() {
  std::error_code ec;
  std::filesystem::remove(dir_ / "instance.json", ec);
}

bool owner_alive(const json::object& record) {
  const auto pid = core::int_field(record, "pid");
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace devx::mail
