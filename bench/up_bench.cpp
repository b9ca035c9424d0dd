// `devx up` scenario: 40 tiny host services in a graph of depth 8 (5 per level, each depending on
// one or two services of the level below), each ready a known delay after it starts. Reports:
//  (a) time to all-healthy, against two floors measured in the same run:
//      * the critical-path sum of the delays (8 × 50 ms), and
//      * a minimal reference launcher (single thread, fork/exec of the very same 40 commands in the
//        same dependency order, each as soon as its dependencies' ready files appear, watched
//        with inotify): what process start-up and the kernel cost no matter who orchestrates.
//      The orchestrator's own overhead is devx − reference.
//  (b) readiness detection latency (healthy event − the service's own ready timestamp), and the
//      launch latency (dependent's first instruction − its last dependency's ready timestamp),
//      for devx and for the reference;
//  (c) the session's CPU and RSS while idle with the 40 services running.
// Goals: (a) < 50 ms, (b) < 10 ms, (c) CPU ≈ 0, RSS < 30 MB. Plain main (no timing assertions).
//
// The services are the static helper bench/up_bench_service.c (`up_bench_service DELAY_MS FILE`;
// fallback: this binary, `up_bench --service DELAY_MS FILE`): it records its start time, sleeps
// DELAY_MS, writes "start_us ready_us" to FILE (atomically: tmp + rename), prints "ready" and
// waits to be killed. No shell, no `sleep`/`date` children, so the floor is small and identical
// for devx and the reference.
//   up_bench [--levels N] [--per-level N] [--delay-ms N] [--no-idle] [--no-reference]
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/orchestrator.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

int g_levels = 8;
int g_per_level = 5;
int g_delay_ms = 50;

std::int64_t realtime_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
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

// ----- the service ------------------------------------------------------------------------------

[[noreturn]] int service_main(int delay_ms, const char* file) {
  const std::int64_t start = realtime_us();
  timespec delay{delay_ms / 1000, static_cast<long>(delay_ms % 1000) * 1000000L};
  while (::nanosleep(&delay, &delay) != 0 && errno == EINTR) {
  }
  const std::int64_t ready = realtime_us();
  char text[64];
  const int len = std::snprintf(text, sizeof text, "%lld %lld\n", static_cast<long long>(start),
                                static_cast<long long>(ready));
  const std::string tmp = std::string(file) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    [[maybe_unused]] const ssize_t w = ::write(fd, text, static_cast<std::size_t>(len));
    ::close(fd);
    ::rename(tmp.c_str(), file);
  }
  [[maybe_unused]] const ssize_t w = ::write(STDOUT_FILENO, "ready\n", 6);
  for (;;) ::pause();
}

// ----- the graph --------------------------------------------------------------------------------

struct Svc {
  std::string name;
  std::vector<int> deps;
  std::vector<std::string> argv;
};

std::vector<Svc> make_graph(const fs::path& self, const fs::path& stamps) {
  std::vector<Svc> out;
  for (int level = 0; level < g_levels; ++level) {
    for (int i = 0; i < g_per_level; ++i) {
      Svc s;
      s.name = "s" + std::to_string(level) + "_" + std::to_string(i);
      if (level > 0) {
        const int base = (level - 1) * g_per_level;
        s.deps.push_back(base + i);
        if (i % 2 == 1 && g_per_level > 1) s.deps.push_back(base + (i + 1) % g_per_level);
      }
      s.argv = {self.string()};
      if (self.filename() != "up_bench_service") s.argv.emplace_back("--service");
      s.argv.push_back(std::to_string(g_delay_ms));
      s.argv.push_back((stamps / (s.name + ".ready")).string());
      out.push_back(std::move(s));
    }
  }
  return out;
}

struct Stamp {
  std::int64_t start_us = 0;
  std::int64_t ready_us = 0;
};

std::vector<Stamp> read_stamps(const std::vector<Svc>& graph, const fs::path& stamps) {
  std::vector<Stamp> out(graph.size());
  for (std::size_t k = 0; k < graph.size(); ++k) {
    std::ifstream in(stamps / (graph[k].name + ".ready"));
    long long a = 0;
    long long b = 0;
    in >> a >> b;
    out[k] = Stamp{a, b};
  }
  return out;
}

// Launch latency of every non-root service: its start − the latest ready time of its deps.
std::vector<double> launch_latencies(const std::vector<Svc>& graph,
                                     const std::vector<Stamp>& stamps) {
  std::vector<double> out;
  for (std::size_t k = 0; k < graph.size(); ++k) {
    if (graph[k].deps.empty() || stamps[k].start_us == 0) continue;
    std::int64_t last = 0;
    for (const int d : graph[k].deps) last = std::max(last, stamps[d].ready_us);
    if (last > 0) out.push_back(static_cast<double>(stamps[k].start_us - last) / 1000.0);
  }
  std::sort(out.begin(), out.end());
  return out;
}

