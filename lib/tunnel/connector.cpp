#include "tunnel/connector.hpp"

#include <devx/error.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>
#include <charconv>
#include <fstream>

#include "core/json.hpp"
#include "core/proc_stat.hpp"

namespace devx::tunnel {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr auto connect_timeout = 30s;

std::string tail(const fs::path& file, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

std::optional<int> read_pid(const fs::path& file) {
  std::ifstream in(file);
  std::string text;
  std::getline(in, text);
  int pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || pid <= 0) return std::nullopt;
  return pid;
}

// A private, empty log file (cloudflared appends to it).
void prepare_log(const fs::path& log) {
  fs::create_directories(log.parent_path());
  ::chmod(log.parent_path().c_str(), 0700);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(ErrorCode::io, "cannot create " + log.string());
  ::fchmod(fd, 0600);
  ::close(fd);
}

}  // namespace

bool ensure_connector(Context& context, TunnelPlan& plan, CloudflareApi& api,
                      const ResolvedCloudflare& settings, const TunnelScope& scope,
                      TunnelRecord& tunnel, std::stop_token stop) {
  if (tunnel.connector && tunnel.connector->alive()) return false;
  const fs::path dir = context.home() / "tunnel";
  const fs::path log = dir / "logs" / (tunnel.name + ".log");
  const fs::path pid_file = dir / "run" / (tunnel.name + ".pid");
  const std::vector<std::string> argv{
      "setsid",    "-f",         settings.cloudflared, "tunnel",          "--no-autoupdate",
      "--logfile", log.string(), "--pidfile",          pid_file.string(), "run"};
  const std::string token = api.tunnel_token(tunnel.id);
  plan.note_command("start the connector of tunnel " + tunnel.name +
                        " (token in the environment variable TUNNEL_TOKEN)",
                    argv);
  if (plan.dry_run()) return true;

  // `setsid -f` cannot report a missing binary (it forks first): ask cloudflared itself.
  CommandSpec version;
  version.argv = {settings.cloudflared, "--version"};
  version.timeout = 10s;
  try {
    context.commands().run(version);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::command_not_found) throw;
    throw Error(ErrorCode::command_not_found, "cloudflared is not installed",
                "install it from https://github.com/cloudflare/cloudflared/releases");
  }
  prepare_log(log);
  fs::create_directories(pid_file.parent_path());
  fs::remove(pid_file);
  CommandSpec spec;
  spec.argv = argv;
  spec.env["TUNNEL_TOKEN"] = token;
  spec.output = OutputMode::discard;
  spec.timeout = 10s;
  const auto started = context.commands().run(spec);
  if (!started.ok()) {
    throw Error(ErrorCode::command_failed, "cannot start cloudflared for tunnel " + tunnel.name,
                "is cloudflared installed? (`cloudflared --version`)",
                core::to_json_string(json::object{{"argv", json::array(argv.begin(), argv.end())},
                                                  {"exit_code", started.exit_code}}));
  }
  const auto deadline = context.clock().steady_now() + connect_timeout;
  std::optional<int> pid;
  while (!(pid = read_pid(pid_file))) {
    if (context.clock().steady_now() >= deadline || stop.stop_requested()) {
      throw Error(
          stop.stop_requested() ? ErrorCode::cancelled : ErrorCode::timeout,
          "cloudflared did not connect tunnel " + tunnel.name, "see its log: " + log.string(),
          core::to_json_string(json::object{{"log", log.string()}, {"log_tail", tail(log, 2000)}}));
    }
    context.clock().sleep_for(100ms, stop);
  }
  tunnel.connector = ConnectorRecord{*pid, core::process_start_time(*pid).value_or(0),
                                     now_rfc3339(context), log.string(), pid_file.string()};
  write_tunnel(context, scope, tunnel);
  plan.note("state", "recorded the connector of tunnel " + tunnel.name,
            json::object{{"key", scope.key}, {"pid", *pid}});
  return true;
}

void stop_connector(Context& context, TunnelPlan& plan, const TunnelScope& scope,
                    TunnelRecord& tunnel) {
  if (!tunnel.connector) return;
  const ConnectorRecord connector = *tunnel.connector;
  plan.note("signal", "stop the connector of tunnel " + tunnel.name + " (SIGTERM)",
            json::object{{"pid", connector.pid}});
  if (plan.dry_run()) return;
  if (connector.alive()) {
    ::kill(connector.pid, SIGTERM);
    const auto deadline = context.clock().steady_now() + 5s;
    while (connector.alive() && context.clock().steady_now() < deadline)
      context.clock().sleep_for(50ms, {});
    if (connector.alive()) ::kill(connector.pid, SIGKILL);
  }
  tunnel.connector.reset();
  write_tunnel(context, scope, tunnel);
}

}  // namespace devx::tunnel
