// Real native database servers from Debian: PostgreSQL (initdb + postgres, as the unprivileged
// devx-db user when the tests run as root) and Redis.
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "runtime/database.hpp"
#include "runtime/database_runtimes.hpp"
#include "runtime_test_support.hpp"

namespace devx::runtime {
namespace {

using std::chrono::seconds;

class DatabaseHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ContextOptions options;
    options.devx_home = home_.path();
    context_ = std::make_unique<Context>(options);
  }

  Database db(DatabaseEngine engine) {
    Database d;
    d.engine = engine;
    d.name = std::string(to_string(engine));
    d.runtime = DatabaseRuntime::host;
    return d;
  }

  LaunchSpec spec(const Database& d, int port) {
    LaunchSpec s;
    s.project = "hostdb";
    s.run_key = "hostdb-0123abcd";
    s.name = d.name;
    s.port = port;
    s.on_line = [this](std::string_view line, bool) {
      std::lock_guard lock(mutex_);
      log_ += std::string(line) + "\n";
    };
    return s;
  }

  bool probe_ok(const std::vector<std::string>& argv) {
    CommandSpec c;
    c.argv = argv;
    c.timeout = seconds(10);
    return context_->commands().run(c).ok();
  }

  std::string log() {
    std::lock_guard lock(mutex_);
    return log_;
  }

  static int uid_of(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0) return std::stoi(line.substr(4));
    }
    return -1;
  }

  test::TempHome home_;
  std::unique_ptr<Context> context_;
  std::mutex mutex_;
  std::string log_;
};

TEST_F(DatabaseHostTest, PostgresInitialisesOnceServesQueriesAndKeepsItsData) {
  const auto pg = db(DatabaseEngine::postgres);
  if (!host_binaries_available(*context_, pg)) GTEST_SKIP() << "PostgreSQL is not installed";
  const auto choice = choose_database_runtime(*context_, pg);
  ASSERT_EQ(choice.placement, DatabasePlacement::host);
  auto runtime = make_database_runtime(pg, choice);
  const int port = test::free_port(*context_);
  const auto s = spec(pg, port);
  const auto endpoint = database_endpoint(*context_, s.run_key, pg, port);
  const auto probe = readiness_probe_argv(*context_, s.run_key, pg, choice, port);
  const auto bin = *detail::postgres_bin_dir(*context_, pg);
  auto psql = [&](const std::string& sql) {
    CommandSpec c;
    c.argv = {(bin / "psql").string(),
              "-h",
              "127.0.0.1",
              "-p",
              std::to_string(port),
              "-U",
              "devx",
              "-d",
              "devx",
              "-v",
              "ON_ERROR_STOP=1",
              "-tAc",
              sql};
    c.env = {{"PGPASSWORD", endpoint.env.at("PGPASSWORD")}};  // not in argv
    c.timeout = seconds(30);
    return context_->commands().run(c);
  };

  {
    auto node = runtime->launch(*context_, s);
    ASSERT_GT(node->pid(), 0);
    ASSERT_TRUE(test::eventually([&] { return probe_ok(probe); })) << log();
    if (::geteuid() == 0) {
      EXPECT_NE(uid_of(node->pid()), 0) << "postgres must not run as root";
    }
    const auto one = psql("select 1");
    ASSERT_TRUE(one.ok()) << one.err;
    EXPECT_EQ(one.out, "1\n");
    ASSERT_TRUE(psql("create table kept(v int); insert into kept values (42)").ok());
    // A wrong password is refused: authentication is on for TCP.
    CommandSpec bad;
    bad.argv = {(bin / "psql").string(),
                "-h",
                "127.0.0.1",
                "-p",
                std::to_string(port),
                "-U",
                "devx",
                "-d",
                "devx",
                "-w",
                "-tAc",
                "select 1"};
    bad.env = {{"PGPASSWORD", "wrong"}};
    EXPECT_FALSE(context_->commands().run(bad).ok());
    node->stop(seconds(10));
  }
  const auto data = database_data_directory(*context_, s.run_key, pg.name);
  EXPECT_TRUE(std::filesystem::exists(data / "PG_VERSION"));

  {
    auto node = runtime->launch(*context_, s);
    ASSERT_TRUE(test::eventually([&] { return probe_ok(probe); })) << log();
    const auto kept = psql("select v from kept");
    ASSERT_TRUE(kept.ok()) << kept.err;
    EXPECT_EQ(kept.out, "42\n");
    const auto status = node->stop(seconds(10));
    EXPECT_EQ(status.signal, 0);
    EXPECT_EQ(status.exit_code, 0);  // fast shutdown (SIGINT) exits cleanly
  }
  remove_database_data(*context_, s.run_key, pg, choice);
  EXPECT_FALSE(std::filesystem::exists(data));
}

