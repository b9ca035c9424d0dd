// libFuzzer target for the mail catcher's parsers of what an SMTP client sends: the first byte
// picks the parser, the rest is its input. None may crash, leak or hit UB; every string of the
// parsed message (a JSON document served by the catcher's API) and every decoded header value
// must be valid UTF-8, as mime.hpp promises.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "mail/mime.hpp"
#include "mail/smtp_server.hpp"

namespace {

namespace json = boost::json;

using devx::fuzz::require_utf8;

void fuzz_message(std::string_view input) {
  const json::object message = devx::mail::parse_message(input);
  require_utf8(json::value(message));
  const auto* parts = message.if_contains("parts");
  if (parts == nullptr || !parts->is_array()) __builtin_trap();
  // The serialized document reads back (what the catcher's API serves).
  (void)json::parse(json::serialize(message));
}

void fuzz_header_block(std::string_view input) {
  std::size_t body_offset = 0;
  const auto fields = devx::mail::parse_header_block(input, body_offset);
  if (body_offset > input.size()) __builtin_trap();
  for (const auto& [name, value] : fields) {
    // Unfolded: no line breaks survive in a name or a value.
    if (name.find('\n') != std::string::npos || value.find('\n') != std::string::npos)
      __builtin_trap();
  }
}

void fuzz_transfer_encoding(std::string_view input) {
  // Decoding never grows the text.
  if (devx::mail::decode_transfer_encoding(input, "quoted-printable").size() > input.size())
    __builtin_trap();
  if (devx::mail::decode_transfer_encoding(input, "base64").size() > input.size()) __builtin_trap();
  if (devx::mail::decode_transfer_encoding(input, "7bit") != input) __builtin_trap();
}

void fuzz_smtp_path(std::string_view input) {
  std::string address = "unchanged", params;
  if (!devx::mail::parse_smtp_path(input, address, params)) return;
  if (address.find_first_of(" <>\r\n") != std::string::npos) __builtin_trap();
  if (address.size() + params.size() > input.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      fuzz_message(input);
      break;
    case 1:
      require_utf8(devx::mail::decode_header_value(input));
      break;
    case 2:
      fuzz_smtp_path(input);
      break;
    case 3:
      fuzz_transfer_encoding(input);
      break;
    default:
      fuzz_header_block(input);
      break;
  }
  return 0;
}
