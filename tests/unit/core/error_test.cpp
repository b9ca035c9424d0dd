#include <devx/devx.hpp>
#include <devx/error.hpp>
#include <devx/events.hpp>
#include <devx/version.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "core/json.hpp"

namespace devx {
namespace {

TEST(core_error, code_names_match_the_enum) {
  EXPECT_EQ(error_code_name(ErrorCode::ok), "ok");
  EXPECT_EQ(error_code_name(ErrorCode::internal), "internal");
  EXPECT_EQ(error_code_name(ErrorCode::invalid_argument), "invalid_argument");
  EXPECT_EQ(error_code_name(ErrorCode::config_not_found), "config_not_found");
  EXPECT_EQ(error_code_name(ErrorCode::config_invalid), "config_invalid");
  EXPECT_EQ(error_code_name(ErrorCode::io), "io");
  EXPECT_EQ(error_code_name(ErrorCode::not_found), "not_found");
  EXPECT_EQ(error_code_name(ErrorCode::already_exists), "already_exists");
  EXPECT_EQ(error_code_name(ErrorCode::timeout), "timeout");
  EXPECT_EQ(error_code_name(ErrorCode::cancelled), "cancelled");
  EXPECT_EQ(error_code_name(ErrorCode::command_failed), "command_failed");
  EXPECT_EQ(error_code_name(ErrorCode::command_not_found), "command_not_found");
  EXPECT_EQ(error_code_name(ErrorCode::http), "http");
  EXPECT_EQ(error_code_name(ErrorCode::port_in_use), "port_in_use");
  EXPECT_EQ(error_code_name(ErrorCode::locked), "locked");
  EXPECT_EQ(error_code_name(ErrorCode::unsupported), "unsupported");
  EXPECT_EQ(error_code_name(ErrorCode::prompt_required), "prompt_required");
  EXPECT_EQ(error_code_name(ErrorCode::conflict), "conflict");
  EXPECT_EQ(error_code_name(ErrorCode::unreachable), "unreachable");
  EXPECT_EQ(error_code_name(ErrorCode::permission_denied), "permission_denied");
  EXPECT_EQ(error_code_name(static_cast<ErrorCode>(20)), "unknown");
  EXPECT_EQ(error_code_name(static_cast<ErrorCode>(-1)), "unknown");
}

TEST(core_error, what_is_the_message_and_details_default_to_an_empty_object) {
  const Error error(ErrorCode::io, "disk full");
  EXPECT_STREQ(error.what(), "disk full");
  EXPECT_EQ(error.details_json(), "{}");
  EXPECT_EQ(error.cause(), nullptr);
}

TEST(core_error, to_json_has_code_status_details_and_cause_chain) {
  Error error(ErrorCode::config_invalid, "bad config", "fix it", R"({"diagnostics":[1,2]})");
  Error cause(ErrorCode::io, "cannot read", "", "");
  cause.with_cause(Error(ErrorCode::not_found, "missing"));
  error.with_cause(cause);
  const auto doc = boost::json::parse(error.to_json()).as_object();
  EXPECT_EQ(doc.at("code"), "config_invalid");
  EXPECT_EQ(doc.at("status"), 4);
  EXPECT_EQ(doc.at("message"), "bad config");
  EXPECT_EQ(doc.at("hint"), "fix it");
  EXPECT_EQ(doc.at("details").at("diagnostics").as_array().size(), 2U);
  EXPECT_EQ(doc.at("cause").at("code"), "io");
  EXPECT_TRUE(doc.at("cause").at("details").as_object().empty());
  EXPECT_EQ(doc.at("cause").at("cause").at("code"), "not_found");
  EXPECT_FALSE(doc.at("cause").at("cause").as_object().contains("cause"));
}

TEST(core_error, cause_survives_copies_of_the_original) {
  Error outer(ErrorCode::http, "outer");
  {
    const Error inner(ErrorCode::timeout, "inner");
    outer.with_cause(inner);
  }
  const Error copy = outer;
  ASSERT_NE(copy.cause(), nullptr);
  EXPECT_EQ(copy.cause()->code(), ErrorCode::timeout);
}

TEST(core_error, invalid_details_are_kept_under_an_object) {
  const Error error(ErrorCode::internal, "x", "", "[1]");
  const auto doc = boost::json::parse(error.to_json()).as_object();
  EXPECT_TRUE(doc.at("details").is_object());
  EXPECT_EQ(doc.at("details").at("value").as_array().size(), 1U);
}

TEST(core_json, parse_error_reports_line_and_column) {
  try {
    core::parse_json_or_throw("{\n  \"a\": 1,\n  \"b\": }", "test.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(e.message().find("test.json"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("line 3"), std::string::npos) << e.message();
    const auto details = boost::json::parse(e.details_json()).as_object();
    EXPECT_EQ(details.at("line"), 3);
  }
}

TEST(core_json, trailing_garbage_is_an_error) {
  EXPECT_THROW(core::parse_json_or_throw("{} x", "t"), Error);
  EXPECT_THROW(core::parse_json_object_or_throw("[]", "t"), Error);
  EXPECT_EQ(core::to_json_string(core::parse_json_or_throw(R"({"a":[1,"x"]})", "t")),
            R"({"a":[1,"x"]})");
  EXPECT_TRUE(core::parse_json_or_null("nope").is_null());
}

TEST(core_events, event_to_json_has_the_documented_shape) {
  Event event;
  event.type = EventType::warning;
  event.time_ms = 1700000000123;
  event.source = "api";
  event.message = "slow";
  event.level = LogLevel::warn;
  auto doc = boost::json::parse(event.to_json()).as_object();
  EXPECT_EQ(doc.at("v"), 1);
  EXPECT_EQ(doc.at("type"), "warning");
  EXPECT_EQ(doc.at("time_ms").to_number<std::int64_t>(), 1700000000123);
  EXPECT_EQ(doc.at("source"), "api");
  EXPECT_EQ(doc.at("level"), "warn");
  EXPECT_EQ(doc.at("message"), "slow");
  EXPECT_FALSE(doc.contains("data"));

  event.data_json = R"({"percent":50})";
  doc = boost::json::parse(event.to_json()).as_object();
  EXPECT_EQ(doc.at("data").at("percent"), 50);
}

TEST(core_events, names) {
  EXPECT_EQ(event_type_name(EventType::progress), "progress");
  EXPECT_EQ(event_type_name(EventType::log), "log");
  EXPECT_EQ(event_type_name(EventType::state), "state");
  EXPECT_EQ(event_type_name(EventType::warning), "warning");
  EXPECT_EQ(event_type_name(EventType::plan), "plan");
  EXPECT_EQ(log_level_name(LogLevel::trace), "trace");
  EXPECT_EQ(log_level_name(LogLevel::warn), "warn");
  EXPECT_EQ(log_level_name(LogLevel::error), "error");
  EXPECT_EQ(log_level_name(LogLevel::off), "off");
}

TEST(core_version, matches_the_generated_header) {
  EXPECT_EQ(version(), DEVX_VERSION_STRING);
  EXPECT_EQ(abi_version(), DEVX_ABI_VERSION);
}

}  // namespace
}  // namespace devx
