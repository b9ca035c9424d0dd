// Loading + validating a 500-service project spread over 20 included files, against the floor:
// yaml-cpp parsing the same 21 files and nothing else. The counter `x_floor` on BM_DevxLoad is
// its time per load divided by the floor's (goal: <= 2).
//   config_load_bench [--generate DIR] [benchmark flags]
// --generate DIR writes the project to DIR and exits (bench/run.sh times the CLI on it).
#include "generate_project.hpp"

#include <benchmark/benchmark.h>
#include <devx/config.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Fixture {
  fs::path dir;
  devx_bench::GeneratedProject project;

  Fixture() {
    dir = fs::temp_directory_path() / ("devx-bench-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    project = devx_bench::generate_project(dir);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Fixture& fixture() {
  static Fixture f;  // generated once, on first use
  return f;
}

std::size_t parse_floor(const std::vector<fs::path>& files) {
  std::size_t nodes = 0;
  for (const auto& file : files) {
    const YAML::Node doc = YAML::LoadFile(file.string());
    nodes += doc.size();
  }
  return nodes;
}

// Best-of-several time of one floor pass, measured in the same process as the devx benchmark.
double floor_ns_per_pass() {
  static double best = [] {
    const auto& files = fixture().project.all_files;
    double b = 1e300;
    for (int round = 0; round < 7; ++round) {
      constexpr int kPasses = 5;
      const auto t0 = Clock::now();
      for (int i = 0; i < kPasses; ++i) benchmark::DoNotOptimize(parse_floor(files));
      const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
      b = std::min(b, ns / kPasses);
    }
    return b;
  }();
  return best;
}

void BM_YamlCppFloor(benchmark::State& state) {
  const auto& files = fixture().project.all_files;
  for (auto _ : state) benchmark::DoNotOptimize(parse_floor(files));
  state.counters["files"] = static_cast<double>(files.size());
}

void BM_DevxLoad(benchmark::State& state) {
  const auto& project = fixture().project;
  const double floor_ns = floor_ns_per_pass();
  devx::LoadOptions options;
  options.user = "bench";
  {
    const auto check = devx::load_project(project.root_file, options);
    if (!check.ok() || static_cast<int>(check.project->services.size()) != project.services) {
      for (const auto& d : check.diagnostics) std::cerr << d.to_string() << "\n";
      state.SkipWithError("generated project does not load");
      return;
    }
  }
  const auto t0 = Clock::now();
  for (auto _ : state) {
    auto result = devx::load_project(project.root_file, options);
    benchmark::DoNotOptimize(result);
  }
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  const double per_load = ns / static_cast<double>(state.iterations());
  state.counters["services"] = project.services;
  state.counters["floor_ms"] = floor_ns / 1e6;
  state.counters["x_floor"] = per_load / floor_ns;
}

BENCHMARK(BM_YamlCppFloor)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_DevxLoad)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--generate") {
    const auto generated = devx_bench::generate_project(argv[2]);
    std::cout << generated.root_file.string() << "\n";
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
