// The Ignition replay against a real machine: a rootful podman container from the offline busybox
// image stands in for the VM (`podman exec -i` is the transport), with a `systemctl` shim that
// logs its arguments. Every file's content, mode and owner is read back from the container.
#include <devx/context.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "vm/ignition_replay.hpp"
#include "vm/plan.hpp"
#include "vm/resolve.hpp"
#include "vm_test_util.hpp"

extern char** environ;  // NOLINT

namespace devx {
namespace {

const std::string kImage = "localhost/devx-test/busybox:latest";

std::map<std::string, std::string> podman_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env["CONTAINERS_CONF"] = std::string(DEVX_SOURCE_DIR) + "/tests/images/containers.conf";
  return env;
}

class ReplayContainer : public ::testing::Test {
 protected:
  void SetUp() override {
    ContextOptions options;
    options.devx_home = scratch_.devx_home();
    options.env = podman_env();
    context_ = std::make_unique<Context>(options);
    if (!vm::find_in_path(*context_, "podman")) GTEST_SKIP() << "podman is not installed";
    if (!sh({"podman", "image", "exists", kImage}).ok()) {
      const auto built = sh({std::string(DEVX_SOURCE_DIR) + "/tests/images/build-busybox.sh"});
      if (!built.ok()) GTEST_SKIP() << "cannot build " << kImage << ": " << built.err;
    }
    name_ = "devx-vm-replay-" + std::to_string(::getpid());
    sh({"podman", "rm", "-f", "-t", "0", name_});
    const auto started = sh({"podman", "run", "-d", "--name", name_, kImage, "sleep", "600"});
    if (!started.ok()) GTEST_SKIP() << "podman cannot run containers here: " << started.err;
    running_ = true;
    // busybox has no systemctl: a shim records what it is asked.
    ASSERT_TRUE(in_container({"sh", "-c", "cat >/bin/systemctl && chmod 755 /bin/systemctl"},
                             "#!/bin/sh\necho \"$*\" >>/systemctl.log\n")
                    .ok());
    ASSERT_TRUE(in_container({"sh", "-c",
                              "mkdir -p /etc/devx && echo original >/etc/keep.conf && "
                              "echo line1 >/etc/append.log"})
                    .ok());
  }
  void TearDown() override {
    if (running_) sh({"podman", "rm", "-f", "-t", "0", name_});
  }

  CommandResult sh(std::vector<std::string> argv, std::optional<std::string> input = {}) {
    CommandSpec spec;
    spec.argv = std::move(argv);
    spec.stdin_data = std::move(input);
    spec.timeout = std::chrono::seconds(120);
    return context_->commands().run(spec);
  }
  CommandResult in_container(std::vector<std::string> command,
                             std::optional<std::string> input = {}) {
    std::vector<std::string> argv = {"podman", "exec", "-i", name_};
    argv.insert(argv.end(), command.begin(), command.end());
    return sh(argv, std::move(input));
  }
  std::string output(std::vector<std::string> command) {
    const auto r = in_container(std::move(command));
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  vm::ExecTransport transport() const {
    // The container's user is root: no sudo.
    return vm::ExecTransport{{"podman", "exec", "-i", name_}, false, true};
  }

  test::VmScratch scratch_;
  std::unique_ptr<Context> context_;
  std::string name_;
  bool running_ = false;
};

const char* kConfig = R"({
  "ignition": {"version": "3.3.0"},
  "storage": {
    "directories": [{"path": "/var/lib/devx-data", "mode": 448}],
    "files": [
      {"path": "/etc/devx/secret.env", "mode": 384,
       "contents": {"source": "data:;base64,VE9LRU49YWJjJ2RlZiIkSE9NRQpFT0YK"}},
      {"path": "/etc/devx/public.conf", "mode": 420, "user": {"id": 1000}, "group": {"id": 1001},
       "contents": {"source": "data:,hello%20world%0A"}},
      {"path": "/usr/local/bin/tool.sh", "mode": 493,
       "contents": {"source": "data:,%23!%2Fbin%2Fsh%0Aecho%20tool%0A"}},
      {"path": "/etc/keep.conf", "mode": 420, "overwrite": false,
       "contents": {"source": "data:,replaced%0A"}},
      {"path": "/etc/append.log", "mode": 420, "append": [{"source": "data:,line2%0A"}]}
    ],
    "links": [{"path": "/etc/devx/current", "target": "/etc/devx/public.conf"}]
  },
  "systemd": {
    "units": [
      {"name": "hello.service", "enabled": true,
       "contents": "[Unit]\nDescription=hello\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
       "dropins": [{"name": "10-env.conf", "contents": "[Service]\nEnvironment=A=1\n"}]},
      {"name": "unwanted.service", "mask": true}
    ]
  }
})";

