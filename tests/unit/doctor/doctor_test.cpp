// devx doctor against a PATH of shim scripts that print what the real tools print (and record the
// argv they were given), with real process execution through the Context's CommandRunner.
#include <devx/context.hpp>
#include <devx/doctor.hpp>
#include <devx/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "doctor/host_probe.hpp"

namespace devx {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class Scratch {
 public:
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "devx-doctor-XXXXXX").string();
    root_ = ::mkdtemp(pattern.data());
    fs::create_directories(bin());
    fs::create_directories(home());
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  fs::path bin() const { return root_ / "bin"; }
  fs::path home() const { return root_ / "home"; }
  fs::path log() const { return root_ / "argv.log"; }
  const fs::path& root() const { return root_; }

  // A tool that appends "<name> <args>" to argv.log, then runs `body` (sh).
  void tool(const std::string& name, const std::string& body) const {
    const fs::path path = bin() / name;
    std::ofstream out(path);
    out << "#!/bin/sh\necho \"" << name << " $*\" >> '" << log().string() << "'\n" << body << "\n";
    out.close();
    fs::permissions(path, fs::perms(0755));
  }
  // A tool that prints `text` and exits 0.
  void prints(const std::string& name, const std::string& text) const {
    tool(name, "/bin/cat <<'EOF'\n" + text + "\nEOF");
  }
  void write(const fs::path& relative, const std::string& text) const {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }
  std::string calls() const {
    std::ifstream in(log());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  fs::path root_;
};

const char* kKubectlJson = R"({
  "clientVersion": {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.2",
    "gitCommit": "39683505b630ff2121012f3c5b16215a1449d5ed",
    "gitTreeState": "clean",
    "buildDate": "2024-06-11T20:29:44Z",
    "goVersion": "go1.22.4",
    "compiler": "gc",
    "platform": "linux/amd64"
  },
  "kustomizeVersion": "v5.0.4-0.20230601165947-6ce0bf390ce3"
})";

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_.prints("apt-get", "apt 2.6.1 (amd64)\nSupported modules:");
    scratch_.prints("podman", "podman version 4.9.3");
    // Like kubectl ≥ 1.28: --short is an unknown flag; only the JSON form answers.
    scratch_.tool("kubectl",
                  "if [ \"$*\" = \"version --client -o json\" ]; then /bin/cat <<'EOF'\n" +
                      std::string(kKubectlJson) +
                      "\nEOF\nelse echo 'error: unknown flag: --short' >&2; exit 1; fi");
    scratch_.prints("cloudflared", "cloudflared version 2024.6.1 (built 2024-06-12-1234 UTC)");
    scratch_.tool("gh",
                  "case \"$1\" in\n"
                  "  auth) echo 'You are not logged into any GitHub hosts. To log in, run: gh auth "
                  "login' >&2; exit 1;;\n"
                  "  *) printf 'gh version 2.50.0 (2024-05-29)\\n"
                  "https://github.com/cli/cli/releases/tag/v2.50.0\\n';;\n"
                  "esac");
    scratch_.prints("git", "git version 2.39.5");
  }

  std::map<std::string, std::string> env() const {
    return {{"PATH", scratch_.bin().string()}, {"HOME", scratch_.home().string()}};
  }

  std::unique_ptr<Context> context(std::map<std::string, std::string> extra = {},
                                   bool dry_run = false) const {
    auto e = env();
    for (auto& [k, v] : extra) e[k] = v;
    ContextOptions options;
    options.devx_home = scratch_.root() / "devx-home";
    options.env = std::move(e);
    options.dry_run = dry_run;
    return std::make_unique<Context>(options);
  }

  DoctorOptions options(std::vector<std::string> areas) const {
    DoctorOptions o;
    o.platform = "linux";
    o.areas = std::move(areas);
    o.env_file = scratch_.root() / "no.env";
    o.as_root = false;
    return o;
  }

  static json::object report(Context& context, const DoctorOptions& options) {
    return core::parse_json_object_or_throw(doctor_report(context, options), "report");
  }

  static const json::object& area(const json::object& report, std::string_view name) {
    for (const auto& a : report.at("areas").as_array()) {
      if (a.as_object().at("name").as_string() == name) return a.as_object();
    }
    throw std::runtime_error("no area " + std::string(name));
  }

  static const json::object& tool(const json::object& report, std::string_view name) {
    for (const auto& a : report.at("areas").as_array()) {
      for (const auto& t : a.as_object().at("tools").as_array()) {
        if (t.as_object().at("name").as_string() == name) return t.as_object();
      }
    }
    throw std::runtime_error("no tool " + std::string(name));
  }

  static const json::object& credential(const json::object& report, std::string_view name) {
    for (const auto& a : report.at("areas").as_array()) {
      for (const auto& c : a.as_object().at("credentials").as_array()) {
        if (c.as_object().at("name").as_string() == name) return c.as_object();
      }
    }
    throw std::runtime_error("no credential " + std::string(name));
  }

  static std::vector<std::string> strings(const json::value& v) {
    std::vector<std::string> out;
    for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
    return out;
  }

  Scratch scratch_;
};

