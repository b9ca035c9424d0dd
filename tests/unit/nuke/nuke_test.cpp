// devx nuke on real project trees (real git), real run state and, when Podman is installed, real
// labelled containers and volumes of two projects (CONTAINERS_CONF of tests/images, the offline
// busybox image of tests/images/build-busybox.sh).
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/nuke.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>

#include <fstream>
#include <random>
#include <set>

#include "core/json.hpp"
#include "core/proc_stat.hpp"
#include "core/process_runner.hpp"
#include "nuke/project_tree.hpp"
#include "orchestrator/plan.hpp"
#include "orchestrator/run_state.hpp"
#include "runtime/container_engine.hpp"

namespace devx {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const std::string kImage = "localhost/devx-test/busybox:latest";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "devx-nuke-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::map<std::string, std::string> test_env() {
  auto env = core::process_environment();
  env["CONTAINERS_CONF"] = std::string(DEVX_SOURCE_DIR) + "/tests/images/containers.conf";
  env["GIT_CONFIG_NOSYSTEM"] = "1";
  return env;
}

CommandResult run(Context& context, std::vector<std::string> argv,
                  std::optional<fs::path> cwd = std::nullopt) {
  CommandSpec spec;
  spec.argv = std::move(argv);
  spec.cwd = std::move(cwd);
  spec.timeout = std::chrono::seconds(120);
  return context.commands().run(spec);
}

void write(const fs::path& path, const std::string& text = "x") {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::set<std::string> paths_in(const json::array& items, std::string_view scope,
                               const fs::path& root) {
  std::set<std::string> out;
  for (const auto& v : items) {
    const auto& o = v.as_object();
    if (o.at("scope").as_string() != scope) continue;
    out.insert(fs::path(std::string(o.at("path").as_string())).lexically_relative(root).string());
  }
  return out;
}

class NukeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_dir_ = tmp_.path() / "shop";
    fs::create_directories(project_dir_);
    name_ =
        "nk" + std::to_string(::getpid()) + "x" + std::to_string(std::random_device{}() % 100000);
    write(project_dir_ / "devx.yaml",
          "name: " + name_ + "\nservices:\n  - name: api\n    command: [\"true\"]\n");
    context_ = make_context(false);
    project_ = load_project_or_throw(project_dir_);
    run_dir_ = home_.path() / "run" / orchestrator::run_key(project_);
  }

  std::unique_ptr<Context> make_context(bool dry_run) {
    ContextOptions options;
    options.devx_home = home_.path();
    options.env = test_env();
    options.dry_run = dry_run;
    return std::make_unique<Context>(options);
  }

  void git(std::vector<std::string> args) {
    std::vector<std::string> argv{"git",         "-c", "user.email=t@example.com", "-c",
                                  "user.name=t", "-C", project_dir_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(*context_, argv);
    ASSERT_TRUE(r.ok()) << r.err;
  }

  // A tree with tracked, untracked, ignored and generated folders, committed in git.
  void make_git_tree() {
    git({"init", "-q"});
    write(project_dir_ / ".gitignore", "out/\n");
    write(project_dir_ / "vendor/lib/lib.go", "package lib\n");  // tracked: committed vendoring
    write(project_dir_ / "build/keep.txt", "tracked\n");         // tracked file in build/
    write(project_dir_ / "build/generated.o", std::string(4096, 'o'));
    write(project_dir_ / "src/app.py", "print(1)\n");
    git({"add", ".gitignore", "devx.yaml", "vendor", "build/keep.txt", "src"});
    git({"commit", "-q", "-m", "init"});
    write(project_dir_ / "node_modules/left-pad/index.js", std::string(1000, 'j'));
    write(project_dir_ / ".venv/pyvenv.cfg", "home = /usr/bin\n");
    write(project_dir_ / ".venv/lib/site.py", std::string(500, 'p'));
    write(project_dir_ / "src/pkg/__pycache__/m.cpython-311.pyc", std::string(200, 'c'));
    write(project_dir_ / "dist/app.tar", "untracked, not ignored");  // could be the user's
    write(project_dir_ / "out/bundle.js", "ignored output");
  }

  json::object plan(const NukeOptions& options) {
    return core::parse_json_object_or_throw(nuke_plan(*context_, options), "plan");
  }

  NukeOptions options(bool artifacts = false) const {
    NukeOptions o;
    o.project_dir = project_dir_;
    o.artifacts = artifacts;
    return o;
  }

  TempDir tmp_;
  TempDir home_;
  fs::path project_dir_;
  std::string name_;
  std::unique_ptr<Context> context_;
  Project project_;
  fs::path run_dir_;
};

