// Native host database servers: PostgreSQL (initdb once, then `postgres`) and Redis
// (`redis-server`), with data under <DEVX_HOME>/run/<run_key>/data/<name> (or, as root with a
// run directory the database user cannot traverse, under kHostDataRoot with a link from there),
// listening on 127.0.0.1 only.
//
// PostgreSQL refuses to run as root. When libdevx runs as root, both servers run as the system
// user devx-db (created with useradd on first use) through `setpriv`, which changes the user in
// the exec'd process itself, so the server keeps our pid, process group and — with
// `--pdeathsig keep`, since a credential change clears it — PR_SET_PDEATHSIG.
#include <devx/error.hpp>

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <system_error>

#include "core/json.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime/database.hpp"
#include "runtime/database_runtimes.hpp"
#include "runtime/private_file.hpp"

namespace devx::runtime {
namespace detail {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr milliseconds kSetupCommand{120'000};
// sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

struct DbUser {
  uid_t uid;
  gid_t gid;
  std::string name;
};

std::optional<DbUser> lookup_user(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return DbUser{pw.pw_uid, pw.pw_gid, name};
}

// nullopt when we are not root (the server then runs as ourselves).
std::optional<DbUser> database_user(Context& context) {
  if (::geteuid() != 0) return std::nullopt;
  const std::string name(kDatabaseUser);
  if (auto user = lookup_user(name)) return user;
  CommandSpec spec;
  spec.argv = {"useradd",          "--system",          "--user-group",
               "--no-create-home", "--home-dir",        "/nonexistent",
               "--shell",          "/usr/sbin/nologin", name};
  spec.timeout = milliseconds(30'000);
  const auto result = context.commands().run(spec);
  // Exit 9: created concurrently by someone else.
  if (!result.ok() && result.exit_code != 9) {
    throw Error(ErrorCode::command_failed,
                "cannot create the system user " + name + ": " + result.err,
                "host databases run as an unprivileged user when devx runs as root");
  }
  if (auto user = lookup_user(name)) return user;
  throw Error(ErrorCode::internal, "user " + name + " missing after useradd");
}

std::vector<std::string> as_user(const std::optional<DbUser>& user) {
  if (!user) return {};
  return {"setpriv",
          "--reuid=" + std::to_string(user->uid),
          "--regid=" + std::to_string(user->gid),
          "--init-groups",
          "--pdeathsig=keep",
          "--"};
}

void chown_tree(const fs::path& root, const DbUser& user) {
  if (::lchown(root.c_str(), user.uid, user.gid) != 0) {
    throw Error(ErrorCode::io, "cannot chown " + root.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    ::lchown(it->path().c_str(), user.uid, user.gid);
  }
}

// The first ancestor of `dir` (or `dir` itself) that the database user cannot search, if any
// (a DEVX_HOME under /root, mode 0700, is the usual case).
std::optional<fs::path> unreachable_component(const fs::path& dir, const DbUser& user) {
  fs::path current;
  for (const auto& part : dir) {
    current /= part;
    struct stat st {};
    if (::stat(current.c_str(), &st) != 0) continue;
    mode_t needed = S_IXOTH;
    if (st.st_uid == user.uid) {
      needed = S_IXUSR;
    } else if (st.st_gid == user.gid) {
      needed = S_IXGRP;
    }
    if ((st.st_mode & needed) == 0) return current;
  }
  return std::nullopt;
}

void check_reachable(const fs::path& dir, const DbUser& user) {
  if (const auto blocked = unreachable_component(dir, user)) {
    throw Error(ErrorCode::unsupported,
                "the database user '" + user.name + "' cannot reach " + dir.string() +
                    " (no search permission on " + blocked->string() + ")",
                "point DEVX_HOME at a directory other users can traverse (chmod o+x " +
                    blocked->string() + "), or use `runtime: container` for this database");
  }
}

void create_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::io, "cannot create " + dir.string() + ": " + ec.message());
}

// Creates the parent of a data directory (<run dir>/data, or a directory under kHostDataRoot) so
// the server user can reach it.
void prepare_parent(const fs::path& parent, const std::optional<DbUser>& user) {
  create_dirs(parent);
  if (user) {
    ::chmod(parent.c_str(), 0711);
    check_reachable(parent, *user);
  }
}

std::uint32_t fnv1a(std::string_view text) {
  std::uint32_t hash = 2166136261U;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 16777619U;
  }
  return hash;
}

bool under_host_data_root(const fs::path& path) {
  const fs::path root(kHostDataRoot);
  const auto normal = path.lexically_normal();
  auto it = normal.begin();
  for (const auto& part : root) {
    if (it == normal.end() || *it != part) return false;
    ++it;
  }
  return it != normal.end();
}

// Where a host database keeps its data. `requested` is <run dir>/data/<name>. When we run as
// root and the database user cannot traverse the run directory (DEVX_HOME=/root/.devx with /root
// at 0700), the data lives in <kHostDataRoot>/<run_key>-<hash of the run dir>/<name> instead
// (root-owned 0711 parents, the directory itself owned by the database user, 0700), and
// `requested` becomes a symbolic link to it: the run state records the placement, so a later
// launch reuses it and `down --volumes` (remove_host_data) removes both. The user's home is
// never chmod'ed.
fs::path place_data_dir(const fs::path& requested, std::string_view run_key,
                        const std::optional<DbUser>& user) {
  std::error_code ec;
  if (fs::is_symlink(requested, ec)) {
    const auto target = fs::read_symlink(requested, ec);
    if (ec || !target.is_absolute() || !under_host_data_root(target)) {
      throw Error(ErrorCode::io, requested.string() + " is a link to an unexpected place",
                  "remove it (or run `devx down --volumes`)");
    }
    prepare_parent(target.parent_path(), user);
    return target;
  }
  const fs::path parent = requested.parent_path();
  create_dirs(parent);
  if (!user) return requested;
  ::chmod(parent.c_str(), 0711);
  const auto blocked = unreachable_component(parent, *user);
  if (!blocked) return requested;
  if (fs::exists(requested, ec) && !fs::is_empty(requested, ec)) {
    check_reachable(parent, *user);  // existing data we cannot move silently: explain
  }
  fs::remove_all(requested, ec);
  const fs::path base(kHostDataRoot);
  create_dirs(base);
  ::chmod(base.c_str(), 0711);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", fnv1a(parent.string()));
  const fs::path target = base / (std::string(run_key) + "-" + hex) / requested.filename();
  prepare_parent(target.parent_path(), user);
  fs::create_directory_symlink(target, requested, ec);
  if (ec) {
    throw Error(ErrorCode::io, "cannot link " + requested.string() + " to " + target.string() +
                                   ": " + ec.message());
  }
  return target;
}

void make_private_dir(const fs::path& dir, const std::optional<DbUser>& user) {
  create_dirs(dir);
  ::chmod(dir.c_str(), 0700);
  if (user) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && st.st_uid != user->uid) chown_tree(dir, *user);
  }
}

