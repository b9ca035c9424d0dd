#pragma once
// Shared helpers of the orchestrator tests: a scratch directory, a Context whose DEVX_HOME lives
// in it, and projects loaded from YAML text.
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/orchestrator.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

extern char** environ;  // NOLINT

namespace devx::test {

inline std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

class Scratch {
 public:
  Scratch() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("devx-orch-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "home");
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }

  std::unique_ptr<Context> context(std::map<std::string, std::string> extra = {}) const {
    ContextOptions options;
    options.devx_home = dir_ / "home";
    auto env = process_env();
    for (auto& [k, v] : extra) env[k] = v;
    options.env = env;
    return std::make_unique<Context>(options);
  }

  Project project(const std::string& yaml) const {
    auto result = load_project_from_string(yaml, dir_ / "devx.yaml");
    std::string text;
    for (const auto& d : result.diagnostics) text += d.to_string() + "\n";
    if (!result.ok()) throw std::runtime_error("invalid test project:\n" + text);
    return *result.project;
  }

 private:
  std::filesystem::path dir_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits (bounded, generous) for `predicate`; the tests assert on the outcome, never on time.
template <typename F>
bool eventually(F predicate, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return predicate();
}

inline const ServiceStatus* find(const std::vector<ServiceStatus>& list, const std::string& name) {
  for (const auto& s : list) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace devx::test