TEST_F(NukeTest, ArtifactsAreOnlyWhatGitDoesNotTrack) {
  make_git_tree();
  // A symlink to a tree outside the project is never followed.
  TempDir outside;
  write(outside.path() / "node_modules/x.js");
  fs::create_directory_symlink(outside.path(), project_dir_ / "linked");

  const auto p = plan(options(true));
  EXPECT_THAT(paths_in(p.at("items").as_array(), "artifact", project_dir_),
              (std::set<std::string>{"node_modules", ".venv", "src/pkg/__pycache__", "out"}));
  std::map<std::string, std::string> kept;
  for (const auto& v : p.at("protected").as_array()) {
    kept[fs::path(std::string(v.at("path").as_string())).lexically_relative(project_dir_)] =
        v.at("reason").as_string();
  }
  EXPECT_THAT(kept["vendor"], HasSubstr("tracked by git"));
  EXPECT_THAT(kept["build"], HasSubstr("tracked by git"));
  EXPECT_THAT(kept["dist"], HasSubstr("not ignored"));
  for (const auto& v : p.at("items").as_array()) {
    if (v.at("path").as_string().ends_with("node_modules")) {
      EXPECT_EQ(v.at("size_bytes").as_int64(), 1000);
    }
  }
}

TEST_F(NukeTest, RemovingArtifactsKeepsEverythingGitTracks) {
  make_git_tree();
  auto o = options(true);
  o.assume_yes = true;
  const auto result = core::parse_json_object_or_throw(nuke(*context_, o), "result");
  EXPECT_TRUE(result.at("failed").as_array().empty());
  EXPECT_FALSE(fs::exists(project_dir_ / "node_modules"));
  EXPECT_FALSE(fs::exists(project_dir_ / ".venv"));
  EXPECT_FALSE(fs::exists(project_dir_ / "src/pkg/__pycache__"));
  EXPECT_FALSE(fs::exists(project_dir_ / "out"));
  EXPECT_TRUE(fs::exists(project_dir_ / "vendor/lib/lib.go"));
  EXPECT_TRUE(fs::exists(project_dir_ / "build/keep.txt"));
  EXPECT_TRUE(fs::exists(project_dir_ / "build/generated.o"));
  EXPECT_TRUE(fs::exists(project_dir_ / "dist/app.tar"));
  EXPECT_TRUE(fs::exists(project_dir_ / "src/app.py"));
  EXPECT_GE(result.at("freed_bytes").as_int64(), 1000 + 500 + 200);
}

TEST_F(NukeTest, AnArtifactGitStartedTrackingIsKept) {
  make_git_tree();
  EXPECT_EQ(cleanup::artifact_still_removable(*context_, project_dir_,
                                              project_dir_ / "node_modules", true),
            "");
  git({"add", "-f", "node_modules/left-pad/index.js"});
  EXPECT_EQ(cleanup::artifact_still_removable(*context_, project_dir_,
                                              project_dir_ / "node_modules", true),
            "git now tracks files in it");
  // A folder swapped for a symlink is not followed out of the project.
  TempDir outside;
  fs::remove_all(project_dir_ / "out");
  fs::create_directory_symlink(outside.path(), project_dir_ / "out");
  EXPECT_EQ(cleanup::artifact_still_removable(*context_, project_dir_, project_dir_ / "out", true),
            "it is no longer a directory");
}

TEST_F(NukeTest, WithoutGitOnlyFoldersGeneratedByName) {
  write(project_dir_ / "node_modules/a.js");
  write(project_dir_ / "lib/__pycache__/b.pyc");
  write(project_dir_ / "build/handwritten.c");
  write(project_dir_ / "target/CACHEDIR.TAG",
        "Signature: 8a477f597d28d172789f06886806bc55\n# cargo\n");
  write(project_dir_ / "venv/not-a-virtualenv.txt");
  const auto p = plan(options(true));
  EXPECT_THAT(paths_in(p.at("items").as_array(), "artifact", project_dir_),
              (std::set<std::string>{"node_modules", "lib/__pycache__", "target"}));
  EXPECT_THAT(core::to_json_string(p.at("notes")), HasSubstr("not in a git work tree"));
  EXPECT_THAT(core::to_json_string(p.at("protected")), HasSubstr("build"));
}

