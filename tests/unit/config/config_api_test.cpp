#include <devx/config.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/stat.h>

namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/devx-config-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void write(const fs::path& relative, std::string_view text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative) << text;
  }

 private:
  fs::path path_;
};

devx::LoadOptions alice() {
  devx::LoadOptions options;
  options.user = "alice";
  return options;
}

TEST(ConfigApi, FindsTheFileByWalkingUp) {
  TempDir dir;
  dir.write("devx.yaml", "services: []\n");
  fs::create_directories(dir.path() / "a/b/c");
  EXPECT_EQ(devx::find_project_file(dir.path() / "a/b/c"), dir.path() / "devx.yaml");
  const devx::LoadResult result = devx::load_project(dir.path() / "a/b", alice());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.project->root_file, fs::canonical(dir.path() / "devx.yaml"));
}

TEST(ConfigApi, MissingFileIsConfigNotFound) {
  TempDir dir;
  try {
    devx::find_project_file(dir.path());
    FAIL() << "expected an error";
  } catch (const devx::Error& e) {
    EXPECT_EQ(e.code(), devx::ErrorCode::config_not_found);
    EXPECT_FALSE(e.hint().empty());
  }
  EXPECT_THROW(devx::load_project(dir.path() / "nope.yaml"), devx::Error);
}

TEST(ConfigApi, DefaultsComeFromTheRootDirectoryNotTheWorkingDirectory) {
  TempDir dir;
  dir.write("shop/devx.yaml", "services:\n  - {name: api, command: ./api}\n");
  const devx::Project project = devx::load_project_or_throw(dir.path() / "shop", alice());
  EXPECT_EQ(project.name, "shop");
  EXPECT_EQ(project.domain, "alice.ipv1337.dev");
  EXPECT_EQ(project.services[0].working_dir, fs::canonical(dir.path() / "shop").string());
}

TEST(ConfigApi, NestedIncludesKeepTheirOwnDirectory) {
  TempDir dir;
  dir.write("devx.yaml", "include: [team/devx.yaml]\n");
  dir.write("team/devx.yaml", "include: [svc/devx.yaml]\nservices: [{name: t, command: x}]\n");
  dir.write("team/svc/devx.yaml", "services: [{name: s, command: x, working_dir: bin}]\n");
  const devx::Project project = devx::load_project_or_throw(dir.path(), alice());
  const fs::path root = fs::canonical(dir.path());
  EXPECT_EQ(project.find_service("t")->dir, root / "team");
  EXPECT_EQ(project.find_service("s")->dir, root / "team/svc");
  EXPECT_EQ(project.find_service("s")->working_dir, (root / "team/svc/bin").string());
}

TEST(ConfigApi, EnvFileAppliesOnlyToItsSubProject) {
  TempDir dir;
  dir.write("devx.yaml",
            "env: [.env]\ninclude:\n  - {path: a/devx.yaml, env_file: a/.env}\n  - b/devx.yaml\n");
  dir.write("a/devx.yaml", "services: [{name: a, command: x}]\n");
  dir.write("b/devx.yaml", "services: [{name: b, command: x}]\n");
  const devx::Project project = devx::load_project_or_throw(dir.path(), alice());
  const std::string root = fs::canonical(dir.path()).string();
  EXPECT_EQ(project.find_service("a")->env_sources,
            (std::vector<std::string>{"file://" + root + "/.env", "file://" + root + "/a/.env"}));
  EXPECT_EQ(project.find_service("b")->env_sources, (std::vector<std::string>{"file://" + root + "/.env"}));
}

TEST(ConfigApi, ErrorCarriesEveryDiagnosticInDetails) {
  TempDir dir;
  dir.write("devx.yaml",
            "services:\n  - name: a\n    command: x\n    dependson: []\n  - name: b\n    port: x\n    command: y\n");
  try {
    devx::load_project_or_throw(dir.path() / "devx.yaml", alice());
    FAIL() << "expected an error";
  } catch (const devx::Error& e) {
    EXPECT_EQ(e.code(), devx::ErrorCode::config_invalid);
    EXPECT_NE(std::string(e.what()).find("devx.yaml:4:5: error: unknown key 'dependson'"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.hint(), "did you mean 'depends_on'?");
    const auto details = boost::json::parse(e.details_json()).as_object();
    const auto& list = details.at("diagnostics").as_array();
    ASSERT_GE(list.size(), 2u);
    EXPECT_EQ(list[1].at("line"), 6);
    EXPECT_EQ(list[1].at("column"), 11);
    EXPECT_EQ(list[1].at("severity"), "error");
  }
}

TEST(ConfigApi, AnUnknownKeyWithInvalidUtf8IsStillAConfigError) {
  TempDir dir;
  dir.write("devx.yaml", "services:\n  - name: a\n    command: x\n    bad\xff\xfekey: 1\n");
  try {
    devx::load_project_or_throw(dir.path() / "devx.yaml", alice());
    FAIL() << "expected an error";
  } catch (const devx::Error& e) {
    EXPECT_EQ(e.code(), devx::ErrorCode::config_invalid);
    // The details are valid JSON and the bytes became U+FFFD.
    const auto details = boost::json::parse(e.details_json()).as_object();
    const std::string message(details.at("diagnostics").as_array()[0].at("message").as_string());
    EXPECT_NE(message.find("bad\xef\xbf\xbd\xef\xbf\xbdkey"), std::string::npos) << message;
  }
}

TEST(ConfigApi, IncludesOfDevicesAreRefusedWithADiagnostic) {
  TempDir dir;
  dir.write("devx.yaml", "include: [/dev/zero]\nservices: [{name: a, command: x}]\n");
  const devx::LoadResult result = devx::load_project(dir.path() / "devx.yaml", alice());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.diagnostics[0].message.find("/dev/zero: not a regular file"), std::string::npos)
      << result.diagnostics[0].message;
  EXPECT_EQ(result.diagnostics[0].location.line, 1);
}

