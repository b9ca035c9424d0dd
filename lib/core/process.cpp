// The system CommandRunner: fork + execve with the embedding guarantees of ARCHITECTURE.md §3.
// ("fork" below: clone(CLONE_VM | CLONE_VFORK), see start_process(); sanitizer builds fork().)
//
//  * Everything the child needs (argv, envp, resolved executable, descriptors) is prepared before
//    fork(); between fork() and execve() the child only makes async-signal-safe calls, because
//    the host process is multi-threaded and any lock (malloc, stdio, …) may be held by a thread
//    that no longer exists in the child.
//  * The child gets its own process group and PR_SET_PDEATHSIG(SIGKILL). PDEATHSIG fires when the
//    *thread* that forked exits, so the forking thread is always the one that supervises the child
//    until it is reaped: the caller's thread for run(), a per-child thread for spawn().
//  * No signal handler is installed and only our own child is reaped, by pid (waitid(P_PID)), with
//    a pidfd to wait for its exit in the same poll() as its pipes.
#include <devx/error.hpp>
#include <devx/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

#include "core/json.hpp"
#include "core/process_runner.hpp"
#include "core/unique_fd.hpp"

extern char** environ;  // NOLINT: POSIX

namespace devx {
namespace {

using core::UniqueFd;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kDefaultSearchPath = "/usr/local/bin:/usr/bin:/bin";
constexpr std::size_t kReadChunk = 64 * 1024;

std::string errno_text(int err) { return std::strerror(err); }  // NOLINT(concurrency-mt-unsafe)

[[noreturn]] void throw_io(const std::string& what, int err) {
  throw Error(ErrorCode::io, what + ": " + errno_text(err));
}

// Our descriptors must not be 0, 1 or 2, or the child's dup2() onto stdio could clobber them
// (possible when the host process closed its stdio).
UniqueFd above_stdio(UniqueFd fd) {
  if (!fd || fd.get() > 2) return fd;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) throw_io("fcntl(F_DUPFD_CLOEXEC)", errno);
  return UniqueFd(moved);
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw_io("fcntl(O_NONBLOCK)", errno);
}

struct FdPair {
  UniqueFd parent;
  UniqueFd child;
};

// parent = read end, child = write end.
FdPair make_output_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw_io("pipe2", errno);
  FdPair pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
  pair.parent = above_stdio(std::move(pair.parent));
  pair.child = above_stdio(std::move(pair.child));
  set_nonblocking(pair.parent.get());
  return pair;
}

// stdin is fed through a socketpair rather than a pipe: send(MSG_NOSIGNAL) reports a child that
// closed its stdin as EPIPE without raising SIGPIPE. With a pipe we would have to block SIGPIPE on
// the writing thread and consume it with sigtimedwait(), which can also swallow a SIGPIPE that
// the host itself had pending. The child reads a socket exactly like a pipe.
FdPair make_stdin_socket() {
  std::array<int, 2> fds{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
    throw_io("socketpair", errno);
  }
  FdPair pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
  pair.parent = above_stdio(std::move(pair.parent));
  pair.child = above_stdio(std::move(pair.child));
  ::shutdown(pair.parent.get(), SHUT_RD);
  ::shutdown(pair.child.get(), SHUT_WR);
  set_nonblocking(pair.parent.get());
  return pair;
}

UniqueFd open_dev_null(int flags) {
  UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
  if (!fd) throw_io("open /dev/null", errno);
  return above_stdio(std::move(fd));
}

UniqueFd make_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) throw_io("eventfd", errno);
  return fd;
}

void signal_eventfd(int fd) noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
}

void drain_eventfd(int fd) noexcept {
  std::uint64_t value = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd, &value, sizeof value);
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return ::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0;
}

// execvp()'s search, done in the parent so a missing tool is a clear error, not exit status 127.
std::string resolve_executable(const std::string& name, const std::string& search_path) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view rest(search_path);
  while (true) {
    const auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  boost::json::object details;
  details["command"] = name;
  details["path"] = search_path;
  throw Error(ErrorCode::command_not_found, "command not found: '" + name + "'",
              "install '" + name + "' or make sure it is on PATH", core::to_json_string(details));
}

void reject_nul(std::string_view text, std::string_view what) {
  if (text.find('\0') != std::string_view::npos) {
    throw Error(ErrorCode::invalid_argument, std::string(what) + " contains a NUL character");
  }
}