TEST_F(NukeTest, DefaultScopeIsTheProjectsRunStateOnly) {
  write(project_dir_ / "node_modules/a.js");
  write(run_dir_ / "logs/api.log", std::string(300, 'l'));
  write(run_dir_ / "state.json", "{}");
  // Another project's run state is not touched.
  const fs::path other = home_.path() / "run" / "other-0123abcd";
  write(other / "logs/x.log");
  const auto p = plan(options());
  const auto& items = p.at("items").as_array();
  std::vector<std::string> dirs;
  for (const auto& v : items) {
    if (v.at("kind").as_string() == "directory") dirs.emplace_back(v.at("path").as_string());
    EXPECT_NE(v.at("scope").as_string(), "artifact");
    EXPECT_NE(v.at("scope").as_string(), "global");
  }
  EXPECT_THAT(dirs, UnorderedElementsAre(run_dir_.string()));
  EXPECT_EQ(p.at("project").as_string(), name_);

  auto o = options();
  o.assume_yes = true;
  nuke(*context_, o);
  EXPECT_FALSE(fs::exists(run_dir_));
  EXPECT_TRUE(fs::exists(other / "logs/x.log"));
  EXPECT_TRUE(fs::exists(project_dir_ / "node_modules/a.js"));
}

TEST_F(NukeTest, DryRunAndMissingConfirmationRemoveNothing) {
  write(run_dir_ / "logs/api.log");
  write(project_dir_ / "node_modules/a.js");
  auto o = options(true);
  try {
    nuke(*context_, o);
    FAIL() << "expected prompt_required";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::prompt_required);
    const auto details = core::parse_json_object_or_throw(e.details_json(), "details");
    EXPECT_THAT(std::string(details.at("confirm").as_string()), HasSubstr(name_));
    EXPECT_EQ(details.at("plan").at("items").as_array().size(), 2u);
  }
  auto dry = make_context(true);
  o.assume_yes = true;
  const auto p = core::parse_json_object_or_throw(nuke(*dry, o), "plan");
  EXPECT_EQ(p.at("items").as_array().size(), 2u);
  EXPECT_TRUE(fs::exists(run_dir_ / "logs/api.log"));
  EXPECT_TRUE(fs::exists(project_dir_ / "node_modules/a.js"));
}

TEST_F(NukeTest, RefusesWhileTheProjectsSupervisorLives) {
  write(run_dir_ / "logs/api.log");
  orchestrator::RunRecord record;
  record.project = name_;
  record.run_key = orchestrator::run_key(project_);
  record.owner_pid = ::getpid();
  record.owner_start_time = core::process_start_time(::getpid()).value_or(0);
  write(run_dir_ / "state.json", orchestrator::to_json(record));
  auto o = options();
  o.assume_yes = true;
  try {
    nuke(*context_, o);
    FAIL() << "expected conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_THAT(e.hint(), HasSubstr("devx down"));
  }
  EXPECT_TRUE(fs::exists(run_dir_ / "logs/api.log"));

  // A dead owner (pid reused: another start time) does not block.
  record.owner_start_time += 1;
  write(run_dir_ / "state.json", orchestrator::to_json(record));
  {
    // …but a held run lock does: a session is starting.
    auto lock = orchestrator::acquire_run_lock(run_dir_, name_);
    EXPECT_THROW(
        {
          try {
            nuke_plan(*context_, o);
          } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::conflict);
            throw;
          }
        },
        Error);
  }
  EXPECT_NO_THROW(nuke(*context_, o));
  EXPECT_FALSE(fs::exists(run_dir_));
}

TEST_F(NukeTest, GlobalCachesOnlyWhenAsked) {
  TempDir shims;
  const fs::path modcache = tmp_.path() / "gopath/pkg/mod";
  const fs::path gocache = tmp_.path() / "gocache";
  write(modcache / "example.com/m@v1.0.0/m.go", std::string(100, 'g'));
  write(gocache / "00/abc-d", std::string(50, 'b'));
  write(home_.path() / "cache/images/x", "cached");
  // The module cache is read-only, as Go makes it.
  fs::permissions(modcache / "example.com/m@v1.0.0", fs::perms(0555));
  write(shims.path() / "go", "#!/bin/sh\n[ \"$*\" = 'env GOMODCACHE GOCACHE' ] || exit 2\necho '" +
                                 modcache.string() + "'\necho '" + gocache.string() + "'\n");
  fs::permissions(shims.path() / "go", fs::perms(0755));
  auto env = test_env();
  env["PATH"] = shims.path().string() + ":" + env["PATH"];
  ContextOptions co;
  co.devx_home = home_.path();
  co.env = env;
  Context context(co);

  auto o = options();
  auto p = core::parse_json_object_or_throw(nuke_plan(context, o), "plan");
  EXPECT_TRUE(paths_in(p.at("items").as_array(), "global", fs::path("/")).empty());
  o.global_caches = true;
  p = core::parse_json_object_or_throw(nuke_plan(context, o), "plan");
  std::set<std::string> global;
  for (const auto& v : p.at("items").as_array()) {
    if (v.at("scope").as_string() == "global") global.emplace(v.at("path").as_string());
  }
  EXPECT_THAT(global, UnorderedElementsAre(modcache.string(), gocache.string(),
                                           (home_.path() / "cache").string()));
  o.assume_yes = true;
  nuke(context, o);
  EXPECT_FALSE(fs::exists(modcache));
  EXPECT_FALSE(fs::exists(gocache));
  EXPECT_FALSE(fs::exists(home_.path() / "cache"));
}

