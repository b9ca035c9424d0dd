// The system command runner, against real processes.
#include <devx/error.hpp>
#include <devx/process.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <cerrno>
#include <latch>
#include <mutex>
#include <sstream>
#include <thread>

namespace devx {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Orphaned grandchildren (e.g. `sleep 100 &` of a killed shell) are re-parented to this test
// process instead of PID 1, so the tests can reap them and then observe that a group is empty
// even when PID 1 of the container does not reap zombies.
const bool kSubreaper = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;

// True once no process of group `pgid` exists any more (reaping zombies re-parented to us).
// Bounded only as a safety net so a regression fails instead of hanging.
bool wait_group_gone(pid_t pgid) {
  for (int i = 0; i < 3000; ++i) {
    siginfo_t info{};
    while (::waitid(P_PGID, static_cast<id_t>(pgid), &info, WEXITED | WNOHANG) == 0 &&
           info.si_pid != 0) {
      info = {};
    }
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

CommandSpec sh(std::string script) {
  CommandSpec spec;
  spec.argv = {"sh", "-c", std::move(script)};
  return spec;
}

class core_command_runner : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(kSubreaper); }
  std::shared_ptr<CommandRunner> runner = make_system_command_runner();
};

TEST_F(core_command_runner, reports_exit_codes) {
  CommandResult ok = runner->run(sh("exit 0"));
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_GT(ok.pid, 0);
  CommandResult three = runner->run(sh("exit 3"));
  EXPECT_FALSE(three.ok());
  EXPECT_EQ(three.exit_code, 3);
  EXPECT_EQ(three.signal, 0);
}

TEST_F(core_command_runner, reports_the_signal_that_ended_the_process) {
  const CommandResult r = runner->run(sh("kill -KILL $$"));
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.cancelled);
}

TEST_F(core_command_runner, captures_stdout_and_stderr_separately) {
  const CommandResult r = runner->run(sh("echo out; echo err >&2; printf tail"));
  EXPECT_EQ(r.out, "out\ntail");
  EXPECT_EQ(r.err, "err\n");
}

TEST_F(core_command_runner, streams_lines_including_a_final_partial_line) {
  CommandSpec spec = sh("printf 'a\\nb\\n\\nc'; printf 'x\\ny' >&2");
  spec.output = OutputMode::stream;
  std::vector<std::string> out;
  std::vector<std::string> err;
  spec.on_line = [&](std::string_view line, bool from_stderr) {
    (from_stderr ? err : out).emplace_back(line);
  };
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(out, ElementsAre("a", "b", "", "c"));
  EXPECT_THAT(err, ElementsAre("x", "y"));
  EXPECT_TRUE(r.out.empty());
}

TEST_F(core_command_runner, streams_long_output_without_losing_lines) {
  CommandSpec spec = sh("i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done");
  spec.output = OutputMode::stream;
  int count = 0;
  bool in_order = true;
  spec.on_line = [&](std::string_view line, bool) {
    in_order = in_order && line == "line" + std::to_string(count);
    ++count;
  };
  EXPECT_TRUE(runner->run(spec).ok());
  EXPECT_EQ(count, 20000);
  EXPECT_TRUE(in_order);
}

TEST_F(core_command_runner, output_without_newlines_arrives_in_bounded_pieces) {
  // 8 MiB with no newline: delivered as 64 KiB pieces, never buffered whole.
  CommandSpec spec = sh("head -c 8388608 /dev/zero | tr '\\0' x");
  spec.output = OutputMode::stream;
  std::size_t total = 0;
  std::size_t longest = 0;
  spec.on_line = [&](std::string_view line, bool) {
    total += line.size();
    longest = std::max(longest, line.size());
  };
  EXPECT_TRUE(runner->run(spec).ok());
  EXPECT_EQ(total, 8u * 1024 * 1024);
  EXPECT_EQ(longest, 64u * 1024);
}

TEST_F(core_command_runner, discard_mode_drops_output) {
  CommandSpec spec = sh("echo hidden; echo hidden >&2");
  spec.output = OutputMode::discard;
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(r.err.empty());
}

TEST_F(core_command_runner, passes_env_and_cwd) {
  CommandSpec spec = sh("echo \"$DEVX_TEST_VAR\"; pwd");
  spec.env["DEVX_TEST_VAR"] = "secret value";
  spec.cwd = "/";
  const CommandResult r = runner->run(spec);
  EXPECT_EQ(r.out, "secret value\n/\n");
}

TEST_F(core_command_runner, without_inherit_env_the_child_sees_only_the_given_env) {
  ::setenv("DEVX_TEST_INHERITED", "1", 1);
  CommandSpec spec;
  spec.argv = {"env"};
  spec.inherit_env = false;
  spec.env["ONLY"] = "this";
  const CommandResult r = runner->run(spec);
  EXPECT_EQ(r.out, "ONLY=this\n");

  CommandSpec inherit;
  inherit.argv = {"env"};
  EXPECT_THAT(runner->run(inherit).out, HasSubstr("DEVX_TEST_INHERITED=1"));
  ::unsetenv("DEVX_TEST_INHERITED");
}