// Everything execve() needs, built before fork() so the child does not allocate. argv/envp point
// into the strings of args/env; moving a Prepared keeps them valid (vector buffers are moved).
struct Prepared {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string cwd;
  bool has_cwd = false;
};

Prepared prepare(const CommandSpec& spec,
                 const std::optional<std::map<std::string, std::string>>& base_env) {
  if (spec.argv.empty() || spec.argv.front().empty()) {
    throw Error(ErrorCode::invalid_argument, "a command needs a non-empty argv[0]");
  }
  Prepared p;
  std::map<std::string, std::string> env;
  if (spec.inherit_env) env = base_env ? *base_env : core::process_environment();
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos) {
      throw Error(ErrorCode::invalid_argument, "invalid environment variable name '" + key + "'");
    }
    reject_nul(key, "an environment variable name");
    reject_nul(value, "environment variable " + key);
    env[key] = value;
  }
  for (const auto& arg : spec.argv) reject_nul(arg, "a command argument");

  const auto path_it = env.find("PATH");
  p.path = resolve_executable(spec.argv.front(),
                              path_it != env.end() ? path_it->second : kDefaultSearchPath);
  p.args = spec.argv;
  p.env.reserve(env.size());
  for (const auto& [key, value] : env) p.env.push_back(key + "=" + value);
  for (auto& arg : p.args) p.argv.push_back(arg.data());
  p.argv.push_back(nullptr);
  for (auto& entry : p.env) p.envp.push_back(entry.data());
  p.envp.push_back(nullptr);
  if (spec.cwd) {
    p.cwd = spec.cwd->string();
    reject_nul(p.cwd, "the working directory");
    p.has_cwd = true;
  }
  return p;
}

// What the child reports through the exec-status pipe when it cannot exec.
enum class ChildStage : int { setup = 1, chdir = 2, exec = 3 };
struct ChildFailure {
  ChildStage stage;
  int error;
};

[[noreturn]] void child_fail(int status_fd, ChildStage stage) noexcept {
  const ChildFailure failure{stage, errno};
  [[maybe_unused]] const ssize_t n = ::write(status_fd, &failure, sizeof failure);
  ::_exit(127);
}

// Runs in the child between fork() and execve(): async-signal-safe calls only.
[[noreturn]] void child_exec(const Prepared& p, pid_t parent, int in_fd, int out_fd, int err_fd,
                             int status_fd) noexcept {
  if (::setpgid(0, 0) != 0) child_fail(status_fd, ChildStage::setup);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(status_fd, ChildStage::setup);
  // The parent may have died before prctl(): then nobody would ever deliver the signal.
  if (::getppid() != parent) ::_exit(127);

  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // EINVAL: ignored
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (p.has_cwd && ::chdir(p.cwd.c_str()) != 0) child_fail(status_fd, ChildStage::chdir);
  // All three are >= 3 (above_stdio), so dup2 never overwrites one of them.
  if (::dup2(in_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
      ::dup2(err_fd, STDERR_FILENO) < 0) {
    child_fail(status_fd, ChildStage::setup);
  }
  // Descriptors the host opened without O_CLOEXEC must not leak into the tool (the status pipe
  // is already close-on-exec). Best effort: older kernels lack close_range.
#ifdef SYS_close_range
  ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
#endif
  ::execve(p.path.c_str(), p.argv.data(), p.envp.data());
  child_fail(status_fd, ChildStage::exec);
}

// The child is created with clone(CLONE_VM | CLONE_VFORK), as posix_spawn() does: it borrows our
// address space until execve(), so starting a process does not copy (and then tear down) the page
// tables of a large, many-threaded host — the dominant cost of fork() here. The forking thread is
// suspended until the child has exec'd (or failed); the child runs child_exec() on its own stack,
// with all signals blocked until it has reset the dispositions (it has its own copy of the handler
// table: no CLONE_SIGHAND), and only writes to its stack and to errno. Sanitizer builds fork().
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DEVX_SPAWN_WITH_FORK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define DEVX_SPAWN_WITH_FORK 1
#endif
#endif

struct ChildArgs {
  const Prepared* prepared;
  pid_t parent;
  int in_fd;
  int out_fd;
  int err_fd;
  int status_fd;
};

#ifndef DEVX_SPAWN_WITH_FORK
constexpr std::size_t kChildStackSize = 64 * 1024;

int child_entry(void* arg) noexcept {
  const auto* a = static_cast<const ChildArgs*>(arg);
  child_exec(*a->prepared, a->parent, a->in_fd, a->out_fd, a->err_fd, a->status_fd);
}
#endif

// Returns the child's pid (-1 and errno on failure), with all signals blocked by the caller.
pid_t start_process(const ChildArgs& args) {
#ifdef DEVX_SPAWN_WITH_FORK
  const pid_t pid = ::fork();
  if (pid == 0) {
    child_exec(*args.prepared, args.parent, args.in_fd, args.out_fd, args.err_fd, args.status_fd);
  }
  return pid;
#else
  // Allocated before clone(): the child must not allocate. The stack grows down.
  std::unique_ptr<char[]> stack(new char[kChildStackSize]);
  ChildArgs copy = args;
  return ::clone(child_entry, stack.get() + kChildStackSize, CLONE_VM | CLONE_VFORK | SIGCHLD,
                 &copy);
#endif
}

struct Started {
  pid_t pid = -1;
  UniqueFd pidfd;     // invalid on kernels without pidfd_open (then we poll)
  UniqueFd stdin_fd;  // our end of the stdin socket, when there is stdin data
  UniqueFd out_fd;    // read ends, for capture / stream
  UniqueFd err_fd;
};

// Reaps `pid` (blocking); fills exit_code / signal.
void reap(pid_t pid, CommandResult& result) {
  siginfo_t info{};
  int rc = 0;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
  } while (rc != 0 && errno == EINTR);
  // ECHILD: a SIGCHLD handler of the host reaped it with waitpid(-1); the status is lost.
  if (rc != 0) return;
  if (info.si_code == CLD_EXITED) {
    result.exit_code = info.si_status;
  } else {
    result.signal = info.si_status;
  }
}

