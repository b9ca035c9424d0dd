// Option checks, throttle profiles, credentials and the chain's plan.
#include <devx/edge.hpp>
#include <devx/error.hpp>

#include <arpa/inet.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <string>

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "edge/edge_internal.hpp"
#include "vm/ignition/encoding.hpp"

namespace devx {

namespace {

using namespace std::chrono_literals;

const std::array<ThrottleProfile, 3>& profiles() {
  static const std::array<ThrottleProfile, 3> table{{
      {"3g", 200ms, 50ms, 250 * 1024},
      {"edge", 400ms, 100ms, 50 * 1024},
      {"slow", 500ms, 200ms, 10 * 1024},
  }};
  return table;
}

bool is_ip_literal(const std::string& text) {
  std::array<unsigned char, 16> address{};
  return ::inet_pton(AF_INET, text.c_str(), address.data()) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), address.data()) == 1;
}

void check_port(int port, std::string_view what, bool zero_allowed) {
  if (port < (zero_allowed ? 0 : 1) || port > 65535) {
    throw Error(ErrorCode::invalid_argument,
                std::string(what) + " " + std::to_string(port) + " is not a TCP port",
                zero_allowed ? "use 1-65535, or 0 for any free port" : "use 1-65535");
  }
}

}  // namespace

BasicAuthCredentials parse_basic_auth(std::string_view user_colon_password) {
  const auto colon = user_colon_password.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw Error(ErrorCode::invalid_argument, "invalid basic-auth credentials: expected user:pass",
                colon == 0 ? "the user name must not be empty"
                           : "separate the user name and the password with ':'");
  }
  return BasicAuthCredentials{std::string(user_colon_password.substr(0, colon)),
                              std::string(user_colon_password.substr(colon + 1))};
}

ThrottleProfile throttle_profile(std::string_view name) {
  for (const auto& profile : profiles()) {
    if (profile.name == name) return profile;
  }
  boost::json::object details;
  details["profile"] = core::valid_utf8(name);
  boost::json::array supported;
  for (const auto& profile : profiles()) supported.emplace_back(profile.name);
  details["supported"] = supported;
  throw Error(ErrorCode::invalid_argument,
              "unknown throttle profile \"" + core::valid_utf8(name) + "\"",
              "supported profiles: 3g, edge, slow", core::to_json_string(details));
}

std::vector<std::string> throttle_profile_names() {
  std::vector<std::string> names;
  for (const auto& profile : profiles()) names.push_back(profile.name);
  return names;
}

std::string edge_proxy_plan(Context& context, const EdgeProxyOptions& options) {
  edge::validate_options(options);
  boost::json::array actions;
  // Listed from the client side inwards, in the order traffic passes.
  const bool http = options.basic_auth.has_value() || options.inspect;
  auto listen = [&](std::string layer, std::string description, int port, int target) {
    boost::json::object action;
    action["kind"] = "listen";
    action["description"] = std::move(description);
    action["layer"] = std::move(layer);
    action["host"] = options.bind;
    action["port"] = port;
    action["target_port"] = target;
    actions.push_back(std::move(action));
  };
  const std::string inner =
      http ? "the HTTP proxy" : "127.0.0.1:" + std::to_string(options.target_port);
  if (!options.throttle.empty()) {
    listen("throttle", "throttle (" + options.throttle + ") to " + inner, options.listen_port,
           http ? 0 : options.target_port);
  }
  if (http) {
    std::string what = options.basic_auth ? "basic auth" : "";
    if (options.inspect) what += what.empty() ? "inspector" : " + inspector";
    listen("http", what + " to 127.0.0.1:" + std::to_string(options.target_port),
           options.throttle.empty() ? options.listen_port : 0, options.target_port);
  }
  if (options.throttle.empty() && !http) {
    listen("tcp", "plain relay to 127.0.0.1:" + std::to_string(options.target_port),
           options.listen_port, options.target_port);
  }
  boost::json::object plan;
  plan["v"] = 1;
  plan["operation"] = "edge.proxy";
  plan["dry_run"] = context.dry_run();
  plan["actions"] = std::move(actions);
  if (options.inspect) {
    const std::string session =
        options.inspect_options.session.empty()
            ? edge::default_session_name(context.clock().now(), options.target_port)
            : options.inspect_options.session;
    plan["session"] = session;
    plan["capture_dir"] = (context.home() / "inspect" / session).string();
  }
  return core::to_json_string(plan);
}

namespace edge {

void validate_session_name(std::string_view session) {
  const bool valid =
      !session.empty() && session.size() <= 128 && session != "." && session != ".." &&
      std::all_of(session.begin(), session.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!valid) {
    throw Error(ErrorCode::invalid_argument,
                "invalid inspector session name \"" + core::valid_utf8(session) + "\"",
                "use letters, digits, '.', '_' and '-' (at most 128)");
  }
}

void validate_options(const EdgeProxyOptions& options) {
  check_port(options.target_port, "target port", false);
  check_port(options.listen_port, "listen port", true);
  if (!is_ip_literal(options.bind)) {
    throw Error(ErrorCode::invalid_argument,
                "bind address \"" + core::valid_utf8(options.bind) + "\" is not an IP address",
                "use 127.0.0.1 (the default) or another literal address");
  }
  if (!options.throttle.empty()) static_cast<void>(throttle_profile(options.throttle));
  if (options.basic_auth && options.basic_auth->user.empty()) {
    throw Error(ErrorCode::invalid_argument, "basic auth needs a user name",
                "pass credentials as user:pass");
  }
  if (options.inspect && !options.inspect_options.session.empty()) {
    validate_session_name(options.inspect_options.session);
  }
}

std::string default_session_name(std::chrono::system_clock::time_point now, int target_port) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  const auto n = std::strftime(text.data(), text.size(), "%Y%m%d-%H%M%S", &utc);
  return std::string(text.data(), n) + "-" + std::to_string(target_port);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  const std::size_t longest = std::max(a.size(), b.size());
  unsigned difference = a.size() == b.size() ? 0U : 1U;
  for (std::size_t i = 0; i < longest; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    difference |= static_cast<unsigned>(x ^ y);
  }
  return difference == 0;
}

bool basic_auth_matches(const BasicAuthCredentials& expected, std::string_view authorization) {
  constexpr std::string_view scheme = "basic ";
  if (authorization.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  }
  auto encoded = authorization.substr(scheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  const auto decoded = ignition::base64_decode(encoded);
  if (!decoded) return false;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  const std::string_view text(*decoded);
  // Both parts are compared whatever the first one's outcome: `&`, not `&&`.
  const bool user_ok = constant_time_equal(text.substr(0, colon), expected.user);
  const bool password_ok = constant_time_equal(text.substr(colon + 1), expected.password);
  return user_ok & password_ok;
}

boost::json::object ProxyStats::to_json() const {
  boost::json::object o;
  o["connections"] = connections.load();
  o["active"] = active.load();
  o["bytes_up"] = bytes_up.load();
  o["bytes_down"] = bytes_down.load();
  o["requests"] = requests.load();
  o["rejected"] = rejected.load();
  o["upstream_errors"] = upstream_errors.load();
  o["accept_errors"] = accept_errors.load();
  return o;
}

bool is_hop_by_hop(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 8> names{
      "connection",          "keep-alive", "proxy-connection", "proxy-authenticate",
      "proxy-authorization", "te",         "trailer",          "upgrade"};
  return std::find(names.begin(), names.end(), lower_name) != names.end();
}

}  // namespace edge
}  // namespace devx
