// Provider resolution (option → DEVX_HOME/config.yaml → devx.yaml → the resolved VM's record →
// detection) and the one VM name resolver.
#include <devx/vm.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "vm/resolve.hpp"
#include "vm/vm_record.hpp"
#include "vm_test_util.hpp"

namespace devx {
namespace {

using test::expect_error;
using test::VmScratch;

VmOptions linux_options(const VmScratch& s) {
  VmOptions o;
  o.platform = "linux";
  o.project_dir = s.project();
  return o;
}

TEST(VmResolve, OptionWinsOverEverything) {
  VmScratch s;
  s.install({"podman", "limactl"});
  s.write(s.devx_home() / "config.yaml", "provider: podman\n");
  s.write(s.project() / "devx.yaml", "name: p\nprovider: colima\n");
  auto context = s.context();
  auto o = linux_options(s);
  o.provider = "lima";
  const auto t = resolve_vm(*context, o);
  EXPECT_EQ(t.provider, "lima");
  EXPECT_EQ(t.provider_source, "option");
  EXPECT_EQ(t.runtime, "podman");
}

TEST(VmResolve, UserConfigComesBeforeTheProject) {
  VmScratch s;
  s.install({"podman", "colima"});
  s.write(s.devx_home() / "config.yaml", "provider: podman\nother: kept\n");
  s.write(s.project() / "devx.yaml", "name: p\nprovider: colima\n");
  auto context = s.context();
  const auto t = resolve_vm(*context, linux_options(s));
  EXPECT_EQ(t.provider, "podman");
  EXPECT_EQ(t.provider_source, "user-config");
}

TEST(VmResolve, ProjectProviderIsFoundWalkingUp) {
  VmScratch s;
  s.install({"colima", "podman"});
  s.write(s.project() / "devx.yaml", "name: p\nprovider: colima\n");
  std::filesystem::create_directories(s.project() / "src" / "deep");
  auto context = s.context();
  auto o = linux_options(s);
  o.project_dir = s.project() / "src" / "deep";
  const auto t = resolve_vm(*context, o);
  EXPECT_EQ(t.provider, "colima");
  EXPECT_EQ(t.provider_source, "project");
  EXPECT_EQ(t.runtime, "docker");
}

TEST(VmResolve, AutoInUserConfigFallsThrough) {
  VmScratch s;
  s.install({"limactl"});
  s.write(s.devx_home() / "config.yaml", "provider: auto\n");
  auto context = s.context();
  s.runner().on({(s.dir() / "bin" / "limactl").string(), "--version"}, 0,
                "limactl version 1.0.3\n");
  const auto t = resolve_vm(*context, linux_options(s));
  EXPECT_EQ(t.provider, "lima");
  EXPECT_EQ(t.provider_source, "detected");
}

TEST(VmResolve, UnknownProviderInUserConfigIsAConfigError) {
  VmScratch s;
  s.install({"podman"});
  s.write(s.devx_home() / "config.yaml", "provider: virtualbox\n");
  auto context = s.context();
  const auto e =
      expect_error([&] { resolve_vm(*context, linux_options(s)); }, ErrorCode::config_invalid);
  EXPECT_NE(e.message().find("virtualbox"), std::string::npos);
}

TEST(VmResolve, ExplicitProviderWithoutItsBinaryNamesIt) {
  VmScratch s;
  auto context = s.context();
  auto o = linux_options(s);
  o.provider = "lima";
  const auto e = expect_error([&] { resolve_vm(*context, o); }, ErrorCode::command_not_found);
  EXPECT_NE(e.message().find("limactl"), std::string::npos);
  EXPECT_NE(e.hint().find("lima"), std::string::npos);
  o.platform = "darwin";
  const auto mac = expect_error([&] { resolve_vm(*context, o); }, ErrorCode::command_not_found);
  EXPECT_NE(mac.hint().find("brew install lima"), std::string::npos);
}

TEST(VmResolve, UnknownProviderOptionIsInvalid) {
  VmScratch s;
  auto context = s.context();
  auto o = linux_options(s);
  o.provider = "vbox";
  expect_error([&] { resolve_vm(*context, o); }, ErrorCode::invalid_argument);
}

TEST(VmResolve, OnLinuxTheHostWinsWhenAnEngineIsInstalled) {
  VmScratch s;
  s.install({"podman", "limactl", "colima"});
  for (const auto* b : {"podman", "limactl", "colima"})
    s.runner().on({(s.dir() / "bin" / b).string(), "--version"}, 0, std::string(b) + " 1.0\n");
  auto context = s.context();
  const auto t = resolve_vm(*context, linux_options(s));
  EXPECT_EQ(t.provider, "host");
  EXPECT_EQ(t.runtime, "podman");
}

TEST(VmResolve, SeveralCandidatesNeedAChoice) {
  VmScratch s;
  s.install({"limactl", "colima"});
  for (const auto* b : {"limactl", "colima"})
    s.runner().on({(s.dir() / "bin" / b).string(), "--version"}, 0, std::string(b) + " 1.0\n");
  auto context = s.context();
  const auto e =
      expect_error([&] { resolve_vm(*context, linux_options(s)); }, ErrorCode::prompt_required);
  const auto details = test::parse(e.details_json());
  EXPECT_EQ(details.at("candidates"), boost::json::parse(R"(["lima","colima"])"));
  EXPECT_NE(e.message().find("--provider"), std::string::npos);
}

TEST(VmResolve, OrbStackCountsOnceOnMac) {
  VmScratch s;
  s.install({"orb", "docker"});
  for (const auto* b : {"orb", "docker"})
    s.runner().on({(s.dir() / "bin" / b).string(), "--version"}, 0, std::string(b) + " 1.0\n");
  auto context = s.context();
  auto o = linux_options(s);
  o.platform = "darwin";
  const auto t = resolve_vm(*context, o);
  EXPECT_EQ(t.provider, "orbstack");
  const auto detected = test::parse(detect_vm_providers(*context, "darwin"));
  for (const auto& p : detected.at("providers").as_array()) {
    if (p.at("name") == "docker") {
      EXPECT_FALSE(p.at("available").as_bool());
      EXPECT_NE(std::string(p.at("note").as_string()).find("OrbStack"), std::string::npos);
    }
  }
}

TEST(VmResolve, NothingInstalledGivesInstallHints) {
  VmScratch s;
  auto context = s.context();
  const auto e =
      expect_error([&] { resolve_vm(*context, linux_options(s)); }, ErrorCode::command_not_found);
  EXPECT_NE(e.hint().find("apt-get install podman"), std::string::npos);
  auto o = linux_options(s);
  o.platform = "darwin";
  const auto mac = expect_error([&] { resolve_vm(*context, o); }, ErrorCode::command_not_found);
  EXPECT_NE(mac.hint().find("brew install podman"), std::string::npos);
}

TEST(VmResolve, ABinaryWhoseVersionFailsIsNotACandidate) {
  VmScratch s;
  s.install({"limactl", "colima"});
  s.runner().on({(s.dir() / "bin" / "limactl").string()}, 1, "", "broken");
  s.runner().on({(s.dir() / "bin" / "colima").string(), "--version"}, 0, "colima version 0.6\n");
  auto context = s.context();
  EXPECT_EQ(resolve_vm(*context, linux_options(s)).provider, "colima");
}

TEST(VmResolve, HostIsLinuxOnlyAndOrbStackMacOnly) {
  VmScratch s;
  s.install({"podman", "orb"});
  auto context = s.context();
  auto o = linux_options(s);
  o.provider = "orbstack";
  expect_error([&] { resolve_vm(*context, o); }, ErrorCode::unsupported);
  o.provider = "host";
  o.platform = "darwin";
  expect_error([&] { resolve_vm(*context, o); }, ErrorCode::unsupported);
}

TEST(VmNames, OptionThenEnvThenRecordedThenDefault) {
  VmScratch s;
  s.install({"podman"});
  auto o = linux_options(s);
  o.provider = "podman";
  {
    auto context = s.context({{"DEVX_VM_NAME", "from-env"}});
    o.name = "from-option";
    auto t = resolve_vm(*context, o);
    EXPECT_EQ(t.name, "from-option");
    EXPECT_EQ(t.name_source, "option");
    o.name.clear();
    t = resolve_vm(*context, o);
    EXPECT_EQ(t.name, "from-env");
    EXPECT_EQ(t.name_source, "env");
  }
  auto context = s.context();
  EXPECT_EQ(resolve_vm(*context, o).name, "alice-dev-machine");
  EXPECT_EQ(resolve_vm(*context, o).name_source, "default");
  context->state().write("vm/current", "recorded-vm\n");
  EXPECT_EQ(resolve_vm(*context, o).name, "recorded-vm");
  EXPECT_EQ(resolve_vm(*context, o).name_source, "recorded");
}

TEST(VmResolve, TheRecordedVmKeepsItsProviderOverDetection) {
  VmScratch s;
  s.install({"podman"});
  auto context = s.context();
  s.runner().on({(s.dir() / "bin" / "podman").string(), "--version"}, 0, "podman version 4.3.1\n");
  auto o = linux_options(s);
  EXPECT_EQ(resolve_vm(*context, o).provider, "host");  // nothing recorded: detection
  vm::save_record(*context,
                  boost::json::object{{"v", 1}, {"name", "made"}, {"provider", "podman"}});
  vm::set_current(*context, "made");
  auto t = resolve_vm(*context, o);
  EXPECT_EQ(t.name, "made");
  EXPECT_EQ(t.provider, "podman");
  EXPECT_EQ(t.provider_source, "recorded");
  // Another VM by name has no record: detection again; an explicit source still wins.
  o.name = "other";
  EXPECT_EQ(resolve_vm(*context, o).provider_source, "detected");
  o.name.clear();
  s.write(s.project() / "devx.yaml", "name: p\nprovider: host\n");
  EXPECT_EQ(resolve_vm(*context, o).provider_source, "project");
}

TEST(VmNames, TheUserBecomesADnsLabel) {
  VmScratch s;
  const auto name = [&](std::string user) {
    auto context = s.context({{"USER", std::move(user)}});
    return vm::default_vm_name(*context);
  };
  EXPECT_EQ(name("Alice.Smith"), "alice-smith-dev-machine");
  EXPECT_EQ(name("__"), "developer-dev-machine");
  EXPECT_EQ(name(""), "developer-dev-machine");
  EXPECT_EQ(name("-Bob_"), "bob-dev-machine");
  const auto longest = name(std::string(100, 'x'));
  EXPECT_EQ(longest.size(), 63u);
  EXPECT_NO_THROW(vm::validate_vm_name(longest, "test"));
}

TEST(VmNames, InvalidNamesAreRejected) {
  VmScratch s;
  s.install({"podman"});
  auto o = linux_options(s);
  o.provider = "podman";
  auto context = s.context();
  for (const auto* bad : {"Upper", "has space", "-lead", "trail-", "a/b", "x.y"}) {
    o.name = bad;
    expect_error([&] { resolve_vm(*context, o); }, ErrorCode::invalid_argument);
  }
  o.name = std::string(64, 'a');
  expect_error([&] { resolve_vm(*context, o); }, ErrorCode::invalid_argument);
  o.name.clear();
  auto bad_env = s.context({{"DEVX_VM_NAME", "Bad_Name"}});
  expect_error([&] { resolve_vm(*bad_env, o); }, ErrorCode::invalid_argument);
}

TEST(VmDefaultProvider, SavingKeepsOtherKeysAndIsWorldReadable) {
  VmScratch s;
  s.write(s.devx_home() / "config.yaml", "telemetry: false\nprovider: lima\n");
  auto context = s.context();
  save_default_provider(*context, "podman");
  const auto text = *context->state().read("config.yaml");
  EXPECT_NE(text.find("telemetry: false"), std::string::npos);
  EXPECT_NE(text.find("provider: podman"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat((s.devx_home() / "config.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  expect_error([&] { save_default_provider(*context, "vbox"); }, ErrorCode::invalid_argument);
  // A dry run writes nothing.
  auto dry = s.context({}, true);
  save_default_provider(*dry, "colima");
  EXPECT_NE(context->state().read("config.yaml")->find("provider: podman"), std::string::npos);
}

TEST(VmDefaultProvider, AnUnreadableFileIsNotOverwritten) {
  VmScratch s;
  s.write(s.devx_home() / "config.yaml", "provider: [unclosed\n");
  auto context = s.context();
  expect_error([&] { save_default_provider(*context, "podman"); }, ErrorCode::config_invalid);
  EXPECT_EQ(*context->state().read("config.yaml"), "provider: [unclosed\n");
}

}  // namespace
}  // namespace devx