Started start_child(const CommandSpec& spec, const Prepared& p) {
  Started started;
  FdPair in = spec.stdin_data ? make_stdin_socket() : FdPair{{}, open_dev_null(O_RDONLY)};
  const bool piped = spec.output != OutputMode::discard;
  FdPair out = piped ? make_output_pipe() : FdPair{{}, open_dev_null(O_WRONLY)};
  FdPair err = piped ? make_output_pipe() : FdPair{{}, open_dev_null(O_WRONLY)};
  FdPair status = make_output_pipe();        // the child writes a ChildFailure if it cannot exec
  ::fcntl(status.parent.get(), F_SETFL, 0);  // blocking read below

  // Block all signals across fork() so that no host handler runs in the child before it resets
  // the dispositions.
  const ChildArgs args{
      &p, ::getpid(), in.child.get(), out.child.get(), err.child.get(), status.child.get()};
  sigset_t all;
  sigset_t old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = start_process(args);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw_io("cannot start '" + spec.argv.front() + "': fork", fork_errno);

  in.child.reset();
  out.child.reset();
  err.child.reset();
  status.child.reset();

  ChildFailure failure{};
  ssize_t n = 0;
  do {
    n = ::read(status.parent.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    CommandResult ignored;
    reap(pid, ignored);
    boost::json::object details;
    details["command"] = spec.argv.front();
    details["path"] = p.path;
    details["errno"] = failure.error;
    const std::string reason = errno_text(failure.error);
    switch (failure.stage) {
      case ChildStage::chdir:
        throw Error(ErrorCode::io,
                    "cannot run '" + spec.argv.front() + "' in '" + p.cwd + "': " + reason,
                    "check that the working directory exists", core::to_json_string(details));
      case ChildStage::exec:
        throw Error(ErrorCode::command_not_found, "cannot execute '" + p.path + "': " + reason,
                    "install '" + spec.argv.front() + "' or check its permissions",
                    core::to_json_string(details));
      case ChildStage::setup:
        break;
    }
    throw Error(ErrorCode::io, "cannot start '" + spec.argv.front() + "': " + reason, {},
                core::to_json_string(details));
  }

  started.pid = pid;
  // The child is our unreaped child, so its pid cannot have been reused: the pidfd is for it.
  started.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)));
  started.stdin_fd = std::move(in.parent);
  started.out_fd = std::move(out.parent);
  started.err_fd = std::move(err.parent);
  return started;
}

// Splits a byte stream into lines for OutputMode::stream. A line longer than kMaxLine is
// delivered in kMaxLine pieces, so output without newlines cannot grow memory without bound.
class LineSplitter {
 public:
  static constexpr std::size_t kMaxLine = 64 * 1024;

