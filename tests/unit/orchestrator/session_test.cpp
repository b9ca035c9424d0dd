// The engine against real host processes: per-edge readiness, failures while starting, restart
// policies, graceful and forced stops, process groups, log rotation, the project lock and stale
// state. No assertion depends on timing: each waits for an outcome (bounded) and checks it.
#include <devx/error.hpp>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <mutex>

#include "orchestrator/run_state.hpp"
#include "test_util.hpp"

namespace devx {
namespace {

using namespace std::chrono_literals;

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

struct Recorder {
  std::mutex mutex;
  std::vector<std::string> states;  // "name state"
  void operator()(const Event& e) {
    if (e.type != EventType::state) return;
    std::lock_guard lock(mutex);
    states.push_back(e.message.substr(0, e.message.find(':')));
  }
  std::ptrdiff_t index(const std::string& entry) {
    std::lock_guard lock(mutex);
    const auto it = std::find(states.begin(), states.end(), entry);
    return it == states.end() ? -1 : it - states.begin();
  }
};

class SessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<Session> session(const std::string& yaml, UpOptions options = {}) {
    context_ = scratch_.context();
    auto s = Session::create(*context_, scratch_.project(yaml), std::move(options));
    s->subscribe([this](const Event& e) { recorder_(e); });
    return s;
  }
  static std::string header() { return "name: t\nservices:\n"; }