std::string tail_lines(std::string_view text, std::size_t count) {
  std::size_t pos = text.size();
  while (pos > 0 && text[pos - 1] == '\n') --pos;
  std::size_t start = pos;
  for (std::size_t found = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++found == count) break;
  }
  return std::string(text.substr(start, pos - start));
}

void run_setup(Context& context, CommandSpec spec, std::string_view what) {
  spec.timeout = kSetupCommand;
  const auto result = context.commands().run(spec);
  if (!result.ok()) {
    boost::json::object details;
    boost::json::array args;
    for (const auto& a : spec.argv) args.emplace_back(a);
    details["argv"] = std::move(args);
    details["exit_code"] = result.exit_code;
    const std::string& output = result.err.empty() ? result.out : result.err;
    details["output"] = tail_lines(output, 20);
    throw Error(ErrorCode::command_failed, std::string(what) + " failed: " + tail_lines(output, 3),
                {}, core::to_json_string(details));
  }
}

fs::path data_dir_of(const Context& context, const LaunchSpec& spec) {
  return spec.data_dir.empty() ? database_data_directory(context, spec.run_key, spec.name)
                               : spec.data_dir;
}

int require_port(const LaunchSpec& spec) {
  if (!spec.port || *spec.port <= 0) {
    throw Error(ErrorCode::invalid_argument, "database '" + spec.name + "' needs a port");
  }
  return *spec.port;
}

// A native server process. stop(): `stop_signal` to the server itself (PostgreSQL's fast
// shutdown is SIGINT), up to `grace`, then SIGKILL to the whole group.
class HostServerNode final : public RunningNode {
 public:
  HostServerNode(std::unique_ptr<ChildProcess> child, int stop_signal)
      : child_(std::move(child)), stop_signal_(stop_signal) {}

  int pid() const noexcept override { return child_->pid(); }

  std::optional<ExitStatus> wait_for(milliseconds timeout) override {
    auto result = child_->wait_for(timeout);
    if (!result) return std::nullopt;
    return to_status(*result);
  }

