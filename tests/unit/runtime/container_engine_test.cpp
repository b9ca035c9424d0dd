// The Podman/Docker adapter without running anything: argv shapes and output parsing.
#include <devx/error.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "runtime/container_engine.hpp"

namespace devx::runtime {
namespace {

bool contains(const std::vector<std::string>& argv, std::string_view needle) {
  return std::any_of(argv.begin(), argv.end(),
                     [&](const std::string& a) { return a.find(needle) != std::string::npos; });
}

RunRequest sample_request() {
  RunRequest r;
  r.name = "devx-demo-1234abcd-web";
  r.image = "localhost/devx-test/busybox:latest";
  r.command = {"httpd", "-f", "-p", "8080"};
  r.labels = {{"devx.project", "demo"}, {"devx.run", "demo-1234abcd"}, {"devx.service", "web"}};
  r.ports = {PortMapping{18080, 8080}};
  r.env = {{"API_TOKEN", "hunter2"}, {"PEM", "-----BEGIN-----\nabc\n-----END-----"}};
  r.env_file = "/tmp/run/web.env";
  return r;
}

TEST(ContainerEngine, RunPublishesOnLoopbackAndLabels) {
  const ContainerEngine podman(EngineKind::podman, "/usr/bin/podman");
  const auto prepared = podman.prepare_run(sample_request());
  const auto& argv = prepared.argv;
  ASSERT_GE(argv.size(), 4U);
  EXPECT_EQ(argv[0], "/usr/bin/podman");
  EXPECT_EQ(argv[1], "run");
  EXPECT_EQ(argv[2], "-d");
  const auto p = std::find(argv.begin(), argv.end(), "-p");
  ASSERT_NE(p, argv.end());
  EXPECT_EQ(*(p + 1), "127.0.0.1:18080:8080");
  EXPECT_TRUE(contains(argv, "devx.project=demo"));
  EXPECT_TRUE(contains(argv, "devx.service=web"));
  EXPECT_TRUE(contains(argv, "--init"));
  // The image comes right before the command.
  const auto image = std::find(argv.begin(), argv.end(), "localhost/devx-test/busybox:latest");
  ASSERT_NE(image, argv.end());
  EXPECT_EQ(std::vector<std::string>(image + 1, argv.end()),
            (std::vector<std::string>{"httpd", "-f", "-p", "8080"}));
}

TEST(ContainerEngine, EnvironmentValuesNeverReachArgv) {
  const ContainerEngine podman(EngineKind::podman, "podman");
  const auto prepared = podman.prepare_run(sample_request());
  EXPECT_FALSE(contains(prepared.argv, "hunter2"));
  EXPECT_FALSE(contains(prepared.argv, "BEGIN"));
  EXPECT_TRUE(contains(prepared.argv, "--env-file"));
  EXPECT_EQ(prepared.env_file_content, "API_TOKEN=hunter2\n");
  // A multi-line value cannot live in an env-file: it is passed by name from the engine's env.
  const auto e = std::find(prepared.argv.begin(), prepared.argv.end(), "--env");
  ASSERT_NE(e, prepared.argv.end());
  EXPECT_EQ(*(e + 1), "PEM");
  EXPECT_EQ(prepared.process_env.at("PEM"), "-----BEGIN-----\nabc\n-----END-----");
}

TEST(ContainerEngine, RefusesNonLoopbackPublishing) {
  const ContainerEngine podman(EngineKind::podman, "podman");
  auto request = sample_request();
  request.ports[0].host_ip = "0.0.0.0";
  EXPECT_THROW(podman.prepare_run(request), Error);
}

TEST(ContainerEngine, StopRoundsGraceUpToSeconds) {
  const ContainerEngine docker(EngineKind::docker, "docker");
  EXPECT_EQ(docker.stop_argv("c", std::chrono::milliseconds(1500)),
            (std::vector<std::string>{"docker", "stop", "-t", "2", "c"}));
  EXPECT_EQ(docker.stop_argv("c", std::chrono::milliseconds(0)),
            (std::vector<std::string>{"docker", "stop", "-t", "0", "c"}));
}

TEST(ContainerEngine, PsFiltersByLabelInEachEnginesJsonFormat) {
  const ContainerEngine podman(EngineKind::podman, "podman");
  const ContainerEngine docker(EngineKind::docker, "docker");
  const std::map<std::string, std::string> labels{{"devx.project", "demo"}};
  EXPECT_EQ(podman.ps_argv(labels),
            (std::vector<std::string>{"podman", "ps", "-a", "--filter", "label=devx.project=demo",
                                      "--format", "json"}));
  EXPECT_EQ(docker.ps_argv(labels).back(), "{{json .}}");
}

TEST(ContainerEngine, ParsesPodmanPsArray) {
  const auto list = ContainerEngine::parse_ps(R"([{"Id":"abc","Names":["devx-x-web"],
    "Image":"img","State":"running","ExitCode":0,"Labels":{"devx.project":"demo"}}])");
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0].id, "abc");
  EXPECT_EQ(list[0].name, "devx-x-web");
  EXPECT_EQ(list[0].state, "running");
  EXPECT_EQ(list[0].labels.at("devx.project"), "demo");
  EXPECT_TRUE(ContainerEngine::parse_ps("[]").empty());
}

