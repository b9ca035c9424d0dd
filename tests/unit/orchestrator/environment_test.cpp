#include <devx/error.hpp>

#include <gtest/gtest.h>

#include "orchestrator/environment.hpp"
#include "orchestrator/plan.hpp"
#include "test_util.hpp"

namespace devx {
namespace {

using orchestrator::parse_dotenv;

TEST(Dotenv, ParsesAssignmentsExportQuotesAndComments) {
  const auto env = parse_dotenv(
      "# a comment\n"
      "PLAIN=value\n"
      "export EXPORTED=yes\n"
      "  SPACED = padded value   \n"
      "SINGLE='literal ${PLAIN} \\n'\n"
      "DOUBLE=\"line1\\nline2 ${PLAIN}\"\n"
      "HASH=a#b\n"
      "TRAILING=value # comment\n"
      "EMPTY=\n"
      "MULTI=\"first\nsecond\"\n"
      "REF=${PLAIN}-$EXPORTED-${MISSING}\n"
      "ESCAPED=\\$PLAIN\n"
      "\r\n",
      "test.env");
  EXPECT_EQ(env.at("PLAIN"), "value");
  EXPECT_EQ(env.at("EXPORTED"), "yes");
  EXPECT_EQ(env.at("SPACED"), "padded value");
  EXPECT_EQ(env.at("SINGLE"), "literal ${PLAIN} \\n");
  EXPECT_EQ(env.at("DOUBLE"), "line1\nline2 value");
  EXPECT_EQ(env.at("HASH"), "a#b");
  EXPECT_EQ(env.at("TRAILING"), "value");
  EXPECT_EQ(env.at("EMPTY"), "");
  EXPECT_EQ(env.at("MULTI"), "first\nsecond");
  EXPECT_EQ(env.at("REF"), "value-yes-");
  EXPECT_EQ(env.at("ESCAPED"), "$PLAIN");
  EXPECT_EQ(env.size(), 11U);
}

TEST(Dotenv, ExpandsFromTheOuterEnvironment) {
  const auto env = parse_dotenv("URL=http://${HOST}:1\n", "x", [](std::string_view name) {
    return name == "HOST" ? std::optional<std::string>("example") : std::nullopt;
  });
  EXPECT_EQ(env.at("URL"), "http://example:1");
}

TEST(Dotenv, MalformedLinesAreErrorsNamingTheLine) {
  try {
    parse_dotenv("OK=1\nthis is not an assignment\n", "bad.env");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::config_invalid);
    EXPECT_NE(e.message().find("bad.env:2"), std::string::npos) << e.message();
  }
  EXPECT_THROW(parse_dotenv("A=\"unterminated\n", "bad.env"), Error);
}

TEST(EnvName, UpperCasesAndReplacesSeparators) {
  EXPECT_EQ(orchestrator::env_name("my-api.v2"), "MY_API_V2");
  EXPECT_EQ(orchestrator::env_name("redis"), "REDIS");
}

TEST(EnvSources, GcpUriIsSplitIntoSecretProjectAndVersion) {
  const orchestrator::EnvMap base{{"CLOUDSDK_CORE_PROJECT", "fallback"}};
  using V = std::vector<std::string>;
  EXPECT_EQ(
      *orchestrator::env_source_command("gcp://projects/p1/secrets/app-env", base),
      (V{"gcloud", "secrets", "versions", "access", "latest", "--secret=app-env", "--project=p1"}));
  EXPECT_EQ(*orchestrator::env_source_command("gcp://projects/p1/secrets/app/versions/7", base),
            (V{"gcloud", "secrets", "versions", "access", "7", "--secret=app", "--project=p1"}));
  EXPECT_EQ(*orchestrator::env_source_command("gcp://app", base),
            (V{"gcloud", "secrets", "versions", "access", "latest", "--secret=app",
               "--project=fallback"}));
  EXPECT_THROW(orchestrator::env_source_command("gcp://projects/p1/app", base), Error);
  EXPECT_EQ(*orchestrator::env_source_command("op://vault/item/field", base),
            (V{"op", "read", "op://vault/item/field"}));
  EXPECT_EQ(*orchestrator::env_source_command("bitwarden://abc", base),
            (V{"bw", "get", "notes", "abc"}));
  EXPECT_FALSE(orchestrator::env_source_command("file:///x/.env", base));
  EXPECT_THROW(orchestrator::env_source_command("vault://x", base), Error);
}

class SecretSources : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto secrets = scratch_.path("secrets");
    std::filesystem::create_directories(secrets / "op/dev/api");
    std::filesystem::create_directories(secrets / "bw");
    std::filesystem::create_directories(secrets / "gcp/proj/app-env");
    std::ofstream(secrets / "op/dev/api/env") << "OP_TOKEN=op-secret-1\n";
    std::ofstream(secrets / "bw/item-1") << "BW_TOKEN=bw-secret-2\n";
    std::ofstream(secrets / "gcp/proj/app-env/latest")
        << "GCP_TOKEN=gcp-secret-3\nSHARED=from-gcp\n";
    scratch_.write("base.env", "SHARED=from-file\nFILE_ONLY=${HOME_DIR}/x\n");
    const auto env = test::process_env();
    context_ = scratch_.context({
        {"PATH", std::string(DEVX_SOURCE_DIR) + "/tests/fakes:" + env.at("PATH")},
        {"DEVX_FAKE_SECRETS", secrets.string()},
        {"DEVX_FAKE_ARGV_LOG", scratch_.path("argv.log").string()},
        {"BW_SESSION", "session-token"},
        {"HOME_DIR", "/home/dev"},
    });
  }
  test::Scratch scratch_;
  std::unique_ptr<Context> context_;
};

