// Session records, liveness reconciliation, the BRIDGE_* formula and the graph's view of bridge
// services — everything that needs no cluster.
#include <devx/bridge.hpp>
#include <devx/orchestrator.hpp>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "bridge/session_store.hpp"
#include "test_util.hpp"

namespace devx {
namespace {

namespace json = boost::json;

// A pid that existed and is gone (a reaped child).
int dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

bridge::SessionRecord connect_record(std::string id, int pid, std::string service, std::string ns,
                                     int port) {
  auto r = bridge::new_session_record(std::move(id), "connect", "standalone", {});
  r.owner_pid = pid;
  if (pid != ::getpid()) r.owner_start_time = 0;
  r.forwards.push_back(
      bridge::ForwardRecord{std::move(service), std::move(ns), 8080, port, "forwarding"});
  return r;
}

TEST(BridgeEnv, OneFormulaForEveryName) {
  EXPECT_EQ(bridge_env_prefix("payments-api", "default", false), "BRIDGE_PAYMENTS_API");
  EXPECT_EQ(bridge_env_prefix("payments-api", "team.a", true), "BRIDGE_PAYMENTS_API_TEAM_A");
  EXPECT_EQ(bridge_env_prefix("a.b/c", "", true), "BRIDGE_A_B_C_DEFAULT");
  EXPECT_EQ(bridge_env_prefix("Ünï", "x", false), "BRIDGE___N__");  // each UTF-8 byte → '_'
}

TEST(BridgeSessions, RecordsRoundTripWithPrivateMode) {
  test::Scratch scratch;
  auto context = scratch.context();
  bridge::SessionStore store(*context);
  auto record = bridge::new_session_record("abcd1234", "intercept", "standalone",
                                           KubeSettings{"/k/config", "staging", "kubectl"});
  bridge::InterceptRecord i;
  i.service = "payments";
  i.namespace_ = "staging";
  i.ports = {{8080, 3000}, {9090, 0}};
  i.agent = "devx-bridge-agent-abcd1234";
  i.original_selector_json = R"({"app":"payments","tier":"backend"})";
  record.intercept = i;
  store.save(record);

  const auto path = context->home() / "bridge" / "abcd1234.json";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const auto loaded = store.load("abcd1234");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->kube.context, "staging");
  EXPECT_EQ(loaded->owner_pid, ::getpid());
  ASSERT_TRUE(loaded->intercept);
  EXPECT_EQ(loaded->intercept->ports.size(), 2u);
  EXPECT_EQ(loaded->intercept->ports[1].local, 0);
  EXPECT_EQ(json::parse(loaded->intercept->original_selector_json),
            json::parse(R"({"app":"payments","tier":"backend"})"));
  EXPECT_TRUE(bridge::SessionStore::owner_alive(*loaded));
}

TEST(BridgeSessions, StatusReconcilesLiveness) {
  test::Scratch scratch;
  auto context = scratch.context();
  bridge::SessionStore store(*context);
  store.save(connect_record("c-live0001", ::getpid(), "payments-api", "default", 40001));
  store.save(connect_record("c-dead0001", dead_pid(), "orders", "default", 40002));
  auto dead_intercept = bridge::new_session_record("dead0002", "intercept", "standalone", {});
  dead_intercept.owner_pid = dead_pid();
  dead_intercept.intercept = bridge::InterceptRecord{
      "users", "default", {{80, 3000}}, "devx-bridge-agent-dead0002", "{}", "active"};
  store.save(dead_intercept);

  const auto doc = json::parse(bridge_status(*context)).as_object();
  EXPECT_TRUE(doc.at("active").as_bool());
  std::map<std::string, std::string> status;
  for (const auto& s : doc.at("sessions").as_array())
    status[std::string(s.at("id").as_string())] = std::string(s.at("status").as_string());
  // A dead connect session is forgotten (nothing of it outlives its process); a dead intercept
  // is kept as stale: it may still hold a Service.
  EXPECT_EQ(status,
            (std::map<std::string, std::string>{{"c-live0001", "live"}, {"dead0002", "stale"}}));
  EXPECT_FALSE(store.load("c-dead0001"));
}

TEST(BridgeSessions, EnvironmentComesFromLiveForwardsOnly) {
  test::Scratch scratch;
  auto context = scratch.context();
  bridge::SessionStore store(*context);
  store.save(connect_record("c-live0001", ::getpid(), "payments-api", "default", 40001));
  store.save(connect_record("c-dead0001", dead_pid(), "orders", "default", 40002));
  const auto env = bridge_environment(*context);
  EXPECT_EQ(env.at("BRIDGE_PAYMENTS_API_URL"), "http://127.0.0.1:40001");
  EXPECT_EQ(env.at("BRIDGE_PAYMENTS_API_HOST"), "127.0.0.1");
  EXPECT_EQ(env.at("BRIDGE_PAYMENTS_API_PORT"), "40001");
  EXPECT_FALSE(env.contains("BRIDGE_ORDERS_URL"));
}

TEST(BridgeSessions, SameServiceFromTwoNamespacesDoesNotCollide) {
  test::Scratch scratch;
  auto context = scratch.context();
  bridge::SessionStore store(*context);
  store.save(connect_record("c-live0001", ::getpid(), "redis", "team-a", 40001));
  store.save(connect_record("c-live0002", ::getpid(), "redis", "team-b", 40002));
  const auto env = bridge_environment(*context);
  EXPECT_EQ(env.at("BRIDGE_REDIS_TEAM_A_PORT"), "40001");
  EXPECT_EQ(env.at("BRIDGE_REDIS_TEAM_B_PORT"), "40002");
  EXPECT_FALSE(env.contains("BRIDGE_REDIS_PORT"));
}

TEST(BridgeSessions, CorruptOrForeignRecordsAreIgnored) {
  test::Scratch scratch;
  auto context = scratch.context();
  context->state().write("bridge/junk.json", "{not json");
  context->state().write("bridge/other.json", R"({"v":99,"id":"other","kind":"connect"})");
  context->state().write("bridge/evil.json", R"({"v":1,"id":"../../etc","kind":"connect"})");
  EXPECT_TRUE(bridge::SessionStore(*context).load_all().empty());
  EXPECT_EQ(json::parse(bridge_status(*context)).at("sessions").as_array().size(), 0u);
}

TEST(BridgeSessions, DisconnectOfADeadConnectSessionForgetsIt) {
  test::Scratch scratch;
  auto context = scratch.context();
  bridge::SessionStore store(*context);
  store.save(connect_record("c-dead0001", dead_pid(), "orders", "default", 40002));
  const auto doc = json::parse(bridge_disconnect(*context, "c-dead0001")).as_object();
  ASSERT_EQ(doc.at("sessions").as_array().size(), 1u);
  EXPECT_FALSE(store.load("c-dead0001"));
  EXPECT_THROW(bridge_disconnect(*context, "c-nothere1"), Error);
}

TEST(BridgeSessions, DisconnectAsksALiveOwnerThroughTheStore) {
  test::Scratch scratch;
  auto context = scratch.context();
  bridge::SessionStore store(*context);
  store.save(connect_record("c-live0001", ::getpid(), "orders", "default", 40002));
  // Play the owner: stop (forget the record) once asked.
  std::jthread owner([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (store.stop_requested("c-live0001")) {
        store.remove("c-live0001");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const auto doc =
      json::parse(bridge_disconnect(*context, "", std::chrono::seconds(20))).as_object();
  EXPECT_EQ(doc.at("sessions").at(0).at("result").as_string(), "stopped");
  EXPECT_FALSE(store.stop_requested("c-live0001"));
}

TEST(BridgePlan, BridgeTargetGetsAPortAndDependentsItsVariables) {
  test::Scratch scratch;
  auto context = scratch.context();
  const auto project = scratch.project(R"(
name: hybrid
bridge:
  namespace: staging
services:
  - name: payments
    runtime: bridge
    bridge_target: {service: payments-api, port: 8080}
  - name: web
    command: "true"
    depends_on: [payments]
)");
  const auto plan = plan_up(*context, project);
  const auto& payments = plan.nodes.at(0);
  ASSERT_EQ(payments.name, "payments");
  ASSERT_TRUE(payments.port);
  EXPECT_GT(*payments.port, 0);
  EXPECT_EQ(payments.bridge,
            "connect staging/payments-api:8080 → 127.0.0.1:" + std::to_string(*payments.port));
  // The exact kubectl command, with the reserved port pinned.
  const std::vector<std::string> want = {"kubectl", "port-forward", "svc/payments-api",
                                         std::to_string(*payments.port) + ":8080"};
  for (const auto& w : want)
    EXPECT_NE(std::find(payments.argv.begin(), payments.argv.end(), w), payments.argv.end()) << w;
  const auto env = dependency_environment(project, "payments", *payments.port);
  EXPECT_EQ(env.at("BRIDGE_PAYMENTS_API_URL"),
            "http://127.0.0.1:" + std::to_string(*payments.port));
  EXPECT_EQ(env.at("PAYMENTS_URL"), "http://127.0.0.1:" + std::to_string(*payments.port));
}

}  // namespace
}  // namespace devx