TEST_F(NukeTest, ACacheSettingCoveringHomeIsProtected) {
  TempDir shims;
  const fs::path user_home = tmp_.path() / "home/alice";
  write(user_home / "notes.txt", "precious");
  // GOMODCACHE=$HOME (a misconfiguration) must not turn into "remove the home directory".
  write(shims.path() / "go",
        "#!/bin/sh\necho '" + user_home.string() + "'\necho '" + tmp_.path().string() + "'\n");
  fs::permissions(shims.path() / "go", fs::perms(0755));
  auto env = test_env();
  env["PATH"] = shims.path().string() + ":" + env["PATH"];
  env["HOME"] = user_home.string();
  ContextOptions co;
  co.devx_home = home_.path();
  co.env = env;
  Context context(co);
  auto o = options();
  o.global_caches = true;
  const auto p = core::parse_json_object_or_throw(nuke_plan(context, o), "plan");
  for (const auto& v : p.at("items").as_array()) EXPECT_NE(v.at("scope").as_string(), "global");
  const std::string kept = core::to_json_string(p.at("protected"));
  EXPECT_THAT(kept, HasSubstr(user_home.string()));
  // GOCACHE pointing at a directory that holds the project is kept too.
  EXPECT_THAT(kept, HasSubstr("\"" + tmp_.path().string() + "\""));
  o.assume_yes = true;
  nuke(context, o);
  EXPECT_TRUE(fs::exists(user_home / "notes.txt"));
  EXPECT_TRUE(fs::exists(project_dir_ / "devx.yaml"));
}

TEST_F(NukeTest, NoProjectIsConfigNotFound) {
  TempDir empty;
  NukeOptions o;
  o.project_dir = empty.path();
  try {
    nuke_plan(*context_, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::config_not_found);
  }
}

// --- real Podman ------------------------------------------------------------------------------

// Fails `rm -f` of containers: removal failures must be reported, never swallowed.
class FailingRmRunner final : public CommandRunner {
 public:
  explicit FailingRmRunner(std::shared_ptr<CommandRunner> inner) : inner_(std::move(inner)) {}
  CommandResult run(const CommandSpec& spec) override {
    if (spec.argv.size() >= 3 && spec.argv[1] == "rm" && spec.argv[2] == "-f") {
      CommandResult r;
      r.exit_code = 125;
      r.err = "Error: cannot remove container: device or resource busy\n";
      return r;
    }
    return inner_->run(spec);
  }
  std::unique_ptr<ChildProcess> spawn(const CommandSpec& spec) override {
    return inner_->spawn(spec);
  }

 private:
  std::shared_ptr<CommandRunner> inner_;
};

class NukePodmanTest : public NukeTest {
 protected:
  static void SetUpTestSuite() {
    const auto env = test_env();
    if (!runtime::ContainerEngine::detect(env, "podman")) {
      skip_reason_ = "podman is not installed";
      return;
    }
    ContextOptions options;
    options.env = env;
    TempDir home;
    options.devx_home = home.path();
    Context context(options);
    const auto built =
        run(context, {std::string(DEVX_SOURCE_DIR) + "/tests/images/build-busybox.sh"});
    if (!built.ok()) skip_reason_ = "the test image could not be built: " + built.err;
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    NukeTest::SetUp();
    other_ = name_ + "-other";
    key_ = orchestrator::run_key(project_);
  }

