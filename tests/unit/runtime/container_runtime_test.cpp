// The container runtime against real rootful Podman, with the offline busybox image built by
// tests/images/build-busybox.sh and the private CONTAINERS_CONF of tests/images/.
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/http.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "core/process_runner.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime_test_support.hpp"

namespace devx::runtime {
namespace {

const std::string kImage = "localhost/devx-test/busybox:latest";

class ContainerRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = test::process_env();
    env_["CONTAINERS_CONF"] = std::string(DEVX_SOURCE_DIR) + "/tests/images/containers.conf";
    if (!ContainerEngine::detect(env_, "podman")) {
      skip_reason_ = "podman is not installed";
      return;
    }
    test::TempHome home;
    Context context(ContextOptions{home.path(), env_});
    const auto built = test::run_command(
        context, {std::string(DEVX_SOURCE_DIR) + "/tests/images/build-busybox.sh"});
    if (!built.ok()) image_error_ = built.err + built.out;
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(image_error_.empty()) << "building the test image failed: " << image_error_;
    ContextOptions options;
    options.devx_home = home_.path();
    options.env = env_;
    context_ = std::make_unique<Context>(options);
    recorder_ = std::make_shared<test::RecordingRunner>(core::make_system_command_runner(env_));
    context_->set_command_runner(recorder_);
    engine_.emplace(*ContainerEngine::detect(env_, "podman"));
    // Unique per test, so parallel or leftover runs never collide.
    project_ = "rt" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  }

  void TearDown() override {
    if (context_ && engine_) remove_containers(*context_, *engine_, project_);
  }

  LaunchSpec spec(std::string name, std::vector<std::string> argv) {
    LaunchSpec s;
    s.project = project_;
    s.run_key = project_ + "-0123abcd";
    s.name = std::move(name);
    s.image = kImage;
    s.argv = std::move(argv);
    return s;
  }

  static inline std::map<std::string, std::string> env_;
  static inline std::string skip_reason_;
  static inline std::string image_error_;
  test::TempHome home_;
  std::unique_ptr<Context> context_;
  std::shared_ptr<test::RecordingRunner> recorder_;
  std::optional<ContainerEngine> engine_;
  std::string project_;
};

TEST_F(ContainerRuntimeTest, ServesHttpOnLoopbackWithLabelsAndPrivateEnvironment) {
  ContainerRuntime runtime(*engine_);
  const std::string secret = "s3cr3t-" + std::to_string(std::random_device{}());
  auto s = spec("web", {"httpd", "-f", "-p", "8080", "-h", "/var/www"});
  s.port = test::free_port(*context_);
  s.container_port = 8080;
  s.env = {{"DEVX_SECRET", secret}, {"MULTI_LINE", "first\nsecond"}};
  auto node = runtime.launch(*context_, s);
  const std::string name = node->container();
  EXPECT_EQ(name, "devx-" + s.run_key + "-web");
  EXPECT_EQ(node->pid(), 0);

  // HTTP through the published loopback port.
  auto http = make_curl_http_client();
  HttpResponse response;
  EXPECT_TRUE(test::eventually([&] {
    try {
      HttpRequest request;
      request.url = "http://127.0.0.1:" + std::to_string(*s.port) + "/";
      request.timeout = std::chrono::seconds(5);
      response = http->send(request);
      return response.status == 200;
    } catch (const Error&) {
      return false;
    }
  }));
  EXPECT_NE(response.body.find("devx-test"), std::string::npos);

  // Labels.
  const auto state = engine_->inspect(*context_, name);
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->running);
  EXPECT_EQ(state->labels.at("devx.project"), project_);
  EXPECT_EQ(state->labels.at("devx.run"), s.run_key);
  EXPECT_EQ(state->labels.at("devx.service"), "web");

  // The environment reached the container, but no argv carried a value, and the env-file is gone.
  CommandSpec env_cmd;
  env_cmd.argv = engine_->exec_argv(name, {"env"});
  const auto env_out = context_->commands().run(env_cmd).out;
  EXPECT_NE(env_out.find("DEVX_SECRET=" + secret), std::string::npos) << env_out;
  EXPECT_NE(env_out.find("MULTI_LINE=first\nsecond"), std::string::npos) << env_out;
  for (const auto& argv : recorder_->argvs()) {
    for (const auto& arg : argv) {
      EXPECT_EQ(arg.find(secret), std::string::npos) << arg;
      EXPECT_EQ(arg.find("first\nsecond"), std::string::npos) << arg;
    }
  }
  EXPECT_FALSE(
      std::filesystem::exists(home_.path() / "run" / s.run_key / "containers" / "web.env"));

  // Graceful stop removes the container.
  const auto status = node->stop(std::chrono::seconds(5));
  EXPECT_NE(status.exit_code, -1);
  EXPECT_FALSE(engine_->inspect(*context_, name).has_value());
  // Published only on loopback.
  for (const auto& argv : recorder_->argvs()) {
    const auto p = std::find(argv.begin(), argv.end(), "-p");
    if (p != argv.end() && argv.size() > 1 && argv[1] == "run") {
      EXPECT_TRUE((p + 1)->starts_with("127.0.0.1:")) << *(p + 1);
    }
  }
}