  Recorder recorder_;  // first: destroyed last, after anything that could still report to it
  test::Scratch scratch_;
  std::unique_ptr<Context> context_;
};

TEST_F(SessionTest, DependentStartsOnlyAfterItsDependencyIsHealthy) {
  const auto d = scratch_.dir();
  // Each service becomes ready (touches <name>.ready) after a short delay and records, when it
  // starts, whether its dependency was already ready.
  auto svc = [&](const std::string& name, const std::string& dep) {
    std::string cmd = dep.empty() ? ""
                                  : "test -f " + q(d / (dep + ".ready")) + " && touch " +
                                        q(d / (name + ".saw")) + "; ";
    cmd += "sleep 0.2; touch " + q(d / (name + ".ready")) + "; exec sleep 1000";
    std::string y = "  - name: " + name + "\n    command: \"" + cmd +
                    "\"\n"
                    "    healthcheck: {exec: \"test -f " +
                    (d / (name + ".ready")).string() + "\", interval: 100ms}\n";
    if (!dep.empty()) y += "    depends_on: [" + dep + "]\n";
    return y;
  };
  auto s = session(header() + svc("a", "") + svc("b", "a") + svc("c", "b"));
  s->up().result();
  EXPECT_TRUE(std::filesystem::exists(d / "b.saw"));
  EXPECT_TRUE(std::filesystem::exists(d / "c.saw"));
  EXPECT_LT(recorder_.index("a healthy"), recorder_.index("b starting"));
  EXPECT_LT(recorder_.index("b healthy"), recorder_.index("c starting"));
  for (const auto& st : s->status()) EXPECT_EQ(st.state, ServiceState::healthy) << st.name;
  // state.json records every node while up.
  const auto state = context_->state().read(
      "run/" + run_directory(*context_, s->project()).filename().string() + "/state.json");
  ASSERT_TRUE(state);
  EXPECT_NE(state->find("\"name\":\"c\""), std::string::npos);
  s->down().result();
  for (const auto& st : s->status()) EXPECT_EQ(st.state, ServiceState::stopped) << st.name;
}

TEST_F(SessionTest, CompletedSuccessfullyGatesTheDependent) {
  const auto d = scratch_.dir();
  auto s = session(
      header() + "  - name: migrate\n    command: \"sleep 0.1; touch " + (d / "migrated").string() +
      "\"\n"
      "  - name: api\n    command: \"test -f " +
      (d / "migrated").string() + " && touch " + (d / "api.saw").string() +
      "; exec sleep 1000\"\n"
      "    depends_on: [{name: migrate, condition: service_completed_successfully}]\n");
  s->up().result();
  EXPECT_TRUE(test::eventually([&] { return std::filesystem::exists(d / "api.saw"); }));
  EXPECT_EQ(test::find(s->status(), "migrate")->state, ServiceState::completed);
  EXPECT_EQ(*test::find(s->status(), "migrate")->exit_code, 0);
}

TEST_F(SessionTest, CrashWhileStartingFailsWithExitCodeAndLastLines) {
  const auto d = scratch_.dir();
  auto s =
      session(header() +
              "  - name: db\n    command: \"exec sleep 1000\"\n"
              "  - name: api\n    command: \"echo booting; echo 'fatal: no config' >&2; exit 3\"\n"
              "    healthcheck: {tcp: \"127.0.0.1:1\", start_period: 30s}\n"
              "  - name: web\n    command: \"touch " +
              (d / "web.started").string() +
              "; exec sleep 1000\"\n"
              "    depends_on: [api, db]\n");
  try {
    s->up().result();
    FAIL() << "up should fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_failed);
    EXPECT_NE(e.message().find("api"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("exited with status 3"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("fatal: no config"), std::string::npos) << e.message();
    EXPECT_NE(e.details_json().find("\"exit_code\":3"), std::string::npos) << e.details_json();
  }
  EXPECT_FALSE(std::filesystem::exists(d / "web.started"));
  const auto status = s->status();
  EXPECT_EQ(test::find(status, "api")->state, ServiceState::failed);
  EXPECT_EQ(*test::find(status, "api")->exit_code, 3);
  EXPECT_EQ(test::find(status, "db")->state, ServiceState::stopped);  // started ones are stopped
  EXPECT_EQ(recorder_.index("web starting"), -1);
}

TEST_F(SessionTest, CrashAfterHealthyIsRestartedOnFailure) {
  const auto d = scratch_.dir();
  // Healthy at once; crashes (exit 1) on its first two runs, then stays up.
  const std::string counter = (d / "runs").string();
  auto s = session(header() + "  - name: flaky\n    command: \"echo x >> " + counter + "; touch " +
                   (d / "ok").string() + "; sleep 0.3; if [ $(wc -l < " + counter +
                   ") -le 2 ]; then exit 1; fi; exec sleep 1000\"\n"
                   "    healthcheck: {exec: \"test -f " +
                   (d / "ok").string() +
                   "\", interval: 100ms}\n"
                   "    restart: on-failure\n");
  s->up().result();
  EXPECT_TRUE(test::eventually([&] {
    const auto st = *test::find(s->status(), "flaky");
    return st.restarts == 2 && st.state == ServiceState::healthy;
  }));
  EXPECT_EQ(test::read_file(counter), "x\nx\nx\n");
}

TEST_F(SessionTest, NeverHealthyFailsAfterRetries) {
  auto s = session(header() +
                   "  - name: stuck\n    command: \"exec sleep 1000\"\n"
                   "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 50ms, retries: 3}\n");
  try {
    s->up().result();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::timeout);
    EXPECT_NE(e.message().find("never became healthy"), std::string::npos) << e.message();
  }
  EXPECT_EQ(test::find(s->status(), "stuck")->state, ServiceState::failed);
}

TEST_F(SessionTest, ServiceIgnoringSigtermIsKilledAfterGracePeriod) {
  auto s = session(header() +
                   "  - name: stubborn\n    command: \"trap '' TERM; echo ready; while :; do sleep "
                   "0.05; done\"\n"
                   "    healthcheck: {log: \"^ready$\"}\n    stop_grace_period: 300ms\n");
  s->up().result();
  const int pgid = test::find(s->status(), "stubborn")->pid;
  ASSERT_GT(pgid, 0);
  s->down().result();
  EXPECT_TRUE(orchestrator::live_group_members(pgid).empty());
  EXPECT_EQ(*test::find(s->status(), "stubborn")->exit_code, 128 + SIGKILL);
}

TEST_F(SessionTest, DownLeavesNoProcessOfTheGroup) {
  auto s = session(header() + "  - name: forker\n    command: \"sleep 1000 & exec sleep 1000\"\n");
  s->up().result();
  const int pgid = test::find(s->status(), "forker")->pid;
  ASSERT_TRUE(test::eventually([&] { return orchestrator::live_group_members(pgid).size() == 2; }));
  s->down().result();
  EXPECT_TRUE(orchestrator::live_group_members(pgid).empty());
  EXPECT_TRUE(::kill(-pgid, 0) != 0 || orchestrator::live_group_members(pgid).empty());
}

TEST_F(SessionTest, LogFloodIsRotatedWithBoundedFilesAndMemory) {
  // 1 GB of 1 KiB lines; files rotate at 1 MiB (DEVX_LOG_MAX_BYTES) × 3.
  context_ = scratch_.context({{"DEVX_LOG_MAX_BYTES", "1048576"}});
  const std::string line(1023, 'x');
  auto s = Session::create(
      *context_, scratch_.project(header() + "  - name: flood\n    command: \"yes " + line +
                                  " | head -c 1000000000; echo done-flooding; exec sleep 1000\"\n"));
  s->up().result();
  ASSERT_TRUE(test::eventually(
      [&] {
        const auto lines = s->recent_output("flood");
        // head -c cuts the last line: the marker ends it.
        return !lines.empty() && lines.back().ends_with("done-flooding");
      },
      120s));
  const auto logs = run_directory(*context_, s->project()) / "logs";
  std::uintmax_t total = 0;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(logs)) {
    EXPECT_LE(entry.file_size(), 1048576U) << entry.path();
    total += entry.file_size();
    ++files;
  }
  EXPECT_EQ(files, 3);
  EXPECT_LE(total, 3U * 1048576U);
  // Our resident memory stays far below the volume that went through. (Not under sanitizers:
  // ASan's quarantine keeps freed memory resident by design.)
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  const std::string status = test::read_file("/proc/self/status");
  const auto at = status.find("VmHWM:");
  ASSERT_NE(at, std::string::npos);
  const long peak_kb = std::atol(status.c_str() + at + 6);
  EXPECT_LT(peak_kb, 100 * 1024) << "peak RSS " << peak_kb << " kB";
#endif
  s->down().result();
}

TEST_F(SessionTest, SecondSessionOnTheSameProjectFailsWithAlreadyExists) {
  const std::string yaml = header() + "  - name: a\n    command: \"exec sleep 1000\"\n";
  auto first = session(yaml);
  first->up().result();
  auto second = Session::create(*context_, scratch_.project(yaml));
  try {
    second->up().result();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::already_exists);
    EXPECT_NE(e.message().find("pid " + std::to_string(::getpid())), std::string::npos)
        << e.message();
  }
  first->down().result();
  second->up().result();  // free again
  second->down().result();
}

