// Control socket placement and the client's view of a project nobody runs.
#include <devx/supervisor.hpp>

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "../orchestrator/test_util.hpp"
#include "core/json.hpp"
#include "supervisor/control_socket.hpp"

namespace devx {
namespace {

TEST(ControlSocket, LivesInTheRunDirectoryUnlessThePathIsTooLong) {
  EXPECT_EQ(supervisor::socket_path_for("/home/u/.devx/run/p-1234abcd", "p-1234abcd"),
            "/home/u/.devx/run/p-1234abcd/control.sock");
  const std::string deep = "/tmp/" + std::string(120, 'x') + "/run/p-1234abcd";
  const auto fallback = supervisor::socket_path_for(deep, "p-1234abcd");
  EXPECT_EQ(fallback.parent_path(), "/tmp/devx-" + std::to_string(::getuid()));
  EXPECT_EQ(fallback.filename(), "p-1234abcd.sock");
  EXPECT_LE(fallback.string().size(), supervisor::kMaxSocketPath);
}

TEST(ControlSocket, LinesRoundTripAndErrorsComeBackTyped) {
  test::Scratch scratch;
  const auto path = scratch.path("s.sock");
  auto listener = supervisor::listen_unix(path);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto client = supervisor::connect_unix(path);
  ASSERT_TRUE(client);
  core::UniqueFd server(::accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(server);
  EXPECT_TRUE(supervisor::send_line(client.get(), "{\"v\":1}"));
  supervisor::LineReader reader(server.get());
  EXPECT_EQ(reader.next(std::chrono::milliseconds(1000)).value_or(""), "{\"v\":1}");
  EXPECT_FALSE(reader.next(std::chrono::milliseconds(10)));
  EXPECT_TRUE(reader.timed_out());

  const Error original(ErrorCode::already_exists, "busy", "run devx down", "{\"holder_pid\":7}");
  const Error back = supervisor::error_from_json(core::parse_json_or_null(original.to_json()));
  EXPECT_EQ(back.code(), ErrorCode::already_exists);
  EXPECT_EQ(back.message(), "busy");
  EXPECT_EQ(back.hint(), "run devx down");
  EXPECT_NE(back.details_json().find("holder_pid"), std::string::npos);
}

TEST(RunClient, NotRunningWithoutSupervisor) {
  test::Scratch scratch;
  scratch.write("devx.yaml", "name: idle\nservices:\n  - name: a\n    command: [\"true\"]\n");
  auto context = scratch.context();
  auto loaded = load_project(scratch.path("devx.yaml"));
  ASSERT_TRUE(loaded.ok());
  auto client = connect_run(*context, *loaded.project);
  EXPECT_FALSE(client.running());
  EXPECT_FALSE(client.connected());
  EXPECT_NE(client.status_json().find("\"running\":false"), std::string::npos);
  EXPECT_NO_THROW(client.down());
  EXPECT_THROW(client.restart("a"), Error);
}

}  // namespace
}  // namespace devx
