#include <devx/error.hpp>
#include <devx/state.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "test_dir.hpp"

namespace devx {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class core_state_store : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path root = dir.path() / "home";
  std::shared_ptr<StateStore> store = make_file_state_store(root);
};

TEST_F(core_state_store, write_then_read_and_overwrite) {
  EXPECT_EQ(store->root(), root);
  EXPECT_FALSE(store->read("run/shop.json").has_value());
  store->write("run/shop.json", R"({"v":1})");
  EXPECT_EQ(store->read("run/shop.json"), R"({"v":1})");
  store->write("run/shop.json", "second");
  EXPECT_EQ(store->read("run/shop.json"), "second");
  store->write("empty", "");
  EXPECT_EQ(store->read("empty"), "");
}

TEST_F(core_state_store, binary_content_round_trips) {
  const std::string content("a\0b\xff", 4);
  store->write("blob.bin", content);
  EXPECT_EQ(store->read("blob.bin"), content);
}

TEST_F(core_state_store, directories_are_private_and_files_have_the_requested_mode) {
  const mode_t old_umask = ::umask(0);
  store->write("secrets/token", "s3cret", FileAccess::private_);
  store->write("public/info", "hello", FileAccess::shared);
  ::umask(077);
  store->write("public/strict-umask", "hello", FileAccess::shared);
  ::umask(old_umask);
  EXPECT_EQ(mode_of(root / "secrets/token"), 0600U);
  EXPECT_EQ(mode_of(root / "public/info"), 0644U);
  EXPECT_EQ(mode_of(root / "public/strict-umask"), 0644U);
  EXPECT_EQ(mode_of(root), 0700U);
  EXPECT_EQ(mode_of(root / "secrets"), 0700U);
}

TEST_F(core_state_store, rewriting_a_shared_file_as_private_changes_its_mode) {
  store->write("k", "1", FileAccess::shared);
  store->write("k", "2", FileAccess::private_);
  EXPECT_EQ(mode_of(root / "k"), 0600U);
}

TEST_F(core_state_store, list_returns_sorted_keys_directly_below_a_dir) {
  store->write("run/b.json", "b");
  store->write("run/a.json", "a");
  store->write("run/sub/c.json", "c");
  store->write("top", "t");
  EXPECT_THAT(store->list("run"), ElementsAre("run/a.json", "run/b.json"));
  EXPECT_THAT(store->list("run/"), ElementsAre("run/a.json", "run/b.json"));
  EXPECT_THAT(store->list(""), ElementsAre("top"));
  EXPECT_TRUE(store->list("missing").empty());
}

TEST_F(core_state_store, list_ignores_leftover_temporary_files) {
  store->write("run/a.json", "a");
  std::ofstream(root / "run" / ".devx-tmp-a.json-crashed") << "partial";
  EXPECT_THAT(store->list("run"), ElementsAre("run/a.json"));
}

TEST_F(core_state_store, remove_reports_whether_the_key_existed) {
  store->write("x", "1");
  EXPECT_TRUE(store->remove("x"));
  EXPECT_FALSE(store->remove("x"));
  EXPECT_FALSE(store->read("x").has_value());
}

TEST_F(core_state_store, invalid_keys_are_rejected) {
  const std::vector<std::string> bad = {
      "",    "../x",   "a/../../x", "/abs",    std::string("a\0b", 3), "a//b", "a/",
      "./a", "sp ace", "a/..",      "ünïcode", "back\\slash"};
  for (const std::string& key : bad) {
    try {
      store->write(key, "x");
      ADD_FAILURE() << "accepted key '" << key << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << key;
    }
    EXPECT_THROW(store->read(key), Error) << key;
  }
  EXPECT_THROW(store->lock("../escape", milliseconds(0)), Error);
  EXPECT_THROW(store->list("../"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "x"));
}

TEST_F(core_state_store, lock_is_exclusive_across_processes) {
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(60);
    try {
      StateLock held = store->lock("project", milliseconds(0));
      char c = 'r';
      if (::write(ready[1], &c, 1) != 1) ::_exit(2);
      if (::read(release[0], &c, 1) != 1) ::_exit(3);
    } catch (...) {
      ::_exit(4);
    }
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  try {
    store->lock("project", milliseconds(50));
    ADD_FAILURE() << "lock was not exclusive";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::locked);
    EXPECT_FALSE(e.hint().empty());
    EXPECT_NE(e.message().find(std::to_string(child)), std::string::npos) << e.message();
  }
  // A different name is independent.
  EXPECT_TRUE(store->lock("other", milliseconds(0)).held());
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Released by the holder's exit: now we get it.
  EXPECT_TRUE(store->lock("project", milliseconds(0)).held());
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

TEST_F(core_state_store, lock_waits_for_a_holder_that_releases) {
  std::optional<StateLock> held(store->lock("l", milliseconds(0)));
  std::jthread releaser([&] {
    std::this_thread::sleep_for(milliseconds(50));
    held.reset();
  });
  EXPECT_TRUE(store->lock("l", milliseconds(60000)).held());
}

TEST_F(core_state_store, lock_objects_move_and_release) {
  StateLock a = store->lock("m", milliseconds(0));
  StateLock b = std::move(a);
  EXPECT_FALSE(a.held());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b.held());
  EXPECT_THROW(store->lock("m", milliseconds(0)), Error);
  b = StateLock();
  EXPECT_TRUE(store->lock("m", milliseconds(0)).held());
}

TEST_F(core_state_store, update_reads_modifies_and_deletes) {
  auto increment = [](std::optional<std::string> current) -> std::optional<std::string> {
    return std::to_string(current ? std::stoi(*current) + 1 : 1);
  };
  store->update("counter", increment);
  store->update("counter", increment, FileAccess::private_);
  EXPECT_EQ(store->read("counter"), "2");
  EXPECT_EQ(mode_of(root / "counter"), 0600U);
  store->update("counter", [](std::optional<std::string>) { return std::nullopt; });
  EXPECT_FALSE(store->read("counter").has_value());
}

TEST_F(core_state_store, concurrent_updates_from_threads_do_not_lose_writes) {
  auto increment = [](std::optional<std::string> current) -> std::optional<std::string> {
    return std::to_string(current ? std::stoi(*current) + 1 : 1);
  };
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 25; ++i) store->update("n", increment);
      });
    }
  }
  EXPECT_EQ(store->read("n"), "100");
}

TEST_F(core_state_store, update_propagates_errors_and_keeps_the_old_content) {
  store->write("k", "old");
  EXPECT_THROW(store->update("k",
                             [](std::optional<std::string>) -> std::optional<std::string> {
                               throw Error(ErrorCode::invalid_argument, "no");
                             }),
               Error);
  EXPECT_EQ(store->read("k"), "old");
  EXPECT_TRUE(store->lock("k", milliseconds(0)).held());  // the lock was released
}

}  // namespace
}  // namespace devx
