// Reading `tailscale status --json` (the shapes tailscale 1.7x prints) and the checks made before
// anything runs in a VM.
#include <devx/mesh.hpp>

#include <gtest/gtest.h>

#include "../vm/vm_test_util.hpp"
#include "mesh/tailscale_cli.hpp"

namespace devx {
namespace {

using test::expect_error;

constexpr const char* kRunning = R"({
  "Version": "1.76.6-t6ab6ae1ef-g2f4c1e9a0",
  "TUN": true,
  "BackendState": "Running",
  "AuthURL": "",
  "TailscaleIPs": ["100.90.199.237", "fd7a:115c:a1e0::230e"],
  "Self": {
    "ID": "n9ac7ec230eCNTRL", "PublicKey": "nodekey:9f8e", "HostName": "devtest",
    "DNSName": "devtest.tail4ab12.ts.net.", "OS": "linux", "UserID": 4242,
    "TailscaleIPs": ["fd7a:115c:a1e0::230e", "100.90.199.237"], "Relay": "fra",
    "Online": true, "ExitNode": false, "Active": false
  },
  "Health": ["some peers are unreachable"],
  "MagicDNSSuffix": "tail4ab12.ts.net",
  "CurrentTailnet": {"Name": "alice@example.com", "MagicDNSSuffix": "tail4ab12.ts.net",
                     "MagicDNSEnabled": true},
  "Peer": {
    "nodekey:b": {"ID": "n2", "HostName": "zeta", "DNSName": "zeta.tail4ab12.ts.net.",
                  "OS": "windows", "TailscaleIPs": ["100.100.1.2"], "Online": false,
                  "ExitNode": true, "Relay": "ams"},
    "nodekey:a": {"ID": "n1", "HostName": "alpha", "DNSName": "alpha.tail4ab12.ts.net.",
                  "OS": "macOS", "TailscaleIPs": ["100.100.1.1"], "Online": true}
  },
  "User": {"4242": {"ID": 4242, "LoginName": "alice@example.com"}}
})";

TEST(TailscaleStatus, ReadsSelfPeersTailnetAndHealth) {
  const auto status = mesh::parse_status(kRunning);
  EXPECT_EQ(status.backend_state, "Running");
  ASSERT_TRUE(status.self);
  EXPECT_EQ(status.self->at("id"), "n9ac7ec230eCNTRL");
  EXPECT_EQ(status.self->at("dns_name"), "devtest.tail4ab12.ts.net");
  EXPECT_TRUE(status.self_online());
  // The IPv4 address is found whatever its position in the list.
  EXPECT_EQ(status.self_ipv4(), "100.90.199.237");
  ASSERT_EQ(status.peers.size(), 2u);
  EXPECT_EQ(status.peers[0].at("hostname"), "alpha");
  EXPECT_EQ(status.peers[1].at("hostname"), "zeta");
  EXPECT_EQ(status.peers[1].at("exit_node"), true);
  EXPECT_EQ(status.peers[1].at("relay"), "ams");
  ASSERT_TRUE(status.tailnet);
  EXPECT_EQ(status.tailnet->at("name"), "alice@example.com");
  EXPECT_EQ(status.health, std::vector<std::string>{"some peers are unreachable"});
}

TEST(TailscaleStatus, LoggedOutDaemonHasNoNodeAndNullLists) {
  const auto status = mesh::parse_status(R"({"BackendState":"NeedsLogin","AuthURL":"",
    "TailscaleIPs":null,"Self":{"ID":"","HostName":"devtest","Online":false,"TailscaleIPs":null},
    "Health":null,"CurrentTailnet":null,"Peer":null,"User":null})");
  EXPECT_EQ(status.backend_state, "NeedsLogin");
  EXPECT_FALSE(status.self);
  EXPECT_FALSE(status.self_online());
  EXPECT_EQ(status.self_ipv4(), "");
  EXPECT_TRUE(status.peers.empty());
  EXPECT_FALSE(status.tailnet);
}

TEST(TailscaleStatus, InteractiveLoginKeepsTheAuthUrl) {
  const auto status = mesh::parse_status(
      R"({"BackendState":"NeedsLogin","AuthURL":"https://login.tailscale.com/a/1f2e3d4c5b6a"})");
  EXPECT_EQ(status.auth_url, "https://login.tailscale.com/a/1f2e3d4c5b6a");
}

TEST(TailscaleStatus, SomethingElseIsRejected) {
  expect_error([] { mesh::parse_status("failed to connect to local tailscaled"); },
               ErrorCode::invalid_argument);
  expect_error([] { mesh::parse_status(R"({"Self":{}})"); }, ErrorCode::invalid_argument);
  expect_error([] { mesh::parse_status(R"([1,2])"); }, ErrorCode::invalid_argument);
}

TEST(TailscaleStatus, OnlyTheCgnatRangeCountsAsATailscaleAddress) {
  EXPECT_TRUE(mesh::is_tailscale_ipv4("100.64.0.1"));
  EXPECT_TRUE(mesh::is_tailscale_ipv4("100.127.255.254"));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("100.128.0.1"));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("100.63.255.255"));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("10.0.0.1"));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("100.64.0"));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("100.64.0.1.5"));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("100.64.0.256"));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("100.64.0.1 "));
  EXPECT_FALSE(mesh::is_tailscale_ipv4("fd7a:115c:a1e0::1"));
}

TEST(MeshCalls, ProvidersWithoutTheDevMachineConfigAreUnsupported) {
  test::VmScratch scratch;
  scratch.install({"docker"});
  auto context = scratch.context();
  VmOptions options;
  options.provider = "docker";
  options.name = "devtest";
  options.platform = "linux";
  const auto error = expect_error([&] { mesh_status(*context, options); }, ErrorCode::unsupported);
  EXPECT_NE(error.hint().find("tailscale on the host"), std::string::npos);
  MeshJoinOptions join;
  join.vm = options;
  join.auth_key = "tskey-auth-x";
  expect_error([&] { start_mesh_join(*context, join).result(); }, ErrorCode::unsupported);
  // Nothing ran: no inspect, no tailscale.
  EXPECT_TRUE(scratch.runner().calls().empty());
}

TEST(MeshCalls, BadOptionsAreRefusedBeforeAnythingRuns) {
  test::VmScratch scratch;
  scratch.install({"podman"});
  auto context = scratch.context();
  MeshJoinOptions join;
  join.vm.provider = "podman";
  join.vm.name = "devtest";
  join.vm.platform = "linux";
  join.hostname = "Not_A_Label";
  expect_error([&] { start_mesh_join(*context, join).result(); }, ErrorCode::invalid_argument);
  join.hostname = "";
  join.timeout = std::chrono::seconds(0);
  expect_error([&] { start_mesh_join(*context, join).result(); }, ErrorCode::invalid_argument);
  EXPECT_TRUE(scratch.runner().calls().empty());
}

}  // namespace
}  // namespace devx