TEST_F(core_command_runner, stdin_larger_than_a_pipe_buffer_is_echoed_back) {
  std::string data;
  data.reserve(1 << 20);
  for (std::size_t i = 0; data.size() < (1U << 20); ++i) data += std::to_string(i) + "\n";
  CommandSpec spec;
  spec.argv = {"cat"};
  spec.stdin_data = data;
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out.size(), data.size());
  EXPECT_TRUE(r.out == data);
}

TEST_F(core_command_runner, child_that_does_not_read_stdin_does_not_hurt_the_host) {
  // Writing to a reader that went away must not raise SIGPIPE in this process.
  CommandSpec spec;
  spec.argv = {"true"};
  spec.stdin_data = std::string(4 << 20, 'x');
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.ok());
}

TEST_F(core_command_runner, without_stdin_data_stdin_is_empty) {
  const CommandResult r = runner->run(sh("cat; echo done"));
  EXPECT_EQ(r.out, "done\n");
}

TEST_F(core_command_runner, timeout_kills_the_whole_process_group) {
  CommandSpec spec = sh("sleep 100 & sleep 100");
  spec.timeout = milliseconds(200);
  spec.kill_grace = milliseconds(200);
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.signal, 0);
  EXPECT_TRUE(wait_group_gone(r.pid));
}

TEST_F(core_command_runner, child_ignoring_sigterm_is_killed_after_the_grace) {
  // The shell (and the sleep it starts, which inherits the ignored disposition) ignores SIGTERM.
  CommandSpec spec = sh("trap '' TERM; echo ready; sleep 100");
  spec.output = OutputMode::stream;
  spec.kill_grace = milliseconds(100);
  std::stop_source stop;
  spec.stop = stop.get_token();
  spec.on_line = [&](std::string_view line, bool) {
    if (line == "ready") stop.request_stop();
  };
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_TRUE(wait_group_gone(r.pid));
}

TEST_F(core_command_runner, stop_from_another_thread_cancels_the_command) {
  CommandSpec spec = sh("echo started; exec sleep 100");
  spec.output = OutputMode::stream;
  std::stop_source stop;
  spec.stop = stop.get_token();
  std::latch started(1);
  spec.on_line = [&](std::string_view, bool) { started.count_down(); };
  std::jthread canceller([&] {
    started.wait();
    stop.request_stop();
  });
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(core_command_runner, already_stopped_token_does_not_start_anything) {
  std::stop_source stop;
  stop.request_stop();
  CommandSpec spec = sh("exit 0");
  spec.stop = stop.get_token();
  const CommandResult r = runner->run(spec);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.pid, -1);
}

TEST_F(core_command_runner, missing_command_is_command_not_found_naming_it) {
  CommandSpec spec;
  spec.argv = {"devx-no-such-command-4711", "arg"};
  try {
    runner->run(spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_not_found);
    EXPECT_THAT(e.message(), HasSubstr("devx-no-such-command-4711"));
  }
  EXPECT_THROW(runner->spawn(spec), Error);
}

TEST_F(core_command_runner, non_executable_path_is_command_not_found) {
  CommandSpec spec;
  spec.argv = {"/etc/hostname-does-not-exist-4711"};
  try {
    runner->run(spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_not_found);
  }
}

