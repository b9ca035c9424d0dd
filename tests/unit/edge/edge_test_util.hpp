#pragma once
// A context with its own DEVX_HOME per test, and JSON helpers.
#include <devx/context.hpp>
#include <devx/edge.hpp>
#include <devx/error.hpp>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>

#include "../core/test_dir.hpp"

namespace devx::edge_test {

class Scratch {
 public:
  std::unique_ptr<Context> context(bool dry_run = false) const {
    ContextOptions options;
    options.devx_home = dir_.path() / "home";
    options.dry_run = dry_run;
    return std::make_unique<Context>(options);
  }
  std::filesystem::path home() const { return dir_.path() / "home"; }

 private:
  test::TempDir dir_;
};

inline boost::json::object parse(const std::string& text) {
  return boost::json::parse(text).as_object();
}

// Runs `call` and returns the code of the devx::Error it throws (ErrorCode::ok if none).
template <class Call>
ErrorCode error_code_of(Call&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.code();
  }
  return ErrorCode::ok;
}

}  // namespace devx::edge_test