TEST_F(DoctorTest, ReportsVersionsParsedFromRealToolOutput) {
  auto ctx = context();
  const auto r = report(*ctx, options({"vm", "tunnel", "bridge", "ci"}));
  EXPECT_EQ(tool(r, "podman").at("version").as_string(), "4.9.3");
  EXPECT_EQ(tool(r, "podman").at("path").as_string(), (scratch_.bin() / "podman").string());
  EXPECT_EQ(tool(r, "kubectl").at("version").as_string(), "1.30.2");
  EXPECT_EQ(tool(r, "cloudflared").at("version").as_string(), "2024.6.1");
  EXPECT_EQ(tool(r, "gh").at("version").as_string(), "2.50.0");
  EXPECT_EQ(tool(r, "git").at("version").as_string(), "2.39.5");
  EXPECT_EQ(r.at("system").at("package_manager").as_string(), "apt");
  EXPECT_EQ(r.at("system").at("package_manager_version").as_string(), "2.6.1");
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_TRUE(area(r, "vm").at("ready").as_bool());
  // kubectl got four argv elements, not "version --client --short" as one.
  EXPECT_THAT(scratch_.calls(), HasSubstr("kubectl version --client -o json\n"));
  EXPECT_THAT(scratch_.calls(), Not(HasSubstr("--short")));
}

TEST_F(DoctorTest, MissingRequiredToolMakesTheReportNotOk) {
  fs::remove(scratch_.bin() / "cloudflared");
  auto ctx = context();
  const auto r = report(*ctx, options({"tunnel", "bridge"}));
  EXPECT_FALSE(r.at("ok").as_bool());
  EXPECT_THAT(strings(r.at("missing_required")), ElementsAre("cloudflared"));
  EXPECT_FALSE(area(r, "tunnel").at("ready").as_bool());
  EXPECT_TRUE(area(r, "bridge").at("ready").as_bool());
  const auto& install = tool(r, "cloudflared").at("install").as_object();
  EXPECT_EQ(install.at("manager").as_string(), "apt");
  EXPECT_TRUE(install.at("argv").as_array().empty());
  EXPECT_THAT(std::string(install.at("note").as_string()), HasSubstr("pkg.cloudflare.com"));
}

TEST_F(DoctorTest, OneContainerEngineSatisfiesTheVmArea) {
  fs::remove(scratch_.bin() / "podman");
  scratch_.prints("docker", "Docker version 28.2.2, build e6534b4");
  auto ctx = context();
  auto r = report(*ctx, options({"vm"}));
  EXPECT_TRUE(r.at("ok").as_bool());
  EXPECT_EQ(tool(r, "docker").at("version").as_string(), "28.2.2");
  EXPECT_THAT(strings(tool(r, "podman").at("alternatives")),
              ElementsAre("docker", "lima", "colima"));

  fs::remove(scratch_.bin() / "docker");
  r = report(*ctx, options({"vm"}));
  EXPECT_FALSE(r.at("ok").as_bool());
  // One unmet requirement, named by the preferred engine.
  EXPECT_THAT(strings(r.at("missing_required")), ElementsAre("podman"));
}

