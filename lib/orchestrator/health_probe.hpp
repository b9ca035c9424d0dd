#pragma once
// One health probe attempt. http: a raw HTTP/1.1 GET on a socket (2xx/3xx healthy; https goes
// through the HttpClient seam); tcp: a connect; exec: the command exits 0. Every attempt is bounded
// by the check's `timeout`. The `log` kind is not probed: output lines are matched as they arrive.
#include <devx/config.hpp>
#include <devx/context.hpp>

#include <chrono>
#include <map>
#include <stop_token>
#include <string>

namespace devx::orchestrator {

struct ProbeResult {
  bool healthy = false;
  std::string detail;  // "HTTP 503", "connection refused", "exit 1" …
};

ProbeResult probe_http(std::string_view url, std::chrono::milliseconds timeout, Context& context);
ProbeResult probe_tcp(std::string_view address, std::chrono::milliseconds timeout);
ProbeResult probe_exec(Context& context, const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& cwd,
                       std::chrono::milliseconds timeout, std::stop_token stop);

ProbeResult run_probe(Context& context, const HealthCheck& check,
                      const std::map<std::string, std::string>& env, const std::string& cwd,
                      std::stop_token stop);

}  // namespace devx::orchestrator