TEST_F(DatabaseHostTest, RedisAnswersPing) {
  const auto redis = db(DatabaseEngine::redis);
  if (!host_binaries_available(*context_, redis)) GTEST_SKIP() << "redis-server is not installed";
  const auto choice = choose_database_runtime(*context_, redis);
  auto runtime = make_database_runtime(redis, choice);
  const int port = test::free_port(*context_);
  const auto s = spec(redis, port);
  auto node = runtime->launch(*context_, s);
  const auto probe = readiness_probe_argv(*context_, s.run_key, redis, choice, port);
  ASSERT_TRUE(test::eventually([&] {
    CommandSpec c;
    c.argv = probe;
    c.timeout = seconds(10);
    const auto r = context_->commands().run(c);
    return r.ok() && r.out == "PONG\n";
  })) << log();
  const auto endpoint = database_endpoint(*context_, s.run_key, redis, port);
  EXPECT_EQ(endpoint.env.at("REDIS_URL"), "redis://127.0.0.1:" + std::to_string(port));
  const auto status = node->stop(seconds(10));
  EXPECT_EQ(status.signal, 0);
  EXPECT_TRUE(std::filesystem::exists(database_data_directory(*context_, s.run_key, "redis")));
}

// As root with a run directory devx-db cannot traverse (DEVX_HOME under a 0700 directory, like
// /root/.devx), the data goes to /var/lib/devx/<run_key>-<hash>/<name> (devx-db, 0700), linked
// from <run dir>/data/<name>; the home is not chmod'ed; down --volumes removes both.
TEST_F(DatabaseHostTest, UnreachableRunDirectoryRelocatesDataUnderVarLibWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root drops privileges";
  const auto redis = db(DatabaseEngine::redis);
  if (!host_binaries_available(*context_, redis)) GTEST_SKIP() << "redis-server is not installed";
  namespace fs = std::filesystem;
  fs::permissions(home_.path(), fs::perms(0700));
  const auto choice = choose_database_runtime(*context_, redis);
  auto runtime = make_database_runtime(redis, choice);
  const int port = test::free_port(*context_);
  const auto s = spec(redis, port);
  const auto link = database_data_directory(*context_, s.run_key, redis.name);
  const auto probe = readiness_probe_argv(*context_, s.run_key, redis, choice, port);
  fs::path target;
  for (int round = 0; round < 2; ++round) {
    auto node = runtime->launch(*context_, s);
    ASSERT_TRUE(test::eventually([&] { return probe_ok(probe); })) << log();
    EXPECT_NE(uid_of(node->pid()), 0);
    ASSERT_TRUE(fs::is_symlink(link));
    const auto now = fs::read_symlink(link);
    if (round == 0) target = now;
    EXPECT_EQ(now, target) << "a later start reuses the recorded placement";
    node->stop(seconds(10));
  }
  EXPECT_EQ(target.parent_path().parent_path(), fs::path(kHostDataRoot));
  EXPECT_EQ(target.parent_path().filename().string().rfind(s.run_key + "-", 0), 0U);
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);
  EXPECT_NE(st.st_uid, 0U);
  EXPECT_TRUE(fs::exists(target / "appendonlydir") || fs::exists(target / "appendonly.aof"));
  EXPECT_EQ(fs::status(home_.path()).permissions() & fs::perms::all, fs::perms(0700))
      << "the home is left alone";

  remove_database_data(*context_, s.run_key, redis, choice);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(fs::exists(target.parent_path())) << "the empty per-run directory goes too";
  EXPECT_FALSE(fs::is_symlink(link));
}

TEST_F(DatabaseHostTest, ExistingDataInAnUnreachableRunDirectoryIsAClearErrorWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root drops privileges";
  const auto redis = db(DatabaseEngine::redis);
  if (!host_binaries_available(*context_, redis)) GTEST_SKIP() << "redis-server is not installed";
  std::filesystem::permissions(home_.path(), std::filesystem::perms(0700));
  const auto s = spec(redis, test::free_port(*context_));
  const auto data = database_data_directory(*context_, s.run_key, redis.name);
  std::filesystem::create_directories(data);
  std::ofstream(data / "appendonly.aof") << "old data\n";
  auto runtime = make_database_runtime(redis, choose_database_runtime(*context_, redis));
  try {
    runtime->launch(*context_, s);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(e.hint().find("DEVX_HOME"), std::string::npos);
  }
  EXPECT_TRUE(std::filesystem::exists(data / "appendonly.aof")) << "existing data is not moved";
}

// Only links into /var/lib/devx are followed, when launching and when removing.
TEST_F(DatabaseHostTest, DataLinksOutsideTheHostDataRootAreNeitherUsedNorFollowed) {
  namespace fs = std::filesystem;
  const auto outside = home_.path() / "precious";
  fs::create_directories(outside);
  std::ofstream(outside / "keep") << "x";
  const auto data = database_data_directory(*context_, "hostdb-0123abcd", "redis");
  fs::create_directories(data.parent_path());
  fs::create_directory_symlink(outside, data);
  const auto redis = db(DatabaseEngine::redis);
  if (host_binaries_available(*context_, redis)) {
    auto runtime = make_database_runtime(redis, choose_database_runtime(*context_, redis));
    EXPECT_THROW(runtime->launch(*context_, spec(redis, test::free_port(*context_))), Error);
  }
  remove_host_data(data.parent_path());
  EXPECT_FALSE(fs::exists(data.parent_path()));
  EXPECT_TRUE(fs::exists(outside / "keep"));
}

}  // namespace
}  // namespace devx::runtime