TEST_F(SessionTest, StaleStateIsReconciled) {
  context_ = scratch_.context();
  const Project project = scratch_.project(header() + "  - name: a\n    command: \"true\"\n");
  // A group left behind by a "crashed" owner: started by the test, recorded in state.json.
  CommandSpec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 1000 & exec sleep 1000"};
  spec.output = OutputMode::discard;
  auto child = context_->commands().spawn(spec);
  const int pgid = child->pid();
  ASSERT_TRUE(test::eventually([&] { return orchestrator::live_group_members(pgid).size() == 2; }));
  // A dead owner: a process that has exited and been reaped.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  orchestrator::RunRecord record;
  record.project = "t";
  record.owner_pid = dead;
  record.owner_start_time = 1;
  orchestrator::NodeRecord node;
  node.name = "a";
  node.pid = node.pgid = pgid;
  node.start_time = *orchestrator::process_start_time(pgid);
  record.nodes.push_back(node);
  orchestrator::NodeRecord reused = node;  // a pid whose start time no longer matches
  reused.name = "reused";
  reused.pid = reused.pgid = ::getpid();
  reused.start_time = 1;
  record.nodes.push_back(reused);
  const std::string key =
      "run/" + run_directory(*context_, project).filename().string() + "/state.json";
  context_->state().write(key, orchestrator::to_json(record));

  const ReconcileReport report = reconcile_run_state(*context_, project);
  EXPECT_TRUE(report.stale);
  ASSERT_EQ(report.killed.size(), 1U) << report.to_json();
  EXPECT_NE(report.killed[0].find("a (pgid"), std::string::npos);
  EXPECT_TRUE(orchestrator::live_group_members(pgid).empty());
  EXPECT_FALSE(context_->state().read(key));
  // A live owner (this process) is left alone.
  record.owner_pid = ::getpid();
  record.owner_start_time = *orchestrator::process_start_time(::getpid());
  context_->state().write(key, orchestrator::to_json(record));
  EXPECT_FALSE(reconcile_run_state(*context_, project).stale);
}

TEST_F(SessionTest, BridgeNodeWithoutKubectlFailsWithTheReason) {
  // The bridge runtime itself is exercised end to end in tests/e2e/test_cli_bridge.py (fake
  // kubectl, real agent); here: a node that cannot start reports why, like any other node.
  context_ = scratch_.context({{"PATH", (scratch_.dir() / "empty-bin").string()}});
  auto s = Session::create(*context_,
                           scratch_.project("name: t\nbridge: {namespace: default}\nservices:\n"
                                            "  - name: remote\n    runtime: bridge\n"
                                            "    bridge_target: {service: api, port: 80}\n"),
                           {});
  try {
    s->up().result();
    FAIL() << "up succeeded without kubectl";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("remote"), std::string::npos) << e.message();
  }
  EXPECT_EQ(s->status().at(0).state, ServiceState::failed);
  EXPECT_NE(s->status().at(0).message.find("kubectl"), std::string::npos) << s->status().at(0).message;
}

}  // namespace
}  // namespace devx
