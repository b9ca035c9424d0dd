#pragma once
// Command line and environment of devx-bridge-agent (see docs/bridge-protocol.md §5).

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "bridge/tunnel/agent.hpp"

namespace devx::bridge_agent {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  bridge::tunnel::AgentConfig agent;
  std::string session_id;        // DEVX_BRIDGE_SESSION
  std::string target_service;    // DEVX_TARGET_SERVICE
  std::string target_namespace;  // DEVX_TARGET_NAMESPACE
};

// "30s", "500ms", "2m", "1h"; a bare number is seconds.
std::chrono::milliseconds parse_duration(const std::string& text);

// Reads argv and the environment. Throws UsageError with a message for the user.
Options parse_options(const std::vector<std::string>& args);

extern const char* const kUsage;

}  // namespace devx::bridge_agent
