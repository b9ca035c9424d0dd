#pragma once
// Shared by the webhook and mail tests: a context on a scratch DEVX_HOME and a way to wait for an
// operation's first state event.
#include <devx/context.hpp>
#include <devx/events.hpp>

#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json/object.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/json.hpp"

namespace devx::test {

class Scratch {
 public:
  Scratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "devx-hooks-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::filesystem::path& path() const { return path_; }

  // `extra_env` is added to this process's environment.
  std::unique_ptr<Context> context(bool dry_run = false,
                                   const std::map<std::string, std::string>& extra_env = {}) const {
    ContextOptions options;
    options.devx_home = path_ / "home";
    options.dry_run = dry_run;
    if (!extra_env.empty()) {
      std::map<std::string, std::string> env;
      for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq != std::string_view::npos)
          env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
      }
      for (const auto& [k, v] : extra_env) env[k] = v;
      options.env = std::move(env);
    }
    return std::make_unique<Context>(options);
  }

 private:
  std::filesystem::path path_;
};

// The data of the first state event whose message starts with `prefix` (the operation's error
// if it ends first).
inline boost::json::object wait_for_state(Operation& op, std::string_view prefix) {
  for (;;) {
    auto next = op.next_event(std::chrono::seconds(30));
    if (next.status == NextEvent::Status::end) {
      op.result();  // throws the operation's error
      ADD_FAILURE() << "operation ended without a '" << prefix << "' event";
      return {};
    }
    if (next.status == NextEvent::Status::timeout) {
      ADD_FAILURE() << "no '" << prefix << "' event within 30 s";
      return {};
    }
    if (next.event.type == EventType::state && next.event.message.starts_with(prefix))
      return core::parse_json_object_or_throw(next.event.data_json, "event data");
  }
}

// Cancels and waits; the operation must end as cancelled (not with another error).
inline void stop(Operation& op) {
  op.cancel();
  op.wait();
  try {
    op.result();
    ADD_FAILURE() << "a cancelled catcher finished normally";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::cancelled) << e.to_json();
  }
}

}  // namespace devx::test