TEST_F(DoctorTest, HangingToolIsReportedInsteadOfHangingDoctor) {
  scratch_.tool("podman", "exec /bin/sleep 600");
  auto ctx = context();
  auto o = options({"vm"});
  o.probe_timeout = std::chrono::milliseconds(300);
  const auto r = report(*ctx, o);
  const auto& podman = tool(r, "podman");
  EXPECT_TRUE(podman.at("installed").as_bool());
  EXPECT_EQ(podman.at("version").as_string(), "");
  EXPECT_THAT(std::string(podman.at("problem").as_string()), HasSubstr("no answer"));
}

TEST_F(DoctorTest, AptPlanUsesSudoOnlyWhenNotRoot) {
  fs::remove(scratch_.bin() / "podman");
  fs::remove(scratch_.bin() / "gh");
  fs::remove(scratch_.bin() / "cloudflared");
  fs::remove(scratch_.bin() / "kubectl");
  auto ctx = context();
  DoctorInstallOptions install;
  install.doctor = options({"vm", "tunnel", "bridge", "ci"});
  auto plan = core::parse_json_object_or_throw(doctor_install_plan(*ctx, install), "plan");
  EXPECT_EQ(plan.at("package_manager").as_string(), "apt");
  const auto& steps = plan.at("steps").as_array();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_THAT(strings(steps[0].at("argv")), ElementsAre("sudo", "apt-get", "update"));
  EXPECT_THAT(strings(steps[1].at("argv")),
              ElementsAre("sudo", "apt-get", "install", "-y", "podman", "gh"));
  EXPECT_TRUE(steps[1].at("required").as_bool());
  // Not in Debian: listed with the vendor's instructions, never silently dropped.
  std::vector<std::string> unavailable;
  for (const auto& u : plan.at("unavailable").as_array()) {
    unavailable.emplace_back(u.at("tool").as_string());
    EXPECT_FALSE(u.at("how_to_install").as_string().empty());
  }
  EXPECT_THAT(unavailable, ElementsAre("cloudflared", "kubectl"));

  install.doctor.as_root = true;
  plan = core::parse_json_object_or_throw(doctor_install_plan(*ctx, install), "plan");
  EXPECT_THAT(strings(plan.at("steps").as_array()[1].at("argv")),
              ElementsAre("apt-get", "install", "-y", "podman", "gh"));
  EXPECT_THAT(strings(plan.at("steps").as_array()[0].at("argv")), ElementsAre("apt-get", "update"));
}

TEST_F(DoctorTest, AllAddsOptionalToolsAndSharedPackagesOnce) {
  fs::remove(scratch_.bin() / "apt-get");
  scratch_.prints("pacman", " .--.                  Pacman v6.0.2 - libalpm v13.0.2");
  auto ctx = context();
  DoctorInstallOptions install;
  install.doctor = options({"databases"});
  install.doctor.as_root = true;
  auto plan = core::parse_json_object_or_throw(doctor_install_plan(*ctx, install), "plan");
  EXPECT_TRUE(plan.at("steps").as_array().empty());  // nothing there is required
  install.all = true;
  plan = core::parse_json_object_or_throw(doctor_install_plan(*ctx, install), "plan");
  ASSERT_EQ(plan.at("steps").as_array().size(), 1u);
  // psql and pg_ctl both come from postgresql, redis-cli and redis-server from redis.
  EXPECT_THAT(strings(plan.at("steps").as_array()[0].at("argv")),
              ElementsAre("pacman", "-S", "--needed", "--noconfirm", "postgresql", "redis"));
}

