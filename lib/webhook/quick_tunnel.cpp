// cloudflared quick tunnels for the webhook catcher.
#include "webhook/quick_tunnel.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "core/json.hpp"

namespace devx::webhook {
namespace {

// What the reader thread of the child shares with the waiting thread.
struct Sighting {
  std::mutex mutex;
  std::condition_variable_any changed;
  std::string url;
  std::deque<std::string> last_lines;
};

constexpr std::size_t kKeptLines = 20;
constexpr auto kGrace = std::chrono::milliseconds(3000);

}  // namespace

std::optional<std::string> quick_tunnel_url(std::string_view line) {
  // A plain scan rather than std::regex: libstdc++'s regex matcher recurses once per character,
  // so a long run of label characters in one line of output overflowed the stack.
  constexpr std::string_view scheme = "https://", suffix = ".trycloudflare.com";
  const auto is_label = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  for (auto at = line.find(scheme); at != std::string_view::npos; at = line.find(scheme, at + 1)) {
    const auto label_at = at + scheme.size();
    auto label_end = label_at;
    while (label_end < line.size() && is_label(line[label_end])) ++label_end;
    if (label_end == label_at || line.substr(label_end, suffix.size()) != suffix) continue;
    const auto end = label_end + suffix.size();
    // "https://x.trycloudflare.com.evil.example" is not a quick tunnel URL.
    if (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) ||
                              line[end] == '.' || line[end] == '-'))
      return std::nullopt;
    return std::string(line.substr(at, end - at));
  }
  return std::nullopt;
}

std::vector<std::string> quick_tunnel_argv(const std::string& cloudflared,
                                           const std::string& local_url) {
  return {cloudflared, "tunnel", "--url", local_url, "--no-autoupdate"};
}

QuickTunnel::QuickTunnel(Context& context, const std::string& cloudflared,
                         const std::string& local_url, std::chrono::milliseconds timeout,
                         std::stop_token stop) {
  auto sighting = std::make_shared<Sighting>();
  CommandSpec spec;
  spec.argv = quick_tunnel_argv(cloudflared, local_url);
  spec.output = OutputMode::stream;
  spec.on_line = [sighting](std::string_view line, bool) {
    std::lock_guard lock(sighting->mutex);
    if (sighting->url.empty()) {
      if (auto url = quick_tunnel_url(line)) {
        sighting->url = std::move(*url);
        sighting->changed.notify_all();
      }
    }
    sighting->last_lines.emplace_back(line);
    if (sighting->last_lines.size() > kKeptLines) sighting->last_lines.pop_front();
  };
  child_ = context.commands().spawn(spec);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<CommandResult> exited;
  {
    std::unique_lock lock(sighting->mutex);
    while (sighting->url.empty() && !stop.stop_requested() &&
           std::chrono::steady_clock::now() < deadline) {
      // Short waits: cloudflared exiting is noticed through the child, not through a line.
      sighting->changed.wait_for(lock, stop, std::chrono::milliseconds(100),
                                 [&] { return !sighting->url.empty(); });
      if (!sighting->url.empty()) break;
      lock.unlock();
      exited = child_->wait_for(std::chrono::milliseconds(0));
      lock.lock();
      if (exited) break;
    }
    url_ = sighting->url;
  }
  if (!url_.empty()) return;

  auto result = exited ? *exited : child_->terminate(kGrace);
  child_.reset();
  boost::json::array lines;
  {
    std::lock_guard lock(sighting->mutex);
    for (const auto& l : sighting->last_lines) lines.push_back(boost::json::string(l));
  }
  const auto details = core::to_json_string(boost::json::object{
      {"argv", boost::json::array{boost::json::string(cloudflared), "tunnel", "--url",
                                  boost::json::string(local_url), "--no-autoupdate"}},
      {"last_lines", std::move(lines)},
      {"exit_code", result.exit_code}});
  if (stop.stop_requested())
    throw Error(ErrorCode::cancelled, "cancelled while waiting for the quick tunnel");
  if (exited)
    throw Error(ErrorCode::command_failed,
                "cloudflared exited (code " + std::to_string(result.exit_code) +
                    ") before printing a trycloudflare.com URL",
                "check that cloudflared can reach Cloudflare; its last lines are in the details",
                details);
  throw Error(ErrorCode::timeout,
              "cloudflared printed no trycloudflare.com URL within " +
                  std::to_string(timeout.count()) + " ms",
              "quick tunnels need outbound access to Cloudflare; try again or raise the timeout",
              details);
}

QuickTunnel::~QuickTunnel() { stop(); }

int QuickTunnel::pid() const noexcept { return child_ ? child_->pid() : -1; }

bool QuickTunnel::running() { return child_ && !child_->wait_for(std::chrono::milliseconds(0)); }

void QuickTunnel::stop() {
  if (!child_) return;
  child_->terminate(kGrace);
  child_.reset();
}

}  // namespace devx::webhook