TEST_F(SecretSources, EachSourceIsReadThroughItsCliAndLaterSourcesWin) {
  const std::string yaml = "name: shop\nenv:\n  - file://" + scratch_.path("base.env").string() +
                           "\n  - op://dev/api/env\n  - bitwarden://item-1\n"
                           "  - gcp://projects/proj/secrets/app-env/versions/latest\n"
                           "services:\n  - name: api\n    command: [\"true\"]\n"
                           "    env: {GREETING: \"hi ${OP_TOKEN}\"}\n";
  const Project project = scratch_.project(yaml);
  const auto plan = orchestrator::build_plan(*context_, project, {}, true);
  const auto& env = plan.nodes.at(0).env;
  EXPECT_EQ(env.at("OP_TOKEN"), "op-secret-1");
  EXPECT_EQ(env.at("BW_TOKEN"), "bw-secret-2");
  EXPECT_EQ(env.at("GCP_TOKEN"), "gcp-secret-3");
  EXPECT_EQ(env.at("SHARED"), "from-gcp");
  EXPECT_EQ(env.at("FILE_ONLY"), "/home/dev/x");
  EXPECT_EQ(env.at("GREETING"), "hi op-secret-1");

  const std::string argv = test::read_file(scratch_.path("argv.log"));
  EXPECT_NE(argv.find("op read op://dev/api/env"), std::string::npos) << argv;
  EXPECT_NE(argv.find("bw get notes item-1"), std::string::npos) << argv;
  EXPECT_NE(argv.find("gcloud secrets versions access latest --secret=app-env --project=proj"),
            std::string::npos)
      << argv;
  for (const char* secret : {"op-secret-1", "bw-secret-2", "gcp-secret-3"}) {
    EXPECT_EQ(argv.find(secret), std::string::npos);  // never in argv
  }

  // A dry-run plan lists names only and never contacts the secret managers.
  std::filesystem::remove(scratch_.path("argv.log"));
  const std::string json = plan_up(*context_, project).to_json();
  EXPECT_FALSE(std::filesystem::exists(scratch_.path("argv.log")));
  for (const char* secret : {"op-secret-1", "from-file", "/home/dev/x"}) {
    EXPECT_EQ(json.find(secret), std::string::npos) << json;
  }
  EXPECT_NE(json.find("\"SHARED\""), std::string::npos) << json;
}

TEST_F(SecretSources, FailuresNameTheUriNotTheValue) {
  auto context =
      scratch_.context({{"PATH", std::string(DEVX_SOURCE_DIR) + "/tests/fakes:/usr/bin:/bin"},
                        {"DEVX_FAKE_SECRETS", scratch_.path("secrets").string()}});
  try {
    orchestrator::read_env_source(*context, "bw://item-1", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_failed);
    EXPECT_NE(e.message().find("bw://item-1"), std::string::npos);
    EXPECT_NE(e.message().find("Vault is locked"), std::string::npos) << e.message();
  }
}

TEST(Environment, ServicesGetPortAndDependencyVariables) {
  test::Scratch scratch;
  auto context = scratch.context();
  const int free_port = [&] { return static_cast<int>(context->ports().reserve(0).port()); }();
  const Project project = scratch.project(
      "name: shop\n"
      "services:\n"
      "  - name: auth-api\n    command: [\"true\"]\n    port: " +
      std::to_string(free_port) +
      "\n"
      "  - name: web\n    command: [\"true\"]\n    depends_on: [auth-api]\n"
      "    env: {PORT: \"1\", API: \"http://127.0.0.1:${AUTH_API_PORT}/v1\"}\n");
  const auto plan = orchestrator::build_plan(*context, project, {}, true);
  ASSERT_EQ(plan.nodes.size(), 2U);
  const int api_port = *plan.nodes[0].planned.port;
  ASSERT_GT(api_port, 0);
  const auto& env = plan.nodes[1].env;
  EXPECT_EQ(env.at("AUTH_API_HOST"), "127.0.0.1");
  EXPECT_EQ(env.at("AUTH_API_PORT"), std::to_string(api_port));
  EXPECT_EQ(env.at("AUTH_API_URL"), "http://127.0.0.1:" + std::to_string(api_port));
  EXPECT_EQ(env.at("API"), "http://127.0.0.1:" + std::to_string(api_port) + "/v1");
  EXPECT_EQ(env.count("PORT"), 1U);  // the user's PORT; web has no port of its own
  EXPECT_EQ(plan.nodes[0].env.at("PORT"), std::to_string(api_port));
  EXPECT_EQ(env.at("DEVX_SERVICE"), "web");
  EXPECT_EQ(env.count("PATH"), 1U);  // the context environment is the base
}

TEST(Environment, DatabasesPublishEngineUrls) {
  Project project;
  Database pg;
  pg.name = "main-db";
  pg.engine = DatabaseEngine::postgres;
  project.databases.push_back(pg);
  Database redis;
  redis.name = "cache";
  redis.engine = DatabaseEngine::redis;
  project.databases.push_back(redis);
  const auto env = dependency_environment(project, "main-db", 5433);
  EXPECT_EQ(env.at("MAIN_DB_PORT"), "5433");
  EXPECT_NE(env.at("DATABASE_URL").find("127.0.0.1:5433"), std::string::npos);
  EXPECT_EQ(env.at("MAIN_DB_URL"), env.at("DATABASE_URL"));
  EXPECT_EQ(dependency_environment(project, "cache", 6380).at("REDIS_URL"),
            "redis://127.0.0.1:6380/0");
}

}  // namespace
}  // namespace devx