TEST_F(DoctorTest, BrewPlanAddsTapsAndCasksAndNeverSudo) {
  scratch_.prints("brew", "Homebrew 4.3.5");
  fs::remove(scratch_.bin() / "podman");
  auto ctx = context();
  DoctorInstallOptions install;
  install.doctor = options({"vm", "sync", "secrets"});
  install.doctor.platform = "darwin";
  install.doctor.as_root = false;
  install.all = true;
  const auto plan = core::parse_json_object_or_throw(doctor_install_plan(*ctx, install), "plan");
  EXPECT_EQ(plan.at("package_manager").as_string(), "brew");
  const auto& steps = plan.at("steps").as_array();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_THAT(strings(steps[0].at("argv")), ElementsAre("brew", "tap", "mutagen-io/mutagen"));
  EXPECT_THAT(
      strings(steps[1].at("argv")),
      ElementsAre("brew", "install", "podman", "bitwarden-cli", "mutagen-io/mutagen/mutagen"));
  EXPECT_THAT(strings(steps[2].at("argv")),
              ElementsAre("brew", "install", "--cask", "1password-cli", "google-cloud-sdk"));
  EXPECT_TRUE(plan.at("unavailable").as_array().empty());
}

TEST_F(DoctorTest, DnfPlanUsesFedoraNames) {
  fs::remove(scratch_.bin() / "apt-get");
  scratch_.prints("dnf", "4.18.0\n  Installed: dnf-0:4.18.0-1.fc39.noarch");
  fs::remove(scratch_.bin() / "podman");
  fs::remove(scratch_.bin() / "kubectl");
  fs::remove(scratch_.bin() / "cloudflared");
  auto ctx = context();
  DoctorInstallOptions install;
  install.doctor = options({"vm", "bridge", "tunnel"});
  const auto plan = core::parse_json_object_or_throw(doctor_install_plan(*ctx, install), "plan");
  EXPECT_EQ(plan.at("package_manager").as_string(), "dnf");
  ASSERT_EQ(plan.at("steps").as_array().size(), 1u);
  EXPECT_THAT(strings(plan.at("steps").as_array()[0].at("argv")),
              ElementsAre("sudo", "dnf", "install", "-y", "podman", "kubernetes-client"));
  ASSERT_EQ(plan.at("unavailable").as_array().size(), 1u);
  EXPECT_EQ(plan.at("unavailable").as_array()[0].at("tool").as_string(), "cloudflared");
}

TEST_F(DoctorTest, InstallNeedsConfirmationAndDryRunExecutesNothing) {
  fs::remove(scratch_.bin() / "podman");
  DoctorInstallOptions install;
  install.doctor = options({"vm"});
  install.doctor.as_root = true;
  {
    auto ctx = context();
    try {
      start_doctor_install(*ctx, install);
      FAIL() << "expected prompt_required";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::prompt_required);
      const auto details = core::parse_json_object_or_throw(e.details_json(), "details");
      EXPECT_THAT(std::string(details.at("confirm").as_string()), HasSubstr("podman"));
      EXPECT_EQ(details.at("plan").at("steps").as_array().size(), 2u);
    }
  }
  {
    auto ctx = context({}, /*dry_run=*/true);
    install.assume_yes = true;
    const auto result =
        core::parse_json_object_or_throw(start_doctor_install(*ctx, install).result(), "result");
    EXPECT_EQ(result.at("steps").as_array().size(), 2u);
  }
  EXPECT_THAT(scratch_.calls(), Not(HasSubstr("apt-get install")));
  EXPECT_THAT(scratch_.calls(), Not(HasSubstr("apt-get update")));
}

