#pragma once
// Helpers of the VM tests: a recording CommandRunner with scripted answers, and a scratch
// directory holding DEVX_HOME, HOME and a bin/ directory whose stub executables make PATH lookups
// find (or not find) each provider's tool. Nothing here ever runs a real VM tool.
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/process.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace devx::test {

using Argv = std::vector<std::string>;

// Commands that only read state (the rest change something).
inline bool is_query(const Argv& argv) {
  static const std::set<std::string> reads = {"inspect", "list",   "--version", "version",
                                              "info",    "status", "ps"};
  return std::any_of(argv.begin(), argv.end(), [](const auto& a) { return reads.contains(a); });
}

class FakeRunner : public CommandRunner {
 public:
  struct Call {
    Argv argv;
    std::optional<std::string> stdin_data;
  };
  using Handler = std::function<CommandResult(const CommandSpec&)>;

  // Answers commands starting with `prefix` (the longest matching prefix wins; among equals, the
  // latest rule).
  void on(Argv prefix, int exit_code, std::string out = {}, std::string err = {}) {
    on(std::move(prefix), [=](const CommandSpec&) {
      CommandResult r;
      r.exit_code = exit_code;
      r.out = out;
      r.err = err;
      return r;
    });
  }
  void on(Argv prefix, Handler handler) {
    std::lock_guard lock(mutex_);
    rules_.push_back({std::move(prefix), std::move(handler)});
  }
  // Any command that is not a query fails the test (dry-run checks).
  void forbid_mutations() { forbid_mutations_ = true; }

  CommandResult run(const CommandSpec& spec) override {
    Handler handler;
    {
      std::lock_guard lock(mutex_);
      calls_.push_back({spec.argv, spec.stdin_data});
      if (forbid_mutations_ && !is_query(spec.argv)) {
        std::string text;
        for (const auto& a : spec.argv) text += a + " ";
        ADD_FAILURE() << "a dry run executed a mutating command: " << text;
      }
      std::size_t best = 0;
      for (const auto& rule : rules_) {
        if (rule.prefix.size() > spec.argv.size() || rule.prefix.size() < best) continue;
        if (std::equal(rule.prefix.begin(), rule.prefix.end(), spec.argv.begin())) {
          best = rule.prefix.size();
          handler = rule.handler;
        }
      }
    }
    if (handler) return handler(spec);
    CommandResult ok;
    ok.exit_code = 0;
    return ok;
  }
  std::unique_ptr<ChildProcess> spawn(const CommandSpec&) override {
    throw Error(ErrorCode::internal, "the VM code never spawns");
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  // The calls that change something, in order.
  std::vector<Argv> mutations() const {
    std::vector<Argv> out;
    for (const auto& c : calls())
      if (!is_query(c.argv)) out.push_back(c.argv);
    return out;
  }
  bool called(const Argv& argv) const {
    const auto all = calls();
    return std::any_of(all.begin(), all.end(), [&](const auto& c) { return c.argv == argv; });
  }

 private:
  struct Rule {
    Argv prefix;
    Handler handler;
  };
  mutable std::mutex mutex_;
  std::vector<Rule> rules_;
  std::vector<Call> calls_;
  bool forbid_mutations_ = false;
};

class VmScratch {
 public:
  VmScratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "devx-vm-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    std::filesystem::create_directories(dir_ / "devx-home");
    std::filesystem::create_directories(dir_ / "home");
    std::filesystem::create_directories(dir_ / "bin");
    std::filesystem::create_directories(dir_ / "project");
    runner_ = std::make_shared<FakeRunner>();
  }
  ~VmScratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  VmScratch(const VmScratch&) = delete;
  VmScratch& operator=(const VmScratch&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path home() const { return dir_ / "home"; }
  std::filesystem::path devx_home() const { return dir_ / "devx-home"; }
  std::filesystem::path project() const { return dir_ / "project"; }
  FakeRunner& runner() { return *runner_; }

  // Stub executables on PATH (never run: the fake runner answers).
  void install(std::initializer_list<std::string> binaries) const {
    for (const auto& b : binaries) {
      const auto path = dir_ / "bin" / b;
      std::ofstream(path) << "#!/bin/sh\nexit 99\n";
      ::chmod(path.c_str(), 0755);
    }
  }
  void write(const std::filesystem::path& path, const std::string& text) const {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  std::unique_ptr<Context> context(std::map<std::string, std::string> extra = {},
                                   bool dry_run = false) {
    ContextOptions options;
    options.devx_home = devx_home();
    std::map<std::string, std::string> env = {
        {"PATH", (dir_ / "bin").string()}, {"HOME", home().string()}, {"USER", "alice"}};
    for (auto& [k, v] : extra) env[k] = v;
    options.env = env;
    options.dry_run = dry_run;
    auto context = std::make_unique<Context>(options);
    context->set_command_runner(runner_);
    return context;
  }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<FakeRunner> runner_;
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline boost::json::object parse(const std::string& text) {
  return boost::json::parse(text).as_object();
}

template <typename F>
Error expect_error(F&& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(error_code_name(e.code()), error_code_name(code)) << e.message();
    return e;
  }
  ADD_FAILURE() << "expected Error(" << error_code_name(code) << ")";
  return Error(ErrorCode::internal, "no error");
}

}  // namespace devx::test
