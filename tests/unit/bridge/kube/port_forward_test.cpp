#include <devx/error.hpp>

#include <gtest/gtest.h>

#include <mutex>

#include "bridge/kube/port_forward.hpp"
#include "fake_cluster.hpp"

namespace devx::bridge::kube {
namespace {

using std::chrono::milliseconds;

TEST(PortForwardArgv, KubectlChoosesThePortUnlessPinned) {
  using V = std::vector<std::string>;
  EXPECT_EQ(port_forward_argv(KubeSettings{}, PortForwardOptions{"svc/payments", "shop", 80, 0}),
            (V{"kubectl", "port-forward", "svc/payments", ":80", "-n", "shop", "--address",
               "127.0.0.1"}));
  EXPECT_EQ(port_forward_argv(KubeSettings{"/k", "c", "kubectl"},
                              PortForwardOptions{"pod/agent", "shop", 4200, 9000}),
            (V{"kubectl", "--kubeconfig", "/k", "--context", "c", "port-forward", "pod/agent",
               "9000:4200", "-n", "shop", "--address", "127.0.0.1"}));
  EXPECT_EQ(parse_forwarding_line("Forwarding from 127.0.0.1:41234 -> 80"), 41234);
  EXPECT_EQ(parse_forwarding_line("Forwarding from [::1]:41234 -> 80"), 0);
  EXPECT_EQ(parse_forwarding_line("Handling connection for 41234"), 0);
}

// Collects every status the supervisor publishes.
struct Recorder {
  std::mutex mutex;
  std::vector<PortForwardStatus> seen;
  void operator()(const PortForwardStatus& s) {
    std::lock_guard lock(mutex);
    seen.push_back(s);
  }
  int count(PortForwardState state) {
    std::lock_guard lock(mutex);
    return static_cast<int>(
        std::count_if(seen.begin(), seen.end(), [&](const auto& s) { return s.state == state; }));
  }
};

class PortForwardOnFake : public ::testing::Test {
 protected:
  PortForwardOnFake() : server_("hello\n") {
    cluster_.write(
        "shop/service/payments.json",
        R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"payments","namespace":"shop"},
                   "spec":{"selector":{"app":"p"},"ports":[{"port":80,"targetPort":8080}]}})");
    cluster_.write("_forward/shop/payments.json",
                   R"({"80": "127.0.0.1:)" + std::to_string(server_.port()) + R"("})");
  }
  std::unique_ptr<PortForward> forward(int local_port, Recorder& recorder) {
    PortForwardOptions options{"svc/payments", "shop", 80, local_port};
    options.backoff = {milliseconds(20), milliseconds(100), milliseconds(30000)};
    return std::make_unique<PortForward>(cluster_.context(), cluster_.settings(), options,
                                         [&recorder](const PortForwardStatus& s) { recorder(s); });
  }

  test::FakeCluster cluster_;
  test::EchoServer server_;
};

TEST_F(PortForwardOnFake, ReadsTheChosenPortAndRelays) {
  Recorder recorder;
  auto pf = forward(0, recorder);
  pf->start();
  const int port = pf->wait_forwarding(std::chrono::seconds(30));
  EXPECT_GT(port, 0);
  EXPECT_EQ(test::exchange(port, "ping\n", 11), "hello\nping\n");
  EXPECT_EQ(pf->status().state, PortForwardState::forwarding);
  pf->stop();
  EXPECT_EQ(pf->status().state, PortForwardState::stopped);
  EXPECT_NE(cluster_.calls().find(
                R"("port-forward", "svc/payments", ":80", "-n", "shop", "--address", "127.0.0.1")"),
            std::string::npos)
      << cluster_.calls();
}

TEST_F(PortForwardOnFake, RestartsAfterACleanExitOnTheSamePort) {
  cluster_.config(R"({"port_forward": {"exit_after": 0.3, "exit_code": 0}})");
  Recorder recorder;
  auto pf = forward(0, recorder);
  pf->start();
  const int first = pf->wait_forwarding(std::chrono::seconds(30));
  ASSERT_TRUE(test::eventually([&] { return recorder.count(PortForwardState::forwarding) >= 3; }));
  EXPECT_GE(recorder.count(PortForwardState::backoff), 2);
  EXPECT_EQ(pf->wait_forwarding(std::chrono::seconds(30)), first);  // clients keep their address
  pf->stop();
}

TEST_F(PortForwardOnFake, FailuresAreRetriedUntilItWorks) {
  cluster_.config(R"({"port_forward": {"fail_first": 2}})");
  Recorder recorder;
  auto pf = forward(0, recorder);
  pf->start();
  const int port = pf->wait_forwarding(std::chrono::seconds(30));
  EXPECT_EQ(test::exchange(port, "", 6), "hello\n");
  EXPECT_EQ(pf->status().attempt, 3);
  EXPECT_EQ(recorder.count(PortForwardState::backoff), 2);
  {
    std::lock_guard lock(recorder.mutex);
    const auto backoff =
        std::find_if(recorder.seen.begin(), recorder.seen.end(),
                     [](const auto& s) { return s.state == PortForwardState::backoff; });
    ASSERT_NE(backoff, recorder.seen.end());
    EXPECT_NE(backoff->message.find("unable to upgrade connection"), std::string::npos)
        << backoff->message;
  }
  pf->stop();
}

TEST_F(PortForwardOnFake, PinnedBusyPortFailsWithoutSwitching) {
  Recorder first_recorder;
  auto holder = forward(0, first_recorder);
  holder->start();
  const int busy = holder->wait_forwarding(std::chrono::seconds(30));

  Recorder recorder;
  auto pf = forward(busy, recorder);
  pf->start();
  try {
    pf->wait_forwarding(std::chrono::seconds(30));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::port_in_use) << e.message();
  }
  EXPECT_EQ(pf->status().state, PortForwardState::failed);
  EXPECT_EQ(pf->status().attempt, 1);
  EXPECT_EQ(recorder.count(PortForwardState::forwarding), 0);
  holder->stop();
}

TEST_F(PortForwardOnFake, StopWhileBackingOffEndsPromptly) {
  cluster_.config(R"({"port_forward": {"fail_first": 1000}})");
  Recorder recorder;
  PortForwardOptions options{"svc/payments", "shop", 80, 0};
  options.backoff = {milliseconds(60000), milliseconds(60000), milliseconds(60000)};
  options.random01 = [] { return 0.99; };
  PortForward pf(cluster_.context(), cluster_.settings(), options,
                 [&recorder](const PortForwardStatus& s) { recorder(s); });
  pf.start();
  ASSERT_TRUE(test::eventually([&] { return pf.status().state == PortForwardState::backoff; }));
  EXPECT_GT(pf.status().retry_in.count(), 50000);
  pf.stop();
  EXPECT_EQ(pf.status().state, PortForwardState::stopped);
  EXPECT_THROW(pf.wait_forwarding(milliseconds(10)), Error);
}

}  // namespace
}  // namespace devx::bridge::kube
