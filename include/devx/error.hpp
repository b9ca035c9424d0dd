#pragma once
// The one error type of libdevx. Codes are stable: they are shared with the C ABI
// (devx_status_t), the bindings and the CLI's exit codes (docs/errors.md).
#include <devx/export.hpp>

#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace devx {

enum class ErrorCode : int {
  ok = 0,
  internal = 1,           // a bug in libdevx
  invalid_argument = 2,   // bad call or command-line usage
  config_not_found = 3,   // no devx.yaml in the directory or its parents
  config_invalid = 4,     // devx.yaml failed to load or validate; details.diagnostics
  io = 5,                 // a file or socket operation failed
  not_found = 6,          // a named object does not exist
  already_exists = 7,     // the object exists / the resource is held by someone else
  timeout = 8,            // the operation did not finish in time
  cancelled = 9,          // the caller cancelled the operation
  command_failed = 10,    // an external command exited non-zero
  command_not_found = 11, // an external command is not installed
  http = 12,              // an HTTP request failed or returned an error status
  port_in_use = 13,       // no usable port could be found
  locked = 14,            // a state lock is held by another process
  unsupported = 15,       // valid request this platform or version does not support
  prompt_required = 16,   // a confirmation was needed and no TTY was there (pass -y)
  conflict = 17,          // the object changed under us (a precondition failed) or is taken
  unreachable = 18,       // a remote endpoint (cluster API, tunnel peer) cannot be reached
  permission_denied = 19, // the remote side refused the credentials (RBAC, API token)
};

// Stable snake_case name of a code ("config_invalid"); "unknown" for values outside the table.
DEVX_API std::string_view error_code_name(ErrorCode code) noexcept;

class DEVX_API Error : public std::exception {
 public:
  Error(ErrorCode code, std::string message, std::string hint = {}, std::string details_json = {});

  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& hint() const noexcept { return hint_; }
  // A JSON object ("{}" when there are no details).
  const std::string& details_json() const noexcept { return details_json_; }
  // The error that caused this one, or nullptr.
  const Error* cause() const noexcept { return cause_.get(); }

  Error& with_cause(const Error& cause);
  const char* what() const noexcept override { return what_.c_str(); }

  // {"code":"config_invalid","status":4,"message":…,"hint":…,"details":{…},"cause":{…}}
  std::string to_json() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string hint_;
  std::string details_json_;
  std::string what_;
  std::shared_ptr<const Error> cause_;
};

}  // namespace devx