TEST_F(DoctorTest, InstallRunsEveryStepStreamsOutputAndFailsAtTheEnd) {
  scratch_.tool("apt-get",
                "case \"$1\" in\n"
                "  --version) echo 'apt 2.6.1 (amd64)';;\n"
                "  update) echo 'Reading package lists...';;\n"
                "  install) echo 'E: Unable to locate package podman' >&2; exit 100;;\n"
                "esac");
  fs::remove(scratch_.bin() / "podman");
  auto ctx = context();
  DoctorInstallOptions install;
  install.doctor = options({"vm"});
  install.doctor.as_root = true;
  install.assume_yes = true;
  Operation op = start_doctor_install(*ctx, install);
  std::vector<std::string> lines;
  op.on_event([&](const Event& e) {
    if (e.type == EventType::log) lines.push_back(e.message);
  });
  try {
    op.result();
    FAIL() << "expected command_failed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_failed);
    EXPECT_THAT(e.message(), HasSubstr("1 of 2"));
    const auto details = core::parse_json_object_or_throw(e.details_json(), "details");
    const auto& steps = details.at("steps").as_array();
    EXPECT_EQ(steps[0].at("status").as_string(), "ok");
    EXPECT_EQ(steps[1].at("status").as_string(), "failed");
    EXPECT_EQ(steps[1].at("error").as_string(), "exited with status 100");
  }
  EXPECT_THAT(lines, ::testing::Contains("Reading package lists..."));
  EXPECT_THAT(lines, ::testing::Contains("E: Unable to locate package podman"));
  EXPECT_THAT(scratch_.calls(), HasSubstr("apt-get update\napt-get install -y podman\n"));
}

TEST_F(DoctorTest, CloudflareTokenFromEnvironmentOrDotenvIsNeverPrinted) {
  const std::string secret = "cf-Secret-Value-123";
  {
    auto ctx = context({{"CLOUDFLARE_API_TOKEN", secret}});
    const std::string text = doctor_report(*ctx, options({"tunnel"}));
    EXPECT_THAT(text, Not(HasSubstr(secret)));
    const auto r = core::parse_json_object_or_throw(text, "report");
    EXPECT_TRUE(credential(r, "Cloudflare API token").at("configured").as_bool());
    EXPECT_THAT(std::string(credential(r, "Cloudflare API token").at("detail").as_string()),
                HasSubstr("environment (CLOUDFLARE_API_TOKEN)"));
  }
  scratch_.write("project/.env",
                 "# tokens\nexport CF_API_TOKEN=\"" + secret + "\"  # scoped to DNS\nOTHER='x'\n");
  auto ctx = context();
  auto o = options({"tunnel"});
  o.env_file = scratch_.root() / "project/.env";
  const std::string text = doctor_report(*ctx, o);
  EXPECT_THAT(text, Not(HasSubstr(secret)));
  const auto r = core::parse_json_object_or_throw(text, "report");
  const auto& token = credential(r, "Cloudflare API token");
  EXPECT_TRUE(token.at("configured").as_bool());
  EXPECT_THAT(std::string(token.at("detail").as_string()), HasSubstr("(CF_API_TOKEN)"));

  scratch_.write("project/.env", "OTHER=1\n");
  const auto missing = report(*ctx, o);
  EXPECT_FALSE(credential(missing, "Cloudflare API token").at("configured").as_bool());
  EXPECT_FALSE(credential(missing, "Cloudflare API token").at("how_to_fix").as_string().empty());
}