  ExitStatus stop(milliseconds grace) override {
    std::lock_guard lock(stop_mutex_);
    if (stop_signal_ == SIGTERM) return to_status(child_->terminate(grace));
    if (!child_->wait_for(milliseconds::zero())) {
      // Not reaped yet (only the child's own supervisor reaps it, and it had not exited an
      // instant ago), so the pid is still this server's.
      ::kill(child_->pid(), stop_signal_);
      if (auto result = child_->wait_for(grace)) return to_status(*result);
    }
    return to_status(child_->terminate(milliseconds::zero()));
  }

 private:
  static ExitStatus to_status(const CommandResult& r) { return ExitStatus{r.exit_code, r.signal}; }

  std::unique_ptr<ChildProcess> child_;
  int stop_signal_;
  std::mutex stop_mutex_;
};

std::unique_ptr<RunningNode> spawn_server(Context& context, const LaunchSpec& spec,
                                          std::vector<std::string> argv, const fs::path& cwd,
                                          int stop_signal) {
  CommandSpec command;
  command.argv = std::move(argv);
  command.cwd = cwd;
  command.env = spec.env;
  if (spec.on_line) {
    command.output = OutputMode::stream;
    command.on_line = spec.on_line;
  } else {
    command.output = OutputMode::discard;
  }
  return std::make_unique<HostServerNode>(context.commands().spawn(command), stop_signal);
}

// --- PostgreSQL -------------------------------------------------------------------------------

class PostgresHostRuntime final : public NodeRuntime {
 public:
  explicit PostgresHostRuntime(Database database) : database_(std::move(database)) {}
  std::string name() const override { return "postgres-host"; }

  std::unique_ptr<RunningNode> launch(Context& context, const LaunchSpec& spec) override {
    const int port = require_port(spec);
    const auto bin = postgres_bin_dir(context, database_);
    if (!bin) {
      throw Error(ErrorCode::command_not_found, "PostgreSQL server binaries are not installed",
                  "apt-get install postgresql, or use `runtime: container`");
    }
    const auto user = database_user(context);
    const fs::path data = place_data_dir(data_dir_of(context, spec), spec.run_key, user);
    if (!fs::exists(data / "PG_VERSION")) initialize(context, spec, *bin, data, user);
    make_private_dir(data, user);

    auto argv = as_user(user);
    argv.insert(argv.end(), {(*bin / "postgres").string(), "-D", data.string(), "-p",
                             std::to_string(port), "-c", "listen_addresses=127.0.0.1"});
    // The socket lives in the (private) data directory when its path fits; otherwise only TCP.
    const std::string socket = data.string() + "/.s.PGSQL." + std::to_string(port);
    argv.insert(argv.end(), {"-k", socket.size() <= kMaxSocketPath ? data.string() : ""});
    return spawn_server(context, spec, std::move(argv), data.parent_path(), SIGINT);
  }

 private:
  // initdb into a temporary directory, create the `devx` database in single-user mode, then
  // rename: a data directory either is complete or does not exist.
  void initialize(Context& context, const LaunchSpec& spec, const fs::path& bin,
                  const fs::path& data, const std::optional<DbUser>& user) {
    const fs::path tmp = data.string() + ".init";
    const fs::path pwfile = data.parent_path() / ("." + spec.name + ".pwfile");
    std::error_code ec;
    fs::remove_all(tmp, ec);
    make_private_dir(tmp, user);
    struct Cleanup {
      fs::path tmp, pwfile;
      ~Cleanup() {
        std::error_code ignored;
        fs::remove(pwfile, ignored);
        if (!tmp.empty()) fs::remove_all(tmp, ignored);
      }
    } cleanup{tmp, pwfile};

    write_private_file(pwfile, database_password(context, spec.run_key, database_) + "\n");
    if (user && ::chown(pwfile.c_str(), user->uid, user->gid) != 0) {
      throw Error(ErrorCode::io, "cannot chown " + pwfile.string() + ": " + std::strerror(errno));
    }

    CommandSpec initdb;
    initdb.argv = as_user(user);
    initdb.argv.insert(initdb.argv.end(),
                       {(bin / "initdb").string(), "-D", tmp.string(), "-U", "devx",
                        "--pwfile=" + pwfile.string(), "--auth-host=scram-sha-256",
                        "--auth-local=scram-sha-256", "--encoding=UTF8", "--locale=C"});
    initdb.cwd = data.parent_path();
    run_setup(context, initdb, "initdb");

    CommandSpec create;
    create.argv = as_user(user);
    create.argv.insert(create.argv.end(), {(bin / "postgres").string(), "--single", "-D",
                                           tmp.string(), "-c", "listen_addresses=", "postgres"});
    create.stdin_data = "CREATE DATABASE devx OWNER devx;\n";
    create.cwd = data.parent_path();
    run_setup(context, create, "creating the devx database");

    fs::rename(tmp, data, ec);
    if (ec) throw Error(ErrorCode::io, "cannot rename " + tmp.string() + ": " + ec.message());
    cleanup.tmp.clear();
  }

