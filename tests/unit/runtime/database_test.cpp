// Database placement, endpoints, probes and container launch arguments (no server started).
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "runtime/database.hpp"
#include "runtime_test_support.hpp"

namespace devx::runtime {
namespace {

Database make_db(DatabaseEngine engine, DatabaseRuntime runtime = DatabaseRuntime::auto_) {
  Database db;
  db.engine = engine;
  db.name = std::string(to_string(engine));
  db.runtime = runtime;
  return db;
}

class DatabaseTest : public ::testing::Test {
 protected:
  Context context(std::map<std::string, std::string> env) {
    ContextOptions options;
    options.devx_home = home_.path();
    options.env = std::move(env);
    return Context(options);
  }
  // A PATH holding only stand-ins for the named tools.
  std::string fake_path(std::initializer_list<const char*> tools) {
    const auto dir = home_.path() / "bin";
    std::filesystem::create_directories(dir);
    for (const char* tool : tools) {
      std::ofstream(dir / tool) << "#!/bin/sh\nexit 0\n";
      std::filesystem::permissions(dir / tool, std::filesystem::perms(0755));
    }
    return dir.string();
  }
  test::TempHome home_;
};

TEST_F(DatabaseTest, EngineTableMatchesTheDocumentedDefaults) {
  EXPECT_EQ(engine_info(DatabaseEngine::postgres).port, 5432);
  EXPECT_EQ(engine_info(DatabaseEngine::redis).port, 6379);
  EXPECT_EQ(engine_info(DatabaseEngine::mysql).port, 3306);
  EXPECT_EQ(engine_info(DatabaseEngine::mongo).port, 27017);
  EXPECT_EQ(database_image(make_db(DatabaseEngine::postgres)),
            "docker.io/library/postgres:16-alpine");
  auto pg15 = make_db(DatabaseEngine::postgres);
  pg15.version = "15";
  EXPECT_EQ(database_image(pg15), "docker.io/library/postgres:15");
}

TEST_F(DatabaseTest, AutoPrefersHostThenContainerThenFails) {
  auto redis = make_db(DatabaseEngine::redis);
  {
    auto ctx = context({{"PATH", fake_path({"redis-server", "redis-cli", "podman"})}});
    const auto choice = choose_database_runtime(ctx, redis);
    EXPECT_EQ(choice.placement, DatabasePlacement::host);
  }
  std::filesystem::remove_all(home_.path() / "bin");
  {
    auto ctx = context({{"PATH", fake_path({"podman"})}});
    const auto choice = choose_database_runtime(ctx, redis);
    EXPECT_EQ(choice.placement, DatabasePlacement::container);
    ASSERT_TRUE(choice.engine.has_value());
    EXPECT_EQ(choice.engine->name(), "podman");
  }
  {
    auto ctx = context({{"PATH", "/nonexistent"}});
    try {
      choose_database_runtime(ctx, redis);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::command_not_found);
      EXPECT_NE(e.hint().find("redis-server"), std::string::npos);
    }
  }
}

TEST_F(DatabaseTest, HostMysqlAndMongoAreUnsupportedWithAHint) {
  auto ctx = context({{"PATH", "/nonexistent"}});
  for (const auto engine : {DatabaseEngine::mysql, DatabaseEngine::mongo}) {
    try {
      choose_database_runtime(ctx, make_db(engine, DatabaseRuntime::host));
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::unsupported);
      EXPECT_NE(e.hint().find("container"), std::string::npos);
    }
  }
}

TEST_F(DatabaseTest, ExplicitContainerNeedsAnEngine) {
  auto ctx = context({{"PATH", "/nonexistent"}});
  EXPECT_THROW(
      choose_database_runtime(ctx, make_db(DatabaseEngine::postgres, DatabaseRuntime::container)),
      Error);
}