  template <typename F>
  void feed(std::string_view data, F&& on_line) {
    buffer_.append(data);
    std::size_t start = 0;
    for (;;) {
      const auto nl = buffer_.find('\n', start);
      if (nl != std::string::npos && nl - start <= kMaxLine) {
        on_line(std::string_view(buffer_).substr(start, nl - start));
        start = nl + 1;
      } else if (buffer_.size() - start >= kMaxLine) {
        on_line(std::string_view(buffer_).substr(start, kMaxLine));
        start += kMaxLine;
      } else {
        break;
      }
    }
    buffer_.erase(0, start);
  }
  template <typename F>
  void finish(F&& on_line) {
    if (!buffer_.empty()) on_line(std::string_view(buffer_));
    buffer_.clear();
  }

 private:
  std::string buffer_;
};

// Requests from a ChildProcess handle to the thread supervising its child.
struct TerminateRequest {
  std::mutex mutex;
  std::optional<milliseconds> grace;
};

class Supervisor {
 public:
  Supervisor(const CommandSpec& spec, Started started, int wake_fd, TerminateRequest* request)
      : spec_(spec), child_(std::move(started)), wake_fd_(wake_fd), request_(request) {
    result_.pid = child_.pid;
  }

  CommandResult run() {
    const auto start = SteadyClock::now();
    if (spec_.timeout > milliseconds::zero()) deadline_ = start + spec_.timeout;
    bool exited = false;
    try {
      while (!exited) {
        check_requests();
        exited = poll_once();
      }
    } catch (...) {
      // Never leave a running, unreaped child behind.
      ::kill(-child_.pid, SIGKILL);
      CommandResult ignored;
      reap(child_.pid, ignored);
      throw;
    }
    // The leader is a zombie (not reaped yet), so its pgid cannot have been reused: when we were
    // stopping the command, make sure nothing of its group survives it.
    if (reason_ != Reason::none) ::kill(-child_.pid, SIGKILL);
    drain(child_.out_fd, false);
    drain(child_.err_fd, true);
    flush_lines();
    child_.stdin_fd.reset();
    reap(child_.pid, result_);
    result_.timed_out = reason_ == Reason::timeout;
    result_.cancelled = reason_ == Reason::cancelled || reason_ == Reason::terminated;
    if (callback_error_) std::rethrow_exception(callback_error_);
    return std::move(result_);
  }

 private:
  enum class Reason { none, timeout, cancelled, terminated };

  void begin_stop(Reason reason, milliseconds grace) {
    if (reason_ == Reason::none) reason_ = reason;
    if (killed_) return;
    if (!term_sent_) {
      ::kill(-child_.pid, SIGTERM);
      term_sent_ = true;
    }
    if (grace <= milliseconds::zero()) {
      ::kill(-child_.pid, SIGKILL);
      killed_ = true;
      return;
    }
    const auto at = SteadyClock::now() + grace;
    if (!kill_at_ || at < *kill_at_) kill_at_ = at;
  }

  void check_requests() {
    const auto now = SteadyClock::now();
    if (spec_.stop.stop_requested()) begin_stop(Reason::cancelled, spec_.kill_grace);
    if (request_ != nullptr) {
      std::optional<milliseconds> grace;
      {
        std::lock_guard lock(request_->mutex);
        grace = request_->grace;
      }
      if (grace) begin_stop(Reason::terminated, *grace);
    }
    if (deadline_ && now >= *deadline_) begin_stop(Reason::timeout, spec_.kill_grace);
    if (kill_at_ && !killed_ && now >= *kill_at_) {
      ::kill(-child_.pid, SIGKILL);
      killed_ = true;
    }
  }

