#include <devx/error.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <utility>

#include "core/json.hpp"

namespace devx {
namespace {

// Indexed by the enum value; must match ErrorCode exactly (checked by error_test).
constexpr std::array<std::string_view, 20> kErrorCodeNames = {
    "ok",
    "internal",
    "invalid_argument",
    "config_not_found",
    "config_invalid",
    "io",
    "not_found",
    "already_exists",
    "timeout",
    "cancelled",
    "command_failed",
    "command_not_found",
    "http",
    "port_in_use",
    "locked",
    "unsupported",
    "prompt_required",
    "conflict",
    "unreachable",
    "permission_denied",
};

boost::json::value error_to_value(const Error& error) {
  boost::json::object out;
  out["code"] = error_code_name(error.code());
  out["status"] = static_cast<int>(error.code());
  out["message"] = error.message();
  out["hint"] = error.hint();
  boost::json::value details = core::parse_json_or_null(error.details_json());
  if (details.is_object()) {
    out["details"] = std::move(details);
  } else if (details.is_null()) {
    out["details"] = boost::json::object();
  } else {
    // Not an object: keep it, but under a key, so "details" is always an object.
    boost::json::object wrapped;
    wrapped["value"] = std::move(details);
    out["details"] = std::move(wrapped);
  }
  if (const Error* cause = error.cause()) out["cause"] = error_to_value(*cause);
  return out;
}

}  // namespace

std::string_view error_code_name(ErrorCode code) noexcept {
  const auto index = static_cast<std::size_t>(code);
  if (static_cast<int>(code) < 0 || index >= kErrorCodeNames.size()) return "unknown";
  return kErrorCodeNames[index];
}

Error::Error(ErrorCode code, std::string message, std::string hint, std::string details_json)
    : code_(code),
      message_(std::move(message)),
      hint_(std::move(hint)),
      details_json_(details_json.empty() ? std::string("{}") : std::move(details_json)),
      what_(message_) {}

Error& Error::with_cause(const Error& cause) {
  cause_ = std::make_shared<const Error>(cause);
  return *this;
}

std::string Error::to_json() const { return core::to_json_string(error_to_value(*this)); }

}  // namespace devx
