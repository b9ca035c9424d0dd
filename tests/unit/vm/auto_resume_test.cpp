// Waking the dev VM before `devx up` starts containers: only a stopped VM that devx manages is
// started; nothing is ever created, and nothing is asked.
#include "vm/auto_resume.hpp"

#include <devx/error.hpp>

#include <gtest/gtest.h>

#include "vm_test_util.hpp"

namespace devx {
namespace {

using test::Argv;
using test::VmScratch;

void podman_project(VmScratch& s) {
  s.install({"podman"});
  s.write(s.project() / "devx.yaml", "name: p\nprovider: podman\n");
}

void machine_state(test::FakeRunner& runner, const std::string& state) {
  runner.on({"podman", "machine", "inspect", "vm1"}, 0,
            R"([{"Name":"vm1","State":")" + state + R"("}])");
}

TEST(VmAutoResume, AStoppedVmOfTheProjectIsStarted) {
  VmScratch s;
  podman_project(s);
  machine_state(s.runner(), "stopped");
  auto context = s.context({{"DEVX_VM_NAME", "vm1"}});
  EXPECT_TRUE(vm::resume_for_containers(*context, s.project()));
  EXPECT_EQ(s.runner().mutations(), (std::vector<Argv>{{"podman", "machine", "start", "vm1"}}));
}

TEST(VmAutoResume, ARunningOrMissingVmIsLeftAlone) {
  for (const std::string state : {"running", ""}) {
    VmScratch s;
    podman_project(s);
    if (state.empty()) {
      s.runner().on({"podman", "machine", "inspect", "vm1"}, 125, "",
                    "Error: vm1: VM does not exist\n");
    } else {
      machine_state(s.runner(), state);
    }
    auto context = s.context({{"DEVX_VM_NAME", "vm1"}});
    EXPECT_FALSE(vm::resume_for_containers(*context, s.project())) << state;
    EXPECT_TRUE(s.runner().mutations().empty()) << state;
  }
}

TEST(VmAutoResume, TheLinuxHostNeedsNoVm) {
  VmScratch s;
  s.install({"podman"});
  auto context = s.context();
  EXPECT_FALSE(vm::resume_for_containers(*context, s.project()));
  for (const auto& call : s.runner().calls())
    EXPECT_FALSE(call.argv.size() > 1 && call.argv[1] == "machine") << call.argv[1];
}

TEST(VmAutoResume, AFailedStartNamesTheVm) {
  VmScratch s;
  podman_project(s);
  machine_state(s.runner(), "stopped");
  s.runner().on({"podman", "machine", "start", "vm1"}, 125, "", "Error: no space left\n");
  auto context = s.context({{"DEVX_VM_NAME", "vm1"}});
  const Error e = test::expect_error([&] { vm::resume_for_containers(*context, s.project()); },
                                     ErrorCode::command_failed);
  EXPECT_NE(e.message().find("'vm1'"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace devx