double median(const std::vector<double>& sorted) {
  return sorted.empty() ? -1.0 : sorted[sorted.size() / 2];
}
double maximum(const std::vector<double>& sorted) { return sorted.empty() ? -1.0 : sorted.back(); }

// ----- the reference launcher -------------------------------------------------------------------

struct RefResult {
  double total_ms = 0;
  std::vector<double> detect;  // ready-file event − the service's ready stamp
  std::vector<double> launch;
};

RefResult run_reference(const std::vector<Svc>& graph, const fs::path& stamps) {
  fs::remove_all(stamps);
  fs::create_directories(stamps);
  const int in = ::inotify_init1(IN_CLOEXEC);
  ::inotify_add_watch(in, stamps.c_str(), IN_MOVED_TO);
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  std::map<std::string, int> index;
  for (std::size_t k = 0; k < graph.size(); ++k)
    index[graph[k].name + ".ready"] = static_cast<int>(k);
  std::vector<pid_t> pids(graph.size(), 0);
  std::vector<bool> ready(graph.size(), false);
  std::vector<std::int64_t> seen_us(graph.size(), 0);
  std::vector<std::vector<char*>> argvs(graph.size());
  for (std::size_t k = 0; k < graph.size(); ++k) {
    for (const auto& a : graph[k].argv) argvs[k].push_back(const_cast<char*>(a.c_str()));
    argvs[k].push_back(nullptr);
  }
  std::size_t ready_count = 0;
  const auto start = std::chrono::steady_clock::now();
  auto launch_ready = [&] {
    for (std::size_t k = 0; k < graph.size(); ++k) {
      if (pids[k] != 0) continue;
      bool ok = true;
      for (const int d : graph[k].deps) ok = ok && ready[d];
      if (!ok) continue;
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::execv(argvs[k][0], argvs[k].data());
        ::_exit(127);
      }
      pids[k] = pid;
    }
  };
  launch_ready();
  alignas(inotify_event) char buffer[8192];
  while (ready_count < graph.size()) {
    pollfd pfd{in, POLLIN, 0};
    if (::poll(&pfd, 1, 30000) <= 0) {
      std::fprintf(stderr, "reference: timed out waiting for ready files\n");
      break;
    }
    const ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n <= 0) break;
    const std::int64_t now = realtime_us();
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buffer + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->len == 0) continue;
      const auto it = index.find(ev->name);
      if (it == index.end() || ready[it->second]) continue;
      ready[it->second] = true;
      seen_us[it->second] = now;
      ++ready_count;
    }
    launch_ready();
  }
  RefResult r;
  r.total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  for (const pid_t pid : pids) {
    if (pid > 0) ::kill(-pid, SIGKILL);
  }
  for (const pid_t pid : pids) {
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  }
  ::close(devnull);
  ::close(in);
  const auto st = read_stamps(graph, stamps);
  for (std::size_t k = 0; k < graph.size(); ++k) {
    if (st[k].ready_us > 0 && seen_us[k] > 0)
      r.detect.push_back(static_cast<double>(seen_us[k] - st[k].ready_us) / 1000.0);
  }
  std::sort(r.detect.begin(), r.detect.end());
  r.launch = launch_latencies(graph, st);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--service") == 0)
    service_main(std::atoi(argv[2]), argv[3]);
  bool idle = true;
  bool reference = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--levels") {
      g_levels = std::max(1, next());
    } else if (a == "--per-level") {
      g_per_level = std::max(1, next());
    } else if (a == "--delay-ms") {
      g_delay_ms = std::max(0, next());
    } else if (a == "--no-idle") {
      idle = false;
    } else if (a == "--no-reference") {
      reference = false;
    } else {
      std::fprintf(stderr,
                   "usage: up_bench [--levels N] [--per-level N] [--delay-ms N] [--no-idle] "
                   "[--no-reference]\n");
      return 2;
    }
  }
  // The static helper (bench/up_bench_service.c) if it was built, else this binary.
  fs::path self = fs::read_symlink("/proc/self/exe");
#ifdef DEVX_UP_BENCH_SERVICE
  if (fs::exists(DEVX_UP_BENCH_SERVICE)) self = DEVX_UP_BENCH_SERVICE;