  Database database_;
};

// --- Redis ------------------------------------------------------------------------------------

class RedisHostRuntime final : public NodeRuntime {
 public:
  explicit RedisHostRuntime(Database database) : database_(std::move(database)) {}
  std::string name() const override { return "redis-host"; }

  std::unique_ptr<RunningNode> launch(Context& context, const LaunchSpec& spec) override {
    const int port = require_port(spec);
    const auto server = find_tool(context, "redis-server");
    if (!server) {
      throw Error(ErrorCode::command_not_found, "redis-server is not installed",
                  "apt-get install redis-server, or use `runtime: container`");
    }
    const auto user = database_user(context);
    const fs::path data = place_data_dir(data_dir_of(context, spec), spec.run_key, user);
    make_private_dir(data, user);
    auto argv = as_user(user);
    // No config file: everything is on the command line (nothing secret). Persistence through
    // the append-only file only; RDB snapshots are off.
    argv.insert(argv.end(),
                {server->string(), "--port", std::to_string(port), "--bind", "127.0.0.1",
                 "--protected-mode", "yes", "--dir", data.string(), "--save", "", "--appendonly",
                 "yes", "--daemonize", "no", "--logfile", ""});
    return spawn_server(context, spec, std::move(argv), data.parent_path(), SIGTERM);
  }

 private:
  Database database_;
};

bool executable(const fs::path& path) {
  return ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path);
}

}  // namespace

void remove_host_data_impl(const fs::path& path) {
  std::error_code ec;
  auto remove_link = [&](const fs::path& link) {
    const auto target = fs::read_symlink(link, ec);
    if (!ec && target.is_absolute() && under_host_data_root(target)) {
      fs::remove_all(target, ec);
      fs::remove_all(target.string() + ".init", ec);
      // The per-run directory goes when its last database does (remove() refuses non-empty).
      fs::remove(target.parent_path(), ec);
    }
    fs::remove(link, ec);
  };
  if (fs::is_symlink(path, ec)) {
    remove_link(path);
    return;
  }
  if (!fs::is_directory(path, ec)) return;
  // <run dir>/data: its entries may be links to relocated data directories.
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::error_code link_ec;
    if (entry.is_symlink(link_ec)) remove_link(entry.path());
  }
  ec.clear();
  fs::remove_all(path, ec);
  if (ec) throw Error(ErrorCode::io, "cannot remove " + path.string() + ": " + ec.message());
}

std::optional<fs::path> find_tool(const Context& context, std::string_view name) {
  const auto it = context.env().find("PATH");
  std::string_view rest = it != context.env().end()
                              ? std::string_view(it->second)
                              : std::string_view("/usr/local/bin:/usr/bin:/bin");
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    if (!dir.empty() && executable(fs::path(dir) / name)) return fs::path(dir) / name;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::optional<fs::path> postgres_bin_dir(const Context& context, const Database& database) {
  auto complete = [](const fs::path& dir) {
    return executable(dir / "initdb") && executable(dir / "postgres") &&
           executable(dir / "pg_isready");
  };
  const fs::path root = "/usr/lib/postgresql";
  if (!database.version.empty()) {
    // "15", "15.4", "16-alpine" → the major version's directory.
    std::string major;
    for (const char c : database.version) {
      if (c < '0' || c > '9') break;
      major.push_back(c);
    }
    if (!major.empty() && complete(root / major / "bin")) return root / major / "bin";
  }
  if (auto initdb = find_tool(context, "initdb")) {
    const auto dir = fs::canonical(*initdb).parent_path();
    if (complete(dir)) return dir;
  }
  std::error_code ec;
  std::optional<std::pair<int, fs::path>> best;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const int major = std::stoi(name);
    if (complete(entry.path() / "bin") && (!best || major > best->first)) {
      best = std::make_pair(major, entry.path() / "bin");
    }
  }
  if (best) return best->second;
  return std::nullopt;
}

std::shared_ptr<NodeRuntime> make_postgres_host_runtime(const Database& database) {
  return std::make_shared<PostgresHostRuntime>(database);
}

std::shared_ptr<NodeRuntime> make_redis_host_runtime(const Database& database) {
  return std::make_shared<RedisHostRuntime>(database);
}

}  // namespace detail

void remove_host_data(const std::filesystem::path& path) { detail::remove_host_data_impl(path); }

}  // namespace devx::runtime