TEST_F(ContainerRuntimeTest, ReportsExitCodeAndStreamsOutput) {
  ContainerRuntime runtime(*engine_);
  std::mutex mutex;
  std::vector<std::string> lines;
  auto s = spec("job", {"sh", "-c", "echo hello-out; echo hello-err >&2; exit 3"});
  s.on_line = [&](std::string_view line, bool from_stderr) {
    std::lock_guard lock(mutex);
    lines.push_back(std::string(from_stderr ? "err:" : "out:") + std::string(line));
  };
  auto node = runtime.launch(*context_, s);
  const auto exit = node->wait_for(std::chrono::seconds(120));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 3);
  node->stop(std::chrono::seconds(1));  // removes it; the logs follower has ended
  std::lock_guard lock(mutex);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "out:hello-out"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "err:hello-err"), lines.end());
}

TEST_F(ContainerRuntimeTest, ReconciliationFindsContainersLeftByADestroyedRuntime) {
  std::string name;
  {
    ContainerRuntime runtime(*engine_);
    auto node = runtime.launch(*context_, spec("sleeper", {"sleep", "600"}));
    name = node->container();
    // Destroyed without stop(), as after a supervisor crash.
  }
  const auto found = find_containers(*context_, *engine_, project_);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].name, name);
  EXPECT_EQ(found[0].state, "running");
  EXPECT_EQ(found[0].labels.at("devx.service"), "sleeper");
  EXPECT_TRUE(find_containers(*context_, *engine_, project_, std::string("other-run")).empty());

  const auto removed = remove_containers(*context_, *engine_, project_);
  EXPECT_EQ(removed, std::vector<std::string>{name});
  EXPECT_TRUE(find_containers(*context_, *engine_, project_).empty());
}

TEST_F(ContainerRuntimeTest, LeftoverContainerWithTheSameNameIsReplaced) {
  ContainerRuntime runtime(*engine_);
  { auto first = runtime.launch(*context_, spec("again", {"sleep", "600"})); }
  auto second = runtime.launch(*context_, spec("again", {"sleep", "600"}));
  EXPECT_EQ(find_containers(*context_, *engine_, project_).size(), 1U);
  second->stop(std::chrono::seconds(0));
  EXPECT_TRUE(find_containers(*context_, *engine_, project_).empty());
}

TEST_F(ContainerRuntimeTest, VolumesAreCreatedOnceAndRemoved) {
  const std::string volume = "devx-data-" + project_ + "-vol";
  engine_->volume_create(*context_, volume, {{"devx.project", project_}});
  engine_->volume_create(*context_, volume, {{"devx.project", project_}});
  EXPECT_TRUE(engine_->volume_exists(*context_, volume));
  engine_->volume_remove(*context_, volume);
  EXPECT_FALSE(engine_->volume_exists(*context_, volume));
  engine_->volume_remove(*context_, volume);  // absent: not an error
}

}  // namespace
}  // namespace devx::runtime