  int poll_timeout_ms() const {
    std::optional<SteadyClock::time_point> next;
    if (deadline_ && reason_ == Reason::none) next = deadline_;
    if (kill_at_ && !killed_ && (!next || *kill_at_ < *next)) next = kill_at_;
    int timeout = -1;
    if (next) {
      const auto left = std::chrono::ceil<milliseconds>(*next - SteadyClock::now()).count();
      timeout = static_cast<int>(std::clamp<std::int64_t>(left, 0, 60'000));
    }
    // Without a pidfd the exit is only noticed by polling waitid().
    if (!child_.pidfd && (timeout < 0 || timeout > 20)) timeout = 20;
    return timeout;
  }

  // One poll() round; true when the leader has exited.
  bool poll_once() {
    std::array<pollfd, 5> fds{};
    nfds_t count = 0;
    auto add = [&](const UniqueFd& fd, short events) -> int {
      if (!fd) return -1;
      fds[count] = pollfd{fd.get(), events, 0};
      return static_cast<int>(count++);
    };
    const int pid_index = add(child_.pidfd, POLLIN);
    const int wake_index = wake_fd_ >= 0 ? static_cast<int>(count) : -1;
    if (wake_fd_ >= 0) fds[count++] = pollfd{wake_fd_, POLLIN, 0};
    const int out_index = add(child_.out_fd, POLLIN);
    const int err_index = add(child_.err_fd, POLLIN);
    const bool writing =
        child_.stdin_fd.valid() && spec_.stdin_data && stdin_offset_ < spec_.stdin_data->size();
    const int in_index = writing ? add(child_.stdin_fd, POLLOUT) : -1;
    if (child_.stdin_fd && !writing) child_.stdin_fd.reset();  // nothing (left) to send: EOF

    const int rc = ::poll(fds.data(), count, poll_timeout_ms());
    if (rc < 0) {
      if (errno == EINTR) return false;
      throw_io("poll", errno);
    }
    auto ready = [&](int index) { return index >= 0 && fds[index].revents != 0; };
    if (ready(wake_index)) drain_eventfd(wake_fd_);
    if (ready(out_index)) read_some(child_.out_fd, false);
    if (ready(err_index)) read_some(child_.err_fd, true);
    if (ready(in_index)) write_some();
    if (child_.pidfd && !ready(pid_index)) return false;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(child_.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      return errno == ECHILD;  // reaped behind our back (see reap())
    }
    return info.si_pid == child_.pid;
  }

  void write_some() {
    const std::string& data = *spec_.stdin_data;
    const std::size_t left = data.size() - stdin_offset_;
    const ssize_t n = ::send(child_.stdin_fd.get(), data.data() + stdin_offset_,
                             std::min(left, kReadChunk), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      stdin_offset_ += static_cast<std::size_t>(n);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      // EPIPE / ECONNRESET: the child closed its stdin; the rest is not wanted.
      child_.stdin_fd.reset();
    }
  }

  // Reads one chunk; closes the descriptor at end of file.
  bool read_some(UniqueFd& fd, bool from_stderr) {
    ssize_t n = 0;
    do {
      n = ::read(fd.get(), read_buffer_.data(), read_buffer_.size());
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      deliver(std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)), from_stderr);
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) fd.reset();
    return false;
  }

  // After the leader exited: take what is already buffered. A background process that inherited
  // the pipe may keep it open forever, so we do not wait for end of file.
  void drain(UniqueFd& fd, bool from_stderr) {
    while (fd && read_some(fd, from_stderr)) {
    }
    fd.reset();
  }

  void deliver(std::string_view data, bool from_stderr) {
    if (spec_.output == OutputMode::capture) {
      (from_stderr ? result_.err : result_.out).append(data);
      return;
    }
    (from_stderr ? err_lines_ : out_lines_).feed(data, [&](std::string_view line) {
      emit_line(line, from_stderr);
    });
  }

  void flush_lines() {
    out_lines_.finish([&](std::string_view line) { emit_line(line, false); });
    err_lines_.finish([&](std::string_view line) { emit_line(line, true); });
  }

  void emit_line(std::string_view line, bool from_stderr) {
    if (!spec_.on_line || callback_error_) return;
    try {
      spec_.on_line(line, from_stderr);
    } catch (...) {
      // The callback failed: stop the command, then rethrow once the child is reaped.
      callback_error_ = std::current_exception();
      begin_stop(Reason::terminated, milliseconds::zero());
    }
  }

  const CommandSpec& spec_;
  Started child_;
  int wake_fd_;
  TerminateRequest* request_;
  CommandResult result_;
  Reason reason_ = Reason::none;
  std::optional<SteadyClock::time_point> deadline_;
  std::optional<SteadyClock::time_point> kill_at_;
  bool term_sent_ = false;
  bool killed_ = false;
  std::size_t stdin_offset_ = 0;
  LineSplitter out_lines_;
  LineSplitter err_lines_;
  std::exception_ptr callback_error_;
  // On the heap: run() executes on the caller's thread, whose stack may be small.
  std::vector<char> read_buffer_ = std::vector<char>(kReadChunk);
};

// ---------------------------------------------------------------------------------------------
// spawn(): the child is forked and supervised by its own thread, which therefore lives exactly as
// long as the child (PDEATHSIG is tied to it) and keeps reading its pipes so it never blocks.

struct SpawnShared {
  std::mutex mutex;
  std::condition_variable changed;
  bool started = false;
  std::exception_ptr start_error;
  pid_t pid = -1;
  std::optional<CommandResult> result;
  std::exception_ptr error;
  TerminateRequest request;
  UniqueFd wake;
};

