#include "config/duration.hpp"

#include <gtest/gtest.h>

using devx::config::format_duration;
using devx::config::parse_duration;
using std::chrono::milliseconds;

TEST(Duration, ParsesGoStyleDurations) {
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("5s"), milliseconds(5000));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_duration("1m30s"), milliseconds(90000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7200000));
  EXPECT_EQ(parse_duration("1500us"), milliseconds(2));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(Duration, RejectsMalformedText) {
  for (const char* text : {"", "5", "s", "5 seconds", "5sec", "1..5s", "-", "1m30", "ms5"})
    EXPECT_FALSE(parse_duration(text).has_value()) << text;
}

TEST(Duration, FormatsTheShortestExactSpelling) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(format_duration(milliseconds(3600000)), "1h");
}

TEST(Duration, FormattedTextParsesBack) {
  for (long ms : {0L, 1L, 999L, 1000L, 61000L, 3723000L, 86400000L})
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms));
}