TEST_F(ReplayContainer, FilesDirectoriesLinksAndUnitsArrive) {
  vm::Plan plan(*context_, "vm.apply-ignition", name_, "test", false);
  const auto counts = vm::replay_ignition(plan, transport(), kConfig);
  EXPECT_EQ(counts.at("files"), 5);
  EXPECT_EQ(counts.at("directories"), 1);
  EXPECT_EQ(counts.at("links"), 1);
  EXPECT_EQ(counts.at("units"), 2);
  EXPECT_EQ(counts.at("kept"), boost::json::parse(R"(["/etc/keep.conf"])"));

  // Content with quotes, $ and a line "EOF" survives byte for byte (no heredoc, no expansion).
  EXPECT_EQ(output({"cat", "/etc/devx/secret.env"}), "TOKEN=abc'def\"$HOME\nEOF\n");
  EXPECT_EQ(output({"stat", "-c", "%a %u %g", "/etc/devx/secret.env"}), "600 0 0\n");
  EXPECT_EQ(output({"cat", "/etc/devx/public.conf"}), "hello world\n");
  EXPECT_EQ(output({"stat", "-c", "%a %u %g", "/etc/devx/public.conf"}), "644 1000 1001\n");
  EXPECT_EQ(output({"stat", "-c", "%a", "/usr/local/bin/tool.sh"}), "755\n");
  EXPECT_EQ(output({"/usr/local/bin/tool.sh"}), "tool\n");
  EXPECT_EQ(output({"cat", "/etc/keep.conf"}), "original\n");
  EXPECT_EQ(output({"cat", "/etc/append.log"}), "line1\nline2\n");
  EXPECT_EQ(output({"stat", "-c", "%a", "/var/lib/devx-data"}), "700\n");
  EXPECT_EQ(output({"readlink", "/etc/devx/current"}), "/etc/devx/public.conf\n");
  EXPECT_EQ(output({"stat", "-c", "%a", "/etc/systemd/system/hello.service"}), "644\n");
  EXPECT_EQ(output({"cat", "/etc/systemd/system/hello.service.d/10-env.conf"}),
            "[Service]\nEnvironment=A=1\n");
  EXPECT_EQ(output({"cat", "/systemctl.log"}),
            "mask unwanted.service\ndaemon-reload\nenable --now hello.service\n");
  // No temporary file is left beside the targets.
  EXPECT_EQ(output({"sh", "-c", "find /etc /usr/local /var/lib -name '.devx-*' | wc -l"}), "0\n");
  // File contents never travel in argv.
  for (const auto& action : plan.actions())
    for (const auto& word : action.at("argv").as_array())
      EXPECT_EQ(std::string(word.as_string()).find("abc'def"), std::string::npos);
}

TEST_F(ReplayContainer, AFailingItemSurfacesWithItsName) {
  vm::Plan plan(*context_, "vm.apply-ignition", name_, "test", false);
  // /etc/keep.conf is a file, so nothing can be created below it.
  const char* broken = R"({"ignition":{"version":"3.3.0"},"storage":{"files":[
      {"path":"/etc/keep.conf/inner","mode":420,"contents":{"source":"data:,x"}}]}})";
  try {
    vm::replay_ignition(plan, transport(), broken);
    ADD_FAILURE() << "expected a failure";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_failed);
    EXPECT_NE(e.message().find("/etc/keep.conf/inner"), std::string::npos) << e.message();
  }
}

TEST_F(ReplayContainer, ADryRunSendsNothing) {
  auto options = context_->options();
  options.dry_run = true;
  Context dry(options);
  vm::Plan plan(dry, "vm.apply-ignition", name_, "test", true);
  const auto counts = vm::replay_ignition(plan, transport(), kConfig);
  EXPECT_EQ(counts.at("files"), 5);
  // 1 directory + 5 files + 1 link + 2 unit files + mask + daemon-reload + enable
  EXPECT_EQ(plan.actions().size(), 12u);
  EXPECT_EQ(output({"cat", "/etc/keep.conf"}), "original\n");
  EXPECT_FALSE(in_container({"test", "-e", "/etc/devx/secret.env"}).ok());
}

}  // namespace
}  // namespace devx