TEST(ContainerEngine, ParsesDockerPsJsonLines) {
  const auto list = ContainerEngine::parse_ps(
      "{\"ID\":\"a1\",\"Names\":\"devx-x-web\",\"State\":\"exited\","
      "\"Labels\":\"devx.project=demo,devx.service=web\"}\n"
      "{\"ID\":\"b2\",\"Names\":\"devx-x-db\",\"State\":\"running\",\"Labels\":\"\"}\n");
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].id, "a1");
  EXPECT_EQ(list[0].labels.at("devx.service"), "web");
  EXPECT_EQ(list[1].state, "running");
  EXPECT_TRUE(ContainerEngine::parse_ps("").empty());
}

TEST(ContainerEngine, ParsesInspectStateAndLabels) {
  const auto state = ContainerEngine::parse_inspect(R"([{"Id":"f0","Name":"/devx-x-web",
    "State":{"Status":"exited","Running":false,"ExitCode":3},
    "Config":{"Labels":{"devx.run":"x"}}}])");
  EXPECT_EQ(state.name, "devx-x-web");
  EXPECT_EQ(state.status, "exited");
  EXPECT_FALSE(state.running);
  EXPECT_EQ(state.exit_code, 3);
  EXPECT_EQ(state.labels.at("devx.run"), "x");
  EXPECT_THROW(ContainerEngine::parse_inspect("not json"), Error);
}

TEST(ContainerEngine, ParsesWaitOutput) {
  EXPECT_EQ(ContainerEngine::parse_wait("3\n"), 3);
  EXPECT_EQ(ContainerEngine::parse_wait("137"), 137);
  EXPECT_EQ(ContainerEngine::parse_wait(""), std::nullopt);
  EXPECT_EQ(ContainerEngine::parse_wait("Error: no such container"), std::nullopt);
}

TEST(ContainerEngine, ExecPassesEnvironmentByName) {
  const ContainerEngine podman(EngineKind::podman, "podman");
  ExecOptions options;
  options.interactive = true;
  options.env_names = {"TOKEN"};
  EXPECT_EQ(podman.exec_argv("c", {"sh", "-c", "echo $TOKEN"}, options),
            (std::vector<std::string>{"podman", "exec", "-i", "--env", "TOKEN", "c", "sh", "-c",
                                      "echo $TOKEN"}));
}

TEST(ContainerEngine, DetectPrefersPodmanAndHonoursOverride) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("devx-engines-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const char* tool : {"podman", "docker"}) {
    const auto path = dir / tool;
    std::ofstream(path) << "#!/bin/sh\n";
    std::filesystem::permissions(path, std::filesystem::perms(0755));
  }
  const std::map<std::string, std::string> env{{"PATH", dir.string()}};
  EXPECT_EQ(ContainerEngine::detect(env)->kind(), EngineKind::podman);
  EXPECT_EQ(ContainerEngine::detect(env, "docker")->kind(), EngineKind::docker);
  auto with_var = env;
  with_var["DEVX_CONTAINER_ENGINE"] = "docker";
  EXPECT_EQ(ContainerEngine::detect(with_var)->executable(), (dir / "docker").string());
  EXPECT_FALSE(ContainerEngine::detect({{"PATH", "/nonexistent"}}).has_value());
  EXPECT_THROW(ContainerEngine::detect(env, "lxc"), Error);
  std::filesystem::remove_all(dir);
}

TEST(ContainerEngine, ContainerNamesAreValidated) {
  EXPECT_EQ(container_name("demo-1234abcd", "web"), "devx-demo-1234abcd-web");
  EXPECT_THROW(container_name("demo", "bad name"), Error);
  EXPECT_THROW(container_name("demo", "../x"), Error);
}

}  // namespace
}  // namespace devx::runtime