TEST_F(core_command_runner, missing_working_directory_is_an_io_error) {
  CommandSpec spec = sh("true");
  spec.cwd = "/nonexistent-devx-dir-4711";
  try {
    runner->run(spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_THAT(e.message(), HasSubstr("/nonexistent-devx-dir-4711"));
  }
}

TEST_F(core_command_runner, empty_argv_is_invalid) {
  EXPECT_THROW(runner->run(CommandSpec{}), Error);
  try {
    runner->run(CommandSpec{});
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  }
}

TEST_F(core_command_runner, child_has_default_signal_state_and_no_leaked_descriptors) {
  // The host blocks and ignores signals; the child must not inherit either.
  sigset_t block;
  sigset_t old_mask;
  ::sigemptyset(&block);
  ::sigaddset(&block, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction ignore {};
  struct sigaction old_action {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGUSR2, &ignore, &old_action);
  const int leaked = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC

  const CommandResult r =
      runner->run(sh("grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd"));

  ::close(leaked);
  ::sigaction(SIGUSR2, &old_action, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  EXPECT_THAT(r.out, HasSubstr("SigBlk:\t0000000000000000"));
  EXPECT_THAT(r.out, HasSubstr("SigIgn:\t0000000000000000"));
  std::istringstream lines(r.out.substr(r.out.find("SigIgn")));
  std::string line;
  std::getline(lines, line);
  std::vector<int> fds;
  while (std::getline(lines, line)) fds.push_back(std::stoi(line));
  // 0-2 plus the directory ls itself opened.
  for (const int fd : fds) EXPECT_LE(fd, 3) << "leaked descriptor " << fd;
}

TEST_F(core_command_runner, child_runs_in_its_own_process_group) {
  CommandSpec spec;
  spec.argv = {"sleep", "100"};
  auto child = runner->spawn(spec);
  EXPECT_EQ(::getpgid(child->pid()), child->pid());
  EXPECT_NE(::getpgid(child->pid()), ::getpgrp());
  const CommandResult r = child->terminate(milliseconds(5000));
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_TRUE(r.cancelled);
}

TEST_F(core_command_runner, spawn_captures_output_until_the_end) {
  CommandSpec spec = sh("echo one; echo two >&2; exit 4");
  auto child = runner->spawn(spec);
  const std::optional<CommandResult> r = child->wait_for(milliseconds(60000));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->out, "one\n");
  EXPECT_EQ(r->err, "two\n");
  EXPECT_EQ(r->pid, child->pid());
  // Terminating a finished process returns its result.
  EXPECT_EQ(child->terminate(milliseconds(0)).exit_code, 4);
}

TEST_F(core_command_runner, spawn_wait_for_returns_nullopt_while_running) {
  CommandSpec spec;
  spec.argv = {"sleep", "100"};
  auto child = runner->spawn(spec);
  EXPECT_FALSE(child->wait_for(milliseconds(10)).has_value());
}

TEST_F(core_command_runner, destroying_a_child_process_kills_and_reaps_it) {
  CommandSpec spec = sh("sleep 100 & exec sleep 100");
  auto child = runner->spawn(spec);
  const pid_t pid = child->pid();
  child.reset();
  // Reaped by the runner (not a zombie waiting for us): the pid is gone.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_TRUE(wait_group_gone(pid));
}

TEST_F(core_command_runner, spawned_child_survives_the_thread_that_spawned_it) {
  // PR_SET_PDEATHSIG fires when the forking *thread* exits; spawn() must not tie the child to
  // the caller's thread.
  std::unique_ptr<ChildProcess> child;
  std::thread([&] {
    CommandSpec spec;
    spec.argv = {"sleep", "100"};
    child = runner->spawn(spec);
  }).join();
  EXPECT_FALSE(child->wait_for(milliseconds(200)).has_value());
  const CommandResult r = child->terminate(milliseconds(5000));
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(core_command_runner, spawn_timeout_applies) {
  CommandSpec spec;
  spec.argv = {"sleep", "100"};
  spec.timeout = milliseconds(50);
  auto child = runner->spawn(spec);
  const std::optional<CommandResult> r = child->wait_for(milliseconds(60000));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->timed_out);
}

TEST_F(core_command_runner, failing_line_callback_stops_the_command_and_rethrows) {
  CommandSpec spec = sh("echo first; exec sleep 100");
  spec.output = OutputMode::stream;
  spec.on_line = [](std::string_view, bool) { throw std::runtime_error("consumer failed"); };
  EXPECT_THROW(runner->run(spec), std::runtime_error);
}

TEST_F(core_command_runner, children_die_with_a_crashed_host_process) {
  // A: a subreaper standing in for init. B: the "host" that spawns C and dies without cleanup.
  // C must be killed by PR_SET_PDEATHSIG, which A observes when it reaps C.
  const pid_t a = ::fork();
  ASSERT_GE(a, 0);
  if (a == 0) {
    ::alarm(60);  // safety net: a regression fails instead of hanging
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    int fds[2];
    if (::pipe(fds) != 0) ::_exit(10);
    const pid_t b = ::fork();
    if (b == 0) {
      ::close(fds[0]);
      auto host_runner = make_system_command_runner();
      CommandSpec spec;
      spec.argv = {"sleep", "100"};
      auto child = host_runner->spawn(spec);
      const int pid = child->pid();
      if (::write(fds[1], &pid, sizeof pid) != sizeof pid) ::_exit(11);
      ::_exit(0);  // crash-like: no destructors run
    }
    ::close(fds[1]);
    int grandchild = 0;
    if (::read(fds[0], &grandchild, sizeof grandchild) != sizeof grandchild) ::_exit(12);
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(b), &info, WEXITED) != 0) ::_exit(13);
    info = {};
    if (::waitid(P_PID, static_cast<id_t>(grandchild), &info, WEXITED) != 0) ::_exit(14);
    ::_exit(info.si_code == CLD_KILLED && info.si_status == SIGKILL ? 0 : 15);
  }
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(a), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 0);
}

TEST_F(core_command_runner, runs_concurrently_from_many_threads) {
  std::atomic<int> ok{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 5; ++i) {
          const CommandResult r = runner->run(sh("echo " + std::to_string(t * 100 + i)));
          if (r.ok() && r.out == std::to_string(t * 100 + i) + "\n") ++ok;
        }
      });
    }
  }
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace devx
