// `devx up` scenario: 40 tiny host services in a graph of depth 8 (5 per level, each depending on
// one or two services of the level below), each ready after a known delay (it writes a timestamp,
// then prints "ready", matched by a `log` health check). Reports:
//  (a) time to all-healthy minus the critical-path sum of delays (orchestration overhead),
//  (b) median readiness detection latency (healthy event − the service's own timestamp),
//  (c) the session's CPU and RSS while idle with the 40 services running.
// Goals: (a) < 50 ms, (b) < 10 ms, (c) CPU ≈ 0, RSS < 30 MB. Plain main (no timing assertions).
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/orchestrator.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kLevels = 8;
constexpr int kPerLevel = 5;
constexpr double kDelaySeconds = 0.05;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

}  // namespace

int main() {
  const auto dir =
      std::filesystem::temp_directory_path() / ("devx-up-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "home");
  std::string yaml = "name: bench\nservices:\n";
  for (int level = 0; level < kLevels; ++level) {
    for (int i = 0; i < kPerLevel; ++i) {
      const std::string name = "s" + std::to_string(level) + "_" + std::to_string(i);
      const auto stamp = dir / (name + ".ts");
      yaml += "  - name: " + name + "\n";
      yaml += "    command: \"sleep " + std::to_string(kDelaySeconds) + "; date +%s%N > " +
              stamp.string() + "; echo ready; exec sleep 100000\"\n";
      yaml += "    healthcheck: {log: \"^ready$\", interval: 1s, retries: 30}\n";
      if (level > 0) {
        yaml += "    depends_on: [s" + std::to_string(level - 1) + "_" + std::to_string(i);
        if (i % 2 == 1)
          yaml += ", s" + std::to_string(level - 1) + "_" + std::to_string((i + 1) % kPerLevel);
        yaml += "]\n";
      }
    }
  }
  auto loaded = devx::load_project_from_string(yaml, dir / "devx.yaml");
  if (!loaded.ok()) {
    std::fprintf(stderr, "invalid project\n");
    return 1;
  }
  devx::ContextOptions options;
  options.devx_home = dir / "home";
  devx::Context context(options);
  auto session = devx::Session::create(context, *loaded.project);
  std::mutex mutex;
  std::map<std::string, std::int64_t> healthy_us;
  session->subscribe([&](const devx::Event& e) {
    if (e.type != devx::EventType::state) return;
    if (e.message.find(" healthy") == std::string::npos) return;
    const auto t = now_us();
    std::lock_guard lock(mutex);
    healthy_us.emplace(e.source, t);
  });
  const auto start = std::chrono::steady_clock::now();
  session->up().result();
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const double floor_ms = kLevels * kDelaySeconds * 1000.0;

  std::vector<double> latencies;
  for (const auto& [name, t] : healthy_us) {
    std::ifstream in(dir / (name + ".ts"));
    long long ns = 0;
    in >> ns;
    if (ns > 0) latencies.push_back(static_cast<double>(t - ns / 1000) / 1000.0);
  }
  std::sort(latencies.begin(), latencies.end());
  const double median = latencies.empty() ? -1 : latencies[latencies.size() / 2];

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double cpu0 = cpu_seconds();
  const auto idle_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double idle_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - idle_start).count();
  const double cpu_pct = (cpu_seconds() - cpu0) / idle_s * 100.0;
  const long rss = rss_kb();

  std::printf("services: %d (depth %d), delay per service: %.0f ms\n", kLevels * kPerLevel, kLevels,
              kDelaySeconds * 1000);
  std::printf(
      "(a) all healthy after %.1f ms; critical path %.1f ms; overhead %.1f ms (goal < 50)\n",
      total_ms, floor_ms, total_ms - floor_ms);
  std::printf(
      "(b) readiness detection latency: median %.2f ms, max %.2f ms over %zu services (goal < "
      "10)\n",
      median, latencies.empty() ? -1.0 : latencies.back(), latencies.size());
  std::printf("(c) idle with %zu services: CPU %.2f %% over %.1f s, RSS %.1f MB (goals ~0, < 30)\n",
              healthy_us.size(), cpu_pct, idle_s, static_cast<double>(rss) / 1024.0);
  session->down().result();
  session.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
