#pragma once
// Shared helpers of the ignition unit tests.
#include <devx/config.hpp>
#include <devx/error.hpp>
#include <devx/ignition.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

namespace devx::testing_ignition {

inline std::filesystem::path corpus_dir() {
  return std::filesystem::path(DEVX_TEST_DATA_DIR) / "butane";
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Runs `compile` and returns the Error it throws; fails the test if it does not throw one.
inline Error error_of(const std::function<void()>& compile) {
  try {
    compile();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no devx::Error was thrown";
  return Error(ErrorCode::ok, "");
}

// The diagnostics of a config_invalid error.
inline boost::json::array diagnostics_of(const Error& error) {
  const boost::json::value details = boost::json::parse(error.details_json());
  if (const auto* list = details.as_object().if_contains("diagnostics")) return list->as_array();
  return {};
}

// One diagnostic whose message contains `needle`, as "line:col message | hint", or "" if none.
inline std::string find_diagnostic(const Error& error, const std::string& needle) {
  for (const auto& item : diagnostics_of(error)) {
    const auto& d = item.as_object();
    const std::string message(d.at("message").as_string());
    if (message.find(needle) == std::string::npos) continue;
    return std::to_string(d.at("line").as_int64()) + ":" +
           std::to_string(d.at("column").as_int64()) + " " + message + " | " +
           std::string(d.at("hint").as_string());
  }
  return {};
}

}  // namespace devx::testing_ignition
