#include "flags.hpp"

#include <charconv>
#include <cstdlib>

namespace devx::bridge_agent {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

long parse_number(const std::string& text, long min, long max, const std::string& what) {
  long value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < min || value > max) {
    throw UsageError("invalid " + what + ": '" + text + "'");
  }
  return value;
}

std::uint16_t parse_port(const std::string& text, const std::string& what, long min = 0) {
  return static_cast<std::uint16_t>(parse_number(text, min, 65535, what));
}

}  // namespace

const char* const kUsage =
    "usage: devx-bridge-agent --port=SERVICE_PORT:LISTEN_PORT [--port=...]\n"
    "         [--control-port=4200] [--control-bind=127.0.0.1]\n"
    "         [--health-port=4201] [--listen-bind=0.0.0.0]\n"
    "         [--grace=30s] [--first-session-timeout=DURATION (default: the grace)]\n"
    "         [--keepalive-interval=5s] [--keepalive-timeout=10s]\n"
    "environment: DEVX_BRIDGE_TOKEN (required), DEVX_BRIDGE_SESSION, DEVX_TARGET_SERVICE,\n"
    "             DEVX_TARGET_NAMESPACE\n";

std::chrono::milliseconds parse_duration(const std::string& text) {
  struct Unit {
    const char* suffix;
    long factor;
  };
  // Longest suffix first: "ms" before "s" and "m".
  for (const auto& unit : {Unit{"ms", 1}, Unit{"s", 1000}, Unit{"m", 60000}, Unit{"h", 3600000}}) {
    const std::string suffix = unit.suffix;
    if (text.size() > suffix.size() && text.ends_with(suffix)) {
      const auto number = text.substr(0, text.size() - suffix.size());
      return std::chrono::milliseconds(parse_number(number, 0, 1L << 40, "duration") * unit.factor);
    }
  }
  return std::chrono::milliseconds(parse_number(text, 0, 1L << 30, "duration") * 1000);
}

Options parse_options(const std::vector<std::string>& args) {
  Options options;
  auto& agent = options.agent;
  agent.yamux.keepalive_interval = std::chrono::seconds(5);
  agent.yamux.keepalive_timeout = std::chrono::seconds(10);
  // The pod's memory limit is 64 MiB: a 1 MiB window per stream bounds what a slow cluster client
  // can make the agent buffer (the developer's side keeps the large default).
  agent.yamux.max_stream_window = 1024 * 1024;

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (name == "--help" || name == "-h") {
      throw UsageError("");
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UsageError("missing value for " + name);
    }

    if (name == "--port") {
      const auto colon = value.find(':');
      if (colon == std::string::npos) throw UsageError("--port wants SERVICE_PORT:LISTEN_PORT");
      agent.ports.push_back({parse_port(value.substr(0, colon), "service port", 1),
                             parse_port(value.substr(colon + 1), "listen port")});
    } else if (name == "--control-port") {
      agent.control_port = parse_port(value, "control port");
    } else if (name == "--health-port") {
      agent.health_port = parse_port(value, "health port");
    } else if (name == "--control-bind") {
      agent.control_bind = value;
    } else if (name == "--listen-bind") {
      agent.listen_bind = value;
    } else if (name == "--grace") {
      agent.grace = parse_duration(value);
    } else if (name == "--first-session-timeout") {
      agent.first_session_timeout = parse_duration(value);
    } else if (name == "--keepalive-interval") {
      agent.yamux.keepalive_interval = parse_duration(value);
    } else if (name == "--keepalive-timeout") {
      agent.yamux.keepalive_timeout = parse_duration(value);
    } else {
      throw UsageError("unknown flag " + name);
    }
  }
  if (agent.ports.empty()) throw UsageError("at least one --port is required");

  agent.token = env("DEVX_BRIDGE_TOKEN");
  if (agent.token.empty()) throw UsageError("DEVX_BRIDGE_TOKEN is not set");
  options.session_id = env("DEVX_BRIDGE_SESSION");
  options.target_service = env("DEVX_TARGET_SERVICE");
  options.target_namespace = env("DEVX_TARGET_NAMESPACE");
  return options;
}

}  // namespace devx::bridge_agent