  void TearDown() override {
    if (!skip_reason_.empty()) return;
    // A context of its own: a test may have given context_ a runner that fails `rm`.
    const auto context = make_context(false);
    for (const auto& project : {name_, other_}) {
      const std::string filter = "label=devx.project=" + project;
      const auto ids = run(*context, {"podman", "ps", "-aq", "--filter", filter});
      for (const auto& id : split(ids.out)) run(*context, {"podman", "rm", "-f", id});
      const auto vols = run(*context, {"podman", "volume", "ls", "-q", "--filter", filter});
      for (const auto& v : split(vols.out)) run(*context, {"podman", "volume", "rm", "-f", v});
    }
  }

  static std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(line);
    }
    return out;
  }

  void container(const std::string& name, const std::string& project, const std::string& key) {
    const auto r = run(*context_, {"podman", "run", "-d", "--stop-timeout", "1", "--name", name,
                                   "--label", "devx.project=" + project, "--label",
                                   "devx.run=" + key, kImage, "sleep", "300"});
    ASSERT_TRUE(r.ok()) << r.err;
  }
  void volume(const std::string& name, const std::string& project, const std::string& key) {
    const auto r = run(*context_, {"podman", "volume", "create", "--label",
                                   "devx.project=" + project, "--label", "devx.run=" + key, name});
    ASSERT_TRUE(r.ok()) << r.err;
  }
  bool exists(const std::string& what, const std::string& name) {
    if (what == "volume") return run(*context_, {"podman", "volume", "exists", name}).ok();
    return run(*context_, {"podman", "container", "exists", name}).ok();
  }

  static inline std::string skip_reason_;
  std::string other_;
  std::string key_;
};

TEST_F(NukePodmanTest, RemovesOnlyThisProjectsContainersAndVolumes) {
  container(name_ + "-api", name_, key_);
  volume(name_ + "-data", name_, key_);
  container(other_ + "-api", other_, other_ + "-0123abcd");
  volume(other_ + "-data", other_, other_ + "-0123abcd");
  // Same project name, another checkout (another run key): not ours either.
  container(name_ + "-elsewhere", name_, name_ + "-feedf00d");

  const auto p = plan(options());
  EXPECT_EQ(p.at("engine").as_string(), "podman");
  std::set<std::string> planned;
  for (const auto& v : p.at("items").as_array()) {
    if (v.as_object().contains("name")) planned.emplace(v.at("name").as_string());
  }
  EXPECT_EQ(planned, (std::set<std::string>{name_ + "-api", name_ + "-data"}));
  EXPECT_THAT(core::to_json_string(p.at("protected")), HasSubstr(name_ + "-elsewhere"));

  auto o = options();
  o.assume_yes = true;
  const auto result = core::parse_json_object_or_throw(nuke(*context_, o), "result");
  EXPECT_EQ(result.at("removed").as_array().size(), 2u);
  EXPECT_FALSE(exists("container", name_ + "-api"));
  EXPECT_FALSE(exists("volume", name_ + "-data"));
  EXPECT_TRUE(exists("container", other_ + "-api"));
  EXPECT_TRUE(exists("volume", other_ + "-data"));
  EXPECT_TRUE(exists("container", name_ + "-elsewhere"));
}

TEST_F(NukePodmanTest, DryRunAndNoConfirmationLeaveContainersAlone) {
  container(name_ + "-api", name_, key_);
  auto o = options();
  EXPECT_THROW(nuke(*context_, o), Error);
  o.assume_yes = true;
  auto dry = make_context(true);
  nuke(*dry, o);
  EXPECT_TRUE(exists("container", name_ + "-api"));
}

TEST_F(NukePodmanTest, AFailedRemovalIsReportedNotSwallowed) {
  container(name_ + "-api", name_, key_);
  write(run_dir_ / "logs/api.log");
  context_->set_command_runner(
      std::make_shared<FailingRmRunner>(core::make_system_command_runner(test_env())));
  auto o = options();
  o.assume_yes = true;
  try {
    nuke(*context_, o);
    FAIL() << "expected command_failed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_failed);
    const auto details = core::parse_json_object_or_throw(e.details_json(), "details");
    ASSERT_EQ(details.at("failed").as_array().size(), 1u);
    EXPECT_THAT(std::string(details.at("failed").as_array()[0].at("error").as_string()),
                HasSubstr("device or resource busy"));
    // The rest still went.
    EXPECT_EQ(details.at("removed").as_array().size(), 1u);
  }
  EXPECT_TRUE(exists("container", name_ + "-api"));
  EXPECT_FALSE(fs::exists(run_dir_));
}

}  // namespace
}  // namespace devx
