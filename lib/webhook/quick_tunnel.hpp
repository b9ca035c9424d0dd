#pragma once
// A Cloudflare quick tunnel in front of a local port: `cloudflared tunnel --url … --no-autoupdate`,
// whose public URL is read from cloudflared's log (stderr).
#include <devx/context.hpp>
#include <devx/process.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace devx::webhook {

// The quick tunnel's URL in one line of cloudflared's output: the first
// https://<label>.trycloudflare.com. Other cloudflare.com links (the terms of service line comes
// first) are not it.
std::optional<std::string> quick_tunnel_url(std::string_view line);

std::vector<std::string> quick_tunnel_argv(const std::string& cloudflared,
                                           const std::string& local_url);

// The running cloudflared child. stop() (also run by the destructor) terminates it once.
class QuickTunnel {
 public:
  // Spawns cloudflared and waits for its URL. Error(timeout) when none appears within `timeout`,
  // Error(command_failed) when cloudflared exits first (its last lines in details),
  // Error(cancelled) when `stop` is requested meanwhile. The child is terminated on every error.
  QuickTunnel(Context& context, const std::string& cloudflared, const std::string& local_url,
              std::chrono::milliseconds timeout, std::stop_token stop);
  ~QuickTunnel();
  QuickTunnel(const QuickTunnel&) = delete;
  QuickTunnel& operator=(const QuickTunnel&) = delete;

  const std::string& url() const noexcept { return url_; }
  int pid() const noexcept;
  // Whether cloudflared is still running.
  bool running();
  void stop();

 private:
  std::unique_ptr<ChildProcess> child_;
  std::string url_;
};

}  // namespace devx::webhook
