// Log records (timestamp prefix), the merged reader, and --since parsing.
#include <devx/supervisor.hpp>

#include <gtest/gtest.h>

#include <fstream>

#include "../orchestrator/test_util.hpp"
#include "orchestrator/log_file.hpp"

namespace devx {
namespace {

using orchestrator::format_log_time;
using orchestrator::parse_log_record;

TEST(LogRecord, RoundTripsTimeStreamAndText) {
  const std::int64_t t = 1795885033123;  // 2026-11-28T16:57:13.123Z
  EXPECT_EQ(format_log_time(t), "2026-11-28T16:57:13.123Z");
  const std::string line = format_log_time(t) + " err boom: it broke";
  const auto r = parse_log_record(line);
  EXPECT_EQ(r.time_ms, t);
  EXPECT_EQ(r.stream, "err");
  EXPECT_EQ(r.text, "boom: it broke");
}

TEST(LogRecord, LinesWithoutPrefixAreKeptWhole) {
  for (const std::string line :
       {"plain output", "", "2026-11-28T16:57:13.123Z", "2026-11-28T16:57:13.123Z xyz text",
        "2026-11-28T16:57:13.123Zout text"}) {
    const auto r = parse_log_record(line);
    EXPECT_EQ(r.time_ms, 0) << line;
    EXPECT_EQ(r.stream, "out");
    EXPECT_EQ(r.text, line);
  }
  const auto empty = parse_log_record("2026-11-28T16:57:13.123Z out");
  EXPECT_GT(empty.time_ms, 0);
  EXPECT_EQ(empty.text, "");
}

TEST(LogRecord, RotatingLogWritesRecords) {
  test::Scratch scratch;
  {
    orchestrator::RotatingLog log(scratch.path("a.log"));
    log.write_record(1000, false, "one");
    log.write_record(2000, true, "two");
  }
  std::ifstream in(scratch.path("a.log"));
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  EXPECT_EQ(first, "1970-01-01T00:00:01.000Z out one");
  EXPECT_EQ(second, "1970-01-01T00:00:02.000Z err two");
}

TEST(LogReader, MergesServicesAndRotatedFilesByTimeWithTailAndSince) {
  test::Scratch scratch;
  scratch.write("devx.yaml",
                "name: logs\nservices:\n  - name: a\n    command: [\"true\"]\n  - name: b\n    "
                "command: [\"true\"]\n");
  auto context = scratch.context();
  auto loaded = load_project(scratch.path("devx.yaml"));
  ASSERT_TRUE(loaded.ok());
  const auto dir = run_directory(*context, *loaded.project) / "logs";
  std::filesystem::create_directories(dir);
  auto put = [&](const std::string& file, std::initializer_list<std::pair<int, std::string>> ls) {
    std::ofstream out(dir / file);
    for (const auto& [t, text] : ls) out << format_log_time(t * 1000) << " out " << text << "\n";
  };
  put("a.log.1", {{1, "a1"}, {4, "a4"}});
  put("a.log", {{5, "a5"}});
  put("b.log", {{2, "b2"}, {6, "b6"}});
  auto text = [](const std::vector<LogLine>& lines) {
    std::string out;
    for (const auto& l : lines) out += l.service + ":" + l.line + " ";
    return out;
  };
  EXPECT_EQ(text(read_logs(*context, *loaded.project, {})), "a:a1 b:b2 a:a4 a:a5 b:b6 ");
  LogQuery tail;
  tail.tail = 2;
  EXPECT_EQ(text(read_logs(*context, *loaded.project, tail)), "a:a5 b:b6 ");
  LogQuery since;
  since.since_ms = 4000;
  since.services = {"a"};
  EXPECT_EQ(text(read_logs(*context, *loaded.project, since)), "a:a4 a:a5 ");
  LogQuery unknown;
  unknown.services = {"zzz"};
  EXPECT_THROW(read_logs(*context, *loaded.project, unknown), Error);
}

TEST(LogSince, DurationsAndTimes) {
  const std::int64_t now = 1'000'000'000;
  EXPECT_EQ(parse_log_since("90s", now), now - 90'000);
  EXPECT_EQ(parse_log_since("1h30m", now), now - 5'400'000);
  EXPECT_EQ(parse_log_since("250ms", now), now - 250);
  EXPECT_EQ(parse_log_since("2d", now), now - 172'800'000);
  EXPECT_EQ(parse_log_since("1970-01-01T00:00:10Z", now), 10'000);
  EXPECT_EQ(parse_log_since("1970-01-01T01:00:10.5+01:00", now), 10'500);
  EXPECT_FALSE(parse_log_since("", now));
  EXPECT_FALSE(parse_log_since("5 minutes", now));
  EXPECT_FALSE(parse_log_since("10", now));
  EXPECT_FALSE(parse_log_since("1970-01-01T00:00:10", now));
}

}  // namespace
}  // namespace devx