TEST(ConfigApi, AConfigurationCanComeFromAPipe) {
  TempDir dir;
  const fs::path fifo = dir.path() / "devx.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(fifo) << "services: [{name: piped, command: x}]\n"; });
  const devx::LoadResult result = devx::load_project(fifo, alice());
  writer.join();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.project->services[0].name, "piped");
}

TEST(ConfigApi, ResolvedJsonIsStableAndVersioned) {
  TempDir dir;
  dir.write("devx.yaml", "services:\n  - {name: api, command: [a, b], port: 80}\n");
  const devx::Project project = devx::load_project_or_throw(dir.path(), alice());
  const std::string first = devx::project_to_json(project);
  EXPECT_EQ(first, devx::project_to_json(devx::load_project_or_throw(dir.path(), alice())));
  const auto doc = boost::json::parse(first).as_object();
  EXPECT_EQ(doc.begin()->key(), "v");
  EXPECT_EQ(doc.at("services").as_array()[0].at("command").as_array().size(), 2u);
}

TEST(ConfigApi, YamlOutputLoadsBackToTheSameProject) {
  TempDir dir;
  dir.write("devx.yaml", R"(name: shop
databases: [{engine: redis, port: 7000}, {engine: postgres}]
services:
  - name: api
    command: "echo 'a: b'"
    port: 8080
    env: {FLAG: "true", EMPTY: "", NUM: "010"}
    depends_on: [redis]
    healthcheck: {tcp: "localhost:8080", interval: 250ms}
    restart: on-failure:2
)");
  const devx::Project project = devx::load_project_or_throw(dir.path(), alice());
  dir.write("copy/devx.yaml", devx::project_to_yaml(project));
  devx::Project copy = devx::load_project_or_throw(dir.path() / "copy", alice());
  const devx::Service& a = *project.find_service("api");
  const devx::Service& b = *copy.find_service("api");
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.healthcheck->interval, b.healthcheck->interval);
  EXPECT_EQ(b.restart.max_retries, 2);
  EXPECT_EQ(copy.find_database("redis")->port, 7000);
  EXPECT_EQ(copy.find_database("postgres")->engine, devx::DatabaseEngine::postgres);
}

TEST(ConfigApi, SecretsAreRedactedInOutput) {
  TempDir dir;
  dir.write("devx.yaml", "tunnels: [{port: 80, basic_auth: \"bob:hunter2\"}]\n");
  const devx::Project project = devx::load_project_or_throw(dir.path(), alice());
  EXPECT_EQ(project.tunnels[0].basic_auth, "bob:hunter2");
  EXPECT_EQ(devx::project_to_json(project).find("hunter2"), std::string::npos);
  EXPECT_EQ(devx::project_to_yaml(project).find("hunter2"), std::string::npos);
}

TEST(ConfigApi, ProfileHealthcheckKindReplacesTimingsMerge) {
  TempDir dir;
  dir.write("devx.yaml", R"(services:
  - name: api
    command: x
    healthcheck: {http: "http://localhost/", timeout: 2s}
profiles:
  timing:
    services: [{name: api, healthcheck: {interval: 100ms}}]
  kind:
    services: [{name: api, healthcheck: {tcp: "localhost:1"}}]
)");
  devx::LoadOptions options = alice();
  options.profile = "timing";
  devx::Project timing = devx::load_project_or_throw(dir.path(), options);
  EXPECT_EQ(timing.services[0].healthcheck->http, "http://localhost/");
  EXPECT_EQ(timing.services[0].healthcheck->timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(timing.services[0].healthcheck->interval, std::chrono::milliseconds(100));
  options.profile = "kind";
  devx::Project kind = devx::load_project_or_throw(dir.path(), options);
  EXPECT_EQ(kind.services[0].healthcheck->http, "");
  EXPECT_EQ(kind.services[0].healthcheck->tcp, "localhost:1");
  EXPECT_EQ(kind.services[0].healthcheck->timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(kind.active_profile, "kind");
  EXPECT_EQ(kind.profiles, (std::vector<std::string>{"kind", "timing"}));
}

TEST(ConfigApi, SchemaIsGeneratedFromTheFieldTables) {
  const auto schema = boost::json::parse(devx::devx_yaml_json_schema()).as_object();
  EXPECT_EQ(schema.at("title"), "devx.yaml");
  EXPECT_EQ(schema.at("additionalProperties"), false);
  const auto& service = schema.at("properties").at("services").at("items").as_object();
  EXPECT_TRUE(service.at("properties").as_object().contains("depends_on"));
  EXPECT_TRUE(service.at("properties").at("healthcheck").at("properties").as_object().contains("exec"));
  EXPECT_EQ(service.at("required").as_array()[0], "name");
}

TEST(ConfigApi, CommittedSchemaMatchesTheGeneratedOne) {
  std::ifstream in(fs::path(DEVX_SOURCE_DIR) / "docs/schemas/devx.schema.json");
  ASSERT_TRUE(in) << "docs/schemas/devx.schema.json is missing; run scripts/gen-schemas";
  const std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(boost::json::parse(committed), boost::json::parse(devx::devx_yaml_json_schema()))
      << "docs/schemas/devx.schema.json is stale; run scripts/gen-schemas";
}

}  // namespace