class SystemChildProcess final : public ChildProcess {
 public:
  SystemChildProcess(CommandSpec spec, Prepared prepared)
      : shared_(std::make_shared<SpawnShared>()) {
    shared_->wake = make_eventfd();
    thread_ = std::jthread(
        [shared = shared_, spec = std::move(spec), prepared = std::move(prepared)]() mutable {
          supervise(*shared, spec, prepared);
        });
    std::unique_lock lock(shared_->mutex);
    shared_->changed.wait(lock, [&] { return shared_->started || shared_->start_error; });
    if (shared_->start_error) {
      const auto error = shared_->start_error;
      lock.unlock();
      thread_.join();
      std::rethrow_exception(error);
    }
    pid_ = shared_->pid;
  }

  ~SystemChildProcess() override {
    if (!thread_.joinable()) return;
    request_stop(milliseconds::zero());
    thread_.join();
  }

  SystemChildProcess(const SystemChildProcess&) = delete;
  SystemChildProcess& operator=(const SystemChildProcess&) = delete;

  int pid() const noexcept override { return pid_; }

  std::optional<CommandResult> wait_for(milliseconds timeout) override {
    std::unique_lock lock(shared_->mutex);
    if (!shared_->changed.wait_for(lock, timeout,
                                   [&] { return shared_->result || shared_->error; })) {
      return std::nullopt;
    }
    if (shared_->error) std::rethrow_exception(shared_->error);
    return shared_->result;
  }

  CommandResult terminate(milliseconds grace) override {
    request_stop(grace);
    std::unique_lock lock(shared_->mutex);
    shared_->changed.wait(lock, [&] { return shared_->result || shared_->error; });
    if (shared_->error) std::rethrow_exception(shared_->error);
    return *shared_->result;
  }

 private:
  static void supervise(SpawnShared& shared, const CommandSpec& spec, const Prepared& prepared) {
    Started started;
    try {
      started = start_child(spec, prepared);
    } catch (...) {
      std::lock_guard lock(shared.mutex);
      shared.start_error = std::current_exception();
      shared.changed.notify_all();
      return;
    }
    {
      std::lock_guard lock(shared.mutex);
      shared.pid = started.pid;
      shared.started = true;
      shared.changed.notify_all();
    }
    std::optional<CommandResult> result;
    std::exception_ptr error;
    try {
      std::stop_callback on_stop(spec.stop, [&shared] { signal_eventfd(shared.wake.get()); });
      result = Supervisor(spec, std::move(started), shared.wake.get(), &shared.request).run();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(shared.mutex);
    shared.result = std::move(result);
    shared.error = error;
    shared.changed.notify_all();
  }

  void request_stop(milliseconds grace) {
    {
      std::lock_guard lock(shared_->request.mutex);
      if (!shared_->request.grace || grace < *shared_->request.grace)
        shared_->request.grace = grace;
    }
    signal_eventfd(shared_->wake.get());
  }

  std::shared_ptr<SpawnShared> shared_;
  std::jthread thread_;
  int pid_ = -1;
};

class SystemCommandRunner final : public CommandRunner {
 public:
  explicit SystemCommandRunner(std::optional<std::map<std::string, std::string>> base_env)
      : base_env_(std::move(base_env)) {}

  CommandResult run(const CommandSpec& spec) override {
    Prepared prepared = prepare(spec, base_env_);
    if (spec.stop.stop_requested()) {
      CommandResult result;
      result.cancelled = true;
      return result;
    }
    UniqueFd wake = make_eventfd();
    std::stop_callback on_stop(spec.stop, [fd = wake.get()] { signal_eventfd(fd); });
    Started started = start_child(spec, prepared);
    return Supervisor(spec, std::move(started), wake.get(), nullptr).run();
  }

  std::unique_ptr<ChildProcess> spawn(const CommandSpec& spec) override {
    Prepared prepared = prepare(spec, base_env_);
    return std::make_unique<SystemChildProcess>(spec, std::move(prepared));
  }

 private:
  const std::optional<std::map<std::string, std::string>> base_env_;
};

}  // namespace

namespace core {

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view kv(*entry);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::shared_ptr<CommandRunner> make_system_command_runner(
    std::optional<std::map<std::string, std::string>> base_env) {
  return std::make_shared<SystemCommandRunner>(std::move(base_env));
}
}  // namespace core

std::shared_ptr<CommandRunner> make_system_command_runner() {
  return core::make_system_command_runner(std::nullopt);
}

}  // namespace devx