#endif
  const auto dir = fs::temp_directory_path() / ("devx-up-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir / "home");
  const auto graph = make_graph(self, dir / "stamps");
  const double path_ms = g_levels * static_cast<double>(g_delay_ms);

  RefResult ref;
  if (reference) ref = run_reference(graph, dir / "stamps");

  // ----- devx --------------------------------------------------------------------------------
  fs::remove_all(dir / "stamps");
  fs::create_directories(dir / "stamps");
  std::string yaml = "name: bench\nservices:\n";
  for (const auto& s : graph) {
    yaml += "  - name: " + s.name + "\n    command: [";
    for (std::size_t k = 0; k < s.argv.size(); ++k) yaml += (k ? ", \"" : "\"") + s.argv[k] + "\"";
    yaml += "]\n    healthcheck: {log: \"^ready$\", interval: 1s, retries: 30}\n";
    if (!s.deps.empty()) {
      yaml += "    depends_on: [";
      for (std::size_t k = 0; k < s.deps.size(); ++k)
        yaml += (k ? ", " : "") + graph[s.deps[k]].name;
      yaml += "]\n";
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
    const auto t = realtime_us();
    std::lock_guard lock(mutex);
    healthy_us.emplace(e.source, t);
  });
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t start_us = realtime_us();
  session->up().result();
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  const auto stamps = read_stamps(graph, dir / "stamps");
  std::vector<double> detect;
  for (std::size_t k = 0; k < graph.size(); ++k) {
    const auto it = healthy_us.find(graph[k].name);
    if (it != healthy_us.end() && stamps[k].ready_us > 0)
      detect.push_back(static_cast<double>(it->second - stamps[k].ready_us) / 1000.0);
  }
  std::sort(detect.begin(), detect.end());
  const auto launch = launch_latencies(graph, stamps);
  // Orchestrator side of the launch: dependent's start − its last dependency's healthy event.
  std::vector<double> react;
  double first_start_ms = -1;
  for (std::size_t k = 0; k < graph.size(); ++k) {
    if (stamps[k].start_us == 0) continue;
    if (graph[k].deps.empty()) {
      const double t = static_cast<double>(stamps[k].start_us - start_us) / 1000.0;
      if (first_start_ms < 0 || t < first_start_ms) first_start_ms = t;
      continue;
    }
    std::int64_t last = 0;
    for (const int d : graph[k].deps) {
      const auto it = healthy_us.find(graph[d].name);
      if (it != healthy_us.end()) last = std::max(last, it->second);
    }
    if (last > 0) react.push_back(static_cast<double>(stamps[k].start_us - last) / 1000.0);
  }
  std::sort(react.begin(), react.end());

  double cpu_pct = -1;
  double idle_s = 0;
  if (idle) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const double cpu0 = cpu_seconds();
    const auto idle_start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    idle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - idle_start).count();
    cpu_pct = (cpu_seconds() - cpu0) / idle_s * 100.0;
  }
  const long rss = rss_kb();

  std::printf("services: %zu (depth %d), delay per service: %d ms, critical path %.0f ms\n",
              graph.size(), g_levels, g_delay_ms, path_ms);
  if (reference) {
    std::printf(
        "reference launcher (fork/exec + inotify): all ready after %.1f ms = critical path + "
        "%.1f ms (the floor)\n",
        ref.total_ms, ref.total_ms - path_ms);
  }
  std::printf("(a) devx: all healthy after %.1f ms = critical path + %.1f ms (goal < 50)", total_ms,
              total_ms - path_ms);
  if (reference) {
    std::printf("; vs reference: +%.1f ms (x%.3f)", total_ms - ref.total_ms,
                total_ms / ref.total_ms);
  }
  std::printf("\n");
  std::printf(
      "(b) readiness detection: devx median %.2f ms, max %.2f ms over %zu services (goal < 10)",
      median(detect), maximum(detect), detect.size());
  if (reference)
    std::printf("; reference median %.2f ms, max %.2f ms", median(ref.detect), maximum(ref.detect));
  std::printf("\n");
  std::printf("    launch after deps ready: devx median %.2f ms, max %.2f ms", median(launch),
              maximum(launch));
  if (reference)
    std::printf("; reference median %.2f ms, max %.2f ms", median(ref.launch), maximum(ref.launch));
  std::printf("\n");
  std::printf(
      "    devx: first service started %.2f ms after up(); dependent started after the healthy "
      "event: median %.2f ms, max %.2f ms\n",
      first_start_ms, median(react), maximum(react));
  if (idle) {
    std::printf(
        "(c) idle with %zu services: CPU %.2f %% over %.1f s, RSS %.1f MB (goals ~0, < 30)\n",
        healthy_us.size(), cpu_pct, idle_s, static_cast<double>(rss) / 1024.0);
  }
  session->down().result();
  session.reset();
  fs::remove_all(dir);
  return 0;
}
