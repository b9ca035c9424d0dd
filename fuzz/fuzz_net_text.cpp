// libFuzzer target for the small text parsers of the networking domains; the first byte picks
// one, the rest is its input:
//   0  the quick tunnel URL in a line of cloudflared's stderr (lib/webhook)
//   1  the edge proxy's Authorization check against fixed credentials: it must accept nothing
//      but "Basic <base64 of exactly user:password>" (lib/edge)
//   2  throttle profile names and user:pass credentials as given on the command line (lib/edge)
//   3  session and instance names (webhook, inspector, mail catcher)
//   4  a caught webhook request's record: valid UTF-8 everywhere, and the body reads back
//   5  the Cloudflare Retry-After delay and url_encode (lib/tunnel; free functions only)
#include <devx/edge.hpp>
#include <devx/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "edge/edge_internal.hpp"
#include "fuzz_checks.hpp"
#include "mail/mail_store.hpp"
#include "tunnel/cloudflare_api.hpp"
#include "webhook/quick_tunnel.hpp"
#include "webhook/session_log.hpp"

namespace {

namespace json = boost::json;

using devx::fuzz::require_utf8;

// An error is reported as text and as JSON details: both must stay valid whatever the input.
void require_clean_error(const devx::Error& e) {
  if (e.message().empty()) __builtin_trap();
  require_utf8(e.message());
  require_utf8(e.hint());
  if (!e.details_json().empty()) (void)json::parse(e.details_json());
}

void fuzz_quick_tunnel(std::string_view line) {
  const auto url = devx::webhook::quick_tunnel_url(line);
  if (!url) return;
  constexpr std::string_view scheme = "https://", suffix = ".trycloudflare.com";
  if (!url->starts_with(scheme) || !url->ends_with(suffix)) __builtin_trap();
  const auto label =
      std::string_view(*url).substr(scheme.size(), url->size() - scheme.size() - suffix.size());
  if (label.empty() ||
      label.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string_view::npos)
    __builtin_trap();
  const auto at = line.find(*url);
  if (at == std::string_view::npos) __builtin_trap();
}

// Independent strict RFC 4648 decoding: length a multiple of 4, '=' only as the last one or two
// characters.
std::optional<std::string> reference_base64(std::string_view text) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i + padding < text.size(); ++i) {
    const auto v = alphabet.find(text[i]);
    if (v == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

void fuzz_basic_auth(std::string_view header) {
  static const std::array<devx::BasicAuthCredentials, 3> credentials{{
      {"alice", "s3cret"},
      {"admin", "pa:ss word"},
      {"u", ""},
  }};
  for (const auto& expected : credentials) {
    if (!devx::edge::basic_auth_matches(expected, header)) continue;
    // Accepted: "Basic" (any case), spaces, the base64 of exactly user:password, spaces.
    if (header.size() < 6) __builtin_trap();
    for (std::size_t i = 0; i < 5; ++i) {
      if (std::tolower(static_cast<unsigned char>(header[i])) != "basic"[i]) __builtin_trap();
    }
    auto encoded = header.substr(5);
    if (encoded.empty() || encoded.front() != ' ') __builtin_trap();
    while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
    while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
    const auto decoded = reference_base64(encoded);
    if (!decoded || *decoded != expected.user + ":" + expected.password) __builtin_trap();
  }
}

void fuzz_options(std::string_view text) {
  try {
    const auto profile = devx::throttle_profile(text);
    if (profile.name != text) __builtin_trap();
  } catch (const devx::Error& e) {
    require_clean_error(e);
  }
  try {
    const auto credentials = devx::parse_basic_auth(text);
    if (credentials.user.empty() || credentials.user.find(':') != std::string::npos ||
        credentials.user + ":" + credentials.password != text)
      __builtin_trap();
  } catch (const devx::Error& e) {
    require_clean_error(e);
  }
}

template <class Check>
void name_check(std::string_view name, std::string_view allowed, std::size_t max, Check check) {
  bool accepted = true;
  try {
    check(name);
  } catch (const devx::Error& e) {
    accepted = false;
    require_clean_error(e);
  }
  if (accepted && (name.empty() || name.size() > max ||
                   name.find_first_not_of(allowed) != std::string_view::npos))
    __builtin_trap();
}

void fuzz_names(std::string_view name) {
  constexpr std::string_view alnum =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  name_check(name, std::string(alnum) + "_-", 100, devx::webhook::check_session_name);
  name_check(name, std::string(alnum) + "._-", 128, devx::edge::validate_session_name);
  name_check(name, "abcdefghijklmnopqrstuvwxyz0123456789-", 63, devx::mail::check_instance_name);
  try {
    devx::edge::validate_session_name(name);
    if (name == "." || name == "..") __builtin_trap();
  } catch (const devx::Error&) {
  }
}

// Input: target '\n' header-name '\n' header-value '\n' body.
void fuzz_webhook_record(std::string_view input) {
  auto take_line = [&input]() {
    const auto eol = input.find('\n');
    const auto line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    return std::string(line);
  };
  devx::net::HttpServerRequest request;
  request.method = "POST";
  request.target = take_line();
  auto name = take_line();
  auto value = take_line();
  request.headers.emplace_back(std::move(name), std::move(value));
  request.body = std::string(input);
  request.body_size = request.body.size();
  request.remote = "127.0.0.1:40000";
  request.started = std::chrono::steady_clock::now();
  const auto record = devx::webhook::make_record("fuzz", 1, std::chrono::system_clock::now(),
                                                 request, request.started);
  require_utf8(json::value(record));
  const auto line = devx::core::to_json_string(record);
  const auto back = json::parse(line);
  if (!back.is_object() || devx::webhook::record_body(back.as_object()) != request.body)
    __builtin_trap();
}

void fuzz_cloudflare(std::string_view input) {
  using namespace std::chrono;
  const int retry = input.empty() ? 1 : static_cast<unsigned char>(input.front()) - 100;
  const auto header = input.empty() ? input : input.substr(1);
  for (const double jitter : {-1.0, 0.0, 0.5, 1.0, 2.0}) {
    const auto delay = devx::tunnel::cloudflare_retry_delay(retry, header, jitter);
    if (delay < milliseconds(0) || delay > seconds(30)) __builtin_trap();
  }
  const auto encoded = devx::tunnel::url_encode(header);
  if (encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                "-._~%") != std::string::npos)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      fuzz_quick_tunnel(input);
      break;
    case 1:
      fuzz_basic_auth(input);
      break;
    case 2:
      fuzz_options(input);
      break;
    case 3:
      fuzz_names(input);
      break;
    case 4:
      fuzz_webhook_record(input);
      break;
    default:
      fuzz_cloudflare(input);
      break;
  }
  return 0;
}