TEST_F(DatabaseTest, PasswordIsGeneratedOncePrivateAndInTheUrl) {
  auto ctx = context({});
  const auto db = make_db(DatabaseEngine::postgres);
  const std::string pw = database_password(ctx, "demo-1234abcd", db);
  EXPECT_EQ(pw.size(), 24U);
  EXPECT_EQ(database_password(ctx, "demo-1234abcd", db), pw);
  const auto file = home_.path() / "run" / "demo-1234abcd" / "secrets" / "postgres.password";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  const auto endpoint = database_endpoint(ctx, "demo-1234abcd", db, 15432);
  EXPECT_EQ(endpoint.url, "postgresql://devx:" + pw + "@127.0.0.1:15432/devx");
  EXPECT_EQ(endpoint.env.at("DATABASE_URL"), endpoint.url);
  EXPECT_EQ(endpoint.env.at("PGPORT"), "15432");
  EXPECT_EQ(endpoint.env.at("PGPASSWORD"), pw);
  EXPECT_EQ(database_password(ctx, "demo-1234abcd", make_db(DatabaseEngine::redis)), "");
  EXPECT_EQ(database_endpoint(ctx, "demo-1234abcd", make_db(DatabaseEngine::redis), 16379)
                .env.at("REDIS_URL"),
            "redis://127.0.0.1:16379");
}

TEST_F(DatabaseTest, ReadinessProbesTargetTheRightPort) {
  auto ctx = context({{"PATH", fake_path({"redis-server", "redis-cli"})}});
  DatabaseRuntimeChoice host;
  host.placement = DatabasePlacement::host;
  EXPECT_EQ(readiness_probe_argv(ctx, "demo-1", make_db(DatabaseEngine::redis), host, 16379),
            (std::vector<std::string>{"redis-cli", "-h", "127.0.0.1", "-p", "16379", "ping"}));
  DatabaseRuntimeChoice container;
  container.placement = DatabasePlacement::container;
  container.engine = ContainerEngine(EngineKind::podman, "podman");
  const auto probe =
      readiness_probe_argv(ctx, "demo-1", make_db(DatabaseEngine::postgres), container, 15432);
  ASSERT_GE(probe.size(), 4U);
  EXPECT_EQ(probe[0], "podman");
  EXPECT_EQ(probe[1], "exec");
  EXPECT_EQ(probe[2], "devx-demo-1-postgres");
  EXPECT_EQ(probe[3], "pg_isready");
  EXPECT_NE(std::find(probe.begin(), probe.end(), "5432"), probe.end());  // the engine's port
}

TEST_F(DatabaseTest, ContainerDatabaseUsesNamedVolumeAndKeepsPasswordOutOfArgv) {
  // A stand-in engine that records its argv and answers like Podman.
  const auto bin = home_.path() / "bin";
  std::filesystem::create_directories(bin);
  const auto log = home_.path() / "podman.log";
  std::ofstream(bin / "podman") << "#!/bin/sh\n"
                                   "echo \"$*\" >> '"
                                << log.string()
                                << "'\n"
                                   "case \"$1\" in\n"
                                   "  volume) [ \"$2\" = inspect ] && exit 1; exit 0;;\n"
                                   "  run) echo 0123456789abcdef;;\n"
                                   "  wait) sleep 600;;\n"
                                   "esac\n";
  std::filesystem::permissions(bin / "podman", std::filesystem::perms(0755));
  auto ctx = context({{"PATH", bin.string() + ":/usr/bin:/bin"}});
  auto db = make_db(DatabaseEngine::postgres, DatabaseRuntime::container);
  const auto choice = choose_database_runtime(ctx, db);
  ASSERT_EQ(choice.placement, DatabasePlacement::container);
  auto runtime = make_database_runtime(db, choice);
  LaunchSpec spec;
  spec.project = "demo";
  spec.run_key = "demo-1234abcd";
  spec.name = "postgres";
  spec.port = 15432;
  auto node = runtime->launch(ctx, spec);
  EXPECT_EQ(node->container(), "devx-demo-1234abcd-postgres");
  node.reset();  // leaves the (pretend) container; kills our `wait`

  std::ifstream in(log);
  const std::string calls((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(calls.find("volume create"), std::string::npos) << calls;
  EXPECT_NE(calls.find("devx-data-demo-1234abcd-postgres:/var/lib/postgresql/data"),
            std::string::npos)
      << calls;
  EXPECT_NE(calls.find("-p 127.0.0.1:15432:5432"), std::string::npos) << calls;
  EXPECT_NE(calls.find("docker.io/library/postgres:16-alpine"), std::string::npos) << calls;
  EXPECT_NE(calls.find("devx.kind=database"), std::string::npos) << calls;
  EXPECT_EQ(calls.find(database_password(ctx, spec.run_key, db)), std::string::npos) << calls;
}

}  // namespace
}  // namespace devx::runtime