TEST_F(DoctorTest, LoginStateOfCloudflaredGithubTailscaleAndKubeconfig) {
  scratch_.write("home/.cloudflared/cert.pem", "-----BEGIN PRIVATE KEY-----\n");
  scratch_.write("home/.kube/config",
                 "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\ncontexts: []\n");
  scratch_.tool("gh",
                "case \"$1\" in\n"
                "  auth) printf 'github.com\\n  ✓ Logged in to github.com account octocat "
                "(keyring)\\n  - Token: gho_************************************\\n';;\n"
                "  *) echo 'gh version 2.50.0 (2024-05-29)';;\n"
                "esac");
  scratch_.tool("tailscale",
                "case \"$1\" in\n"
                "  status) echo '{\"Version\":\"1.66.4\",\"BackendState\":\"NeedsLogin\"}';;\n"
                "  *) printf '1.66.4\\n  tailscale commit: abc\\n';;\n"
                "esac");
  auto ctx = context();
  const auto r = report(*ctx, options({"tunnel", "ci", "mesh", "bridge"}));
  EXPECT_TRUE(credential(r, "cloudflared login").at("configured").as_bool());
  EXPECT_TRUE(credential(r, "GitHub CLI authentication").at("configured").as_bool());
  EXPECT_EQ(credential(r, "GitHub CLI authentication").at("detail").as_string(),
            "logged in as octocat");
  EXPECT_FALSE(credential(r, "Tailscale").at("configured").as_bool());
  EXPECT_THAT(std::string(credential(r, "Tailscale").at("detail").as_string()),
              HasSubstr("NeedsLogin"));
  EXPECT_EQ(tool(r, "tailscale").at("version").as_string(), "1.66.4");
  EXPECT_TRUE(credential(r, "kubeconfig").at("configured").as_bool());
  EXPECT_THAT(std::string(credential(r, "kubeconfig").at("detail").as_string()),
              HasSubstr("'kind-dev'"));
  EXPECT_THAT(scratch_.calls(), HasSubstr("tailscale status --json\n"));
  EXPECT_THAT(scratch_.calls(), HasSubstr("gh auth status\n"));
}

TEST_F(DoctorTest, IgnitionAreaSaysButaneIsNotNeeded) {
  auto ctx = context();
  const auto r = report(*ctx, options({"ignition"}));
  EXPECT_THAT(std::string(area(r, "ignition").at("note").as_string()),
              HasSubstr("butane is not needed"));
  EXPECT_FALSE(tool(r, "ignition-validate").at("required").as_bool());
  EXPECT_TRUE(r.at("ok").as_bool());
}

TEST_F(DoctorTest, BadAreaOrPlatformIsAnInvalidArgument) {
  auto ctx = context();
  try {
    doctor_report(*ctx, options({"vm", "teleport"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.hint(), HasSubstr("tunnel"));
  }
  auto o = options({});
  o.platform = "windows";
  EXPECT_THROW(doctor_report(*ctx, o), Error);
}

TEST_F(DoctorTest, NoPackageManagerIsAClearError) {
  fs::remove(scratch_.bin() / "apt-get");
  fs::remove(scratch_.bin() / "podman");
  auto ctx = context();
  DoctorInstallOptions install;
  install.doctor = options({"vm"});
  try {
    doctor_install_plan(*ctx, install);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
  }
  install.doctor.platform = "darwin";
  try {
    doctor_install_plan(*ctx, install);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_not_found);
    EXPECT_THAT(e.hint(), HasSubstr("brew.sh"));
  }
}

TEST(DoctorVersionParse, FirstVersionOfEachToolsRealOutput) {
  using doctor::parse_version;
  using doctor::VersionFormat;
  const auto v = [](std::string_view text) {
    return parse_version(text, VersionFormat::first_version);
  };
  EXPECT_EQ(v("Docker version 28.2.2, build e6534b4"), "28.2.2");
  EXPECT_EQ(v("psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"), "15.18");
  EXPECT_EQ(v("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64"), "7.0.15");
  EXPECT_EQ(v("go version go1.26.8 linux/amd64"), "1.26.8");
  EXPECT_EQ(v("Version: 1.2.0 (1020000)\nCommit: 5f8c0b0"), "1.2.0");
  EXPECT_EQ(v("Google Cloud SDK 528.0.0\nalpha 2025.06.20"), "528.0.0");
  EXPECT_EQ(v("Ignition Debian 2.14.0+ds1-1+b6"), "2.14.0");
  EXPECT_EQ(v(" .--.                  Pacman v6.0.2 - libalpm v13.0.2"), "6.0.2");
  EXPECT_EQ(v("no digits here, 42 alone"), "");
  EXPECT_EQ(parse_version(kKubectlJson, VersionFormat::kubectl_json), "1.30.2");
}

}  // namespace
}  // namespace devx
