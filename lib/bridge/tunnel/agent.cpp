#include "bridge/tunnel/agent.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "bridge/tunnel/handshake.hpp"
#include "bridge/tunnel/health_server.hpp"
#include "bridge/tunnel/protocol.hpp"
#include "bridge/tunnel/socket.hpp"
#include "bridge/tunnel/workers.hpp"

namespace devx::bridge::tunnel {
namespace {

struct Listener {
  PortMapping mapping;  // listen_port is the bound port
  Fd fd;
};

// A cluster connection waiting for a session to come up.
struct Pending {
  Fd fd;
  StreamHeader header;
  Clock::time_point deadline;
};

Fd make_eventfd() {
  Fd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) throw TunnelError(TunnelError::Kind::io, "eventfd failed");
  return fd;
}

void signal_event(int fd) {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
}

void drain_event(int fd) {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(fd, &value, sizeof value);
}

int poll_timeout(std::optional<Clock::time_point> deadline) {
  if (!deadline) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1 << 30));
}

}  // namespace

struct Agent::State {
  explicit State(AgentConfig c)
      : config(std::move(c)),
        handshakes(config.max_handshakes),
        relays(config.max_connections),
        wake(make_eventfd()),
        stop_event(make_eventfd()) {}

  void log(const std::string& line) {
    if (!config.on_log) return;
    std::lock_guard lock(log_mutex);
    config.on_log(line);
  }

  void run();
  void on_control_connection();
  void authenticate(int fd);
  void install(std::shared_ptr<yamux::Session> session);
  void on_inbound(Listener& listener);
  void relay(std::shared_ptr<yamux::Session> session, Fd connection, const StreamHeader& header);
  void on_session_closed(const std::shared_ptr<yamux::Session>& watched);
  void flush_pending(const std::shared_ptr<yamux::Session>& session);
  void expire_pending();
  std::optional<Clock::time_point> next_deadline();

  AgentConfig config;
  std::mutex log_mutex;

  Fd control;
  std::vector<Listener> listeners;
  std::unique_ptr<HealthServer> health;
  std::uint16_t control_port = 0;

  Workers handshakes;
  Workers relays;
  Fd wake;        // the event loop re-reads the session (drained)
  Fd stop_event;  // stop requested (never drained)
  std::thread loop;

  mutable std::mutex mutex;
  std::shared_ptr<yamux::Session> session;  // the authenticated one, if any
  std::uint64_t sessions = 0;
  bool stopping = false;

  // Event loop thread only.
  std::deque<Pending> pending;
  Clock::time_point unattended_since = Clock::now();  // no session since then
  bool expired = false;

  // How long the agent may go without a session before it expires.
  std::chrono::milliseconds unattended_limit() {
    std::lock_guard lock(mutex);
    return sessions == 0 ? std::max(config.grace, config.first_session_timeout) : config.grace;
  }
};

Agent::Agent(AgentConfig config) : state_(std::make_unique<State>(std::move(config))) {
  auto& s = *state_;
  if (s.config.token.empty()) throw TunnelError(TunnelError::Kind::bad_token, "empty token");
  if (s.config.ports.empty()) throw TunnelError(TunnelError::Kind::io, "no ports to listen on");
  s.control = listen_tcp(s.config.control_bind, s.config.control_port);
  s.control_port = local_port(s.control.get());
  for (const auto& mapping : s.config.ports) {
    auto fd = listen_tcp(s.config.listen_bind, mapping.listen_port, 1024);
    const auto port = local_port(fd.get());
    s.listeners.push_back({{mapping.service_port, port}, std::move(fd)});
  }
  auto* raw = state_.get();
  s.health =
      std::make_unique<HealthServer>(listen_tcp(s.config.health_bind, s.config.health_port), [raw] {
        std::lock_guard lock(raw->mutex);
        return raw->session && !raw->session->closed();
      });
  s.log("agent listening: control " + s.config.control_bind + ":" + std::to_string(s.control_port) +
        ", health :" + std::to_string(s.health->port()));
  s.loop = std::thread([raw] { raw->run(); });
}

Agent::~Agent() { stop(); }

void Agent::stop() {
  auto& s = *state_;
  std::shared_ptr<yamux::Session> session;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopping) return;
    s.stopping = true;
    session = std::move(s.session);
  }
  signal_event(s.stop_event.get());
  if (s.loop.joinable()) s.loop.join();
  // Closing the session ends every stream, so the relays' splices return.
  if (session) session->close();
  s.handshakes.join_all();
  s.relays.join_all();
  s.health->stop();
}

bool Agent::ready() const {
  std::lock_guard lock(state_->mutex);
  return state_->session && !state_->session->closed();
}

std::uint64_t Agent::sessions_started() const {
  std::lock_guard lock(state_->mutex);
  return state_->sessions;
}

std::uint16_t Agent::control_port() const { return state_->control_port; }

std::uint16_t Agent::health_port() const { return state_->health->port(); }

std::uint16_t Agent::listen_port(std::uint16_t service_port) const {
  for (const auto& listener : state_->listeners) {
    if (listener.mapping.service_port == service_port) return listener.mapping.listen_port;
  }
  return 0;
}

void Agent::State::run() {
  for (;;) {
    std::shared_ptr<yamux::Session> watched;
    {
      std::lock_guard lock(mutex);
      watched = session;
    }
    if (watched) flush_pending(watched);
    expire_pending();
    handshakes.reap();
    relays.reap();

    std::vector<pollfd> fds;
    fds.push_back({stop_event.get(), POLLIN, 0});
    fds.push_back({wake.get(), POLLIN, 0});
    fds.push_back({control.get(), POLLIN, 0});
    // The session's own close signal, so a lost client is noticed at once, not on the next
    // inbound request.
    fds.push_back({watched ? watched->closed_event_fd() : -1, POLLIN, 0});
    for (const auto& listener : listeners) fds.push_back({listener.fd.get(), POLLIN, 0});

    if (::poll(fds.data(), fds.size(), poll_timeout(next_deadline())) < 0) {
      if (errno == EINTR) continue;
      log("poll failed; the agent stops serving");
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents != 0) drain_event(wake.get());
    if (fds[2].revents != 0) on_control_connection();
    if (fds[3].revents != 0) on_session_closed(watched);
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      if (fds[4 + i].revents != 0) on_inbound(listeners[i]);
    }

    const bool up = [&] {
      std::lock_guard lock(mutex);
      return session != nullptr;
    }();
    if (!up && !expired && Clock::now() >= unattended_since + unattended_limit()) {
      expired = true;
      log("no authenticated tunnel session for the grace period; expiring");
      if (config.on_expired) config.on_expired();
    }
  }
}

std::optional<Clock::time_point> Agent::State::next_deadline() {
  std::optional<Clock::time_point> next;
  if (!pending.empty()) next = pending.front().deadline;
  bool up = false;
  {
    std::lock_guard lock(mutex);
    up = session != nullptr;
  }
  if (!up && !expired) {
    const auto grace_end = unattended_since + unattended_limit();
    next = next ? std::min(*next, grace_end) : grace_end;
  }
  return next;
}

void Agent::State::on_control_connection() {
  auto connection = accept_tcp(control.get());
  if (!connection) return;
  const int fd = connection.release();
  // Tracked so stop() interrupts a handshake in progress; the worker owns the socket until it
  // hands it to a Yamux session.
  if (!handshakes.track(fd)) {
    ::close(fd);
    return;
  }
  if (!handshakes.spawn([this, fd] { authenticate(fd); })) {
    log("too many control connections authenticating; closing one");
    handshakes.release_and_close(fd);
  }
}

void Agent::State::authenticate(int fd) {
  HandshakeOutcome outcome;
  try {
    outcome = server_handshake(fd, config.token, Clock::now() + config.handshake_timeout);
  } catch (const TunnelError& e) {
    outcome.reason = e.what();
  }
  if (!outcome.accepted) {
    log("control connection refused: " + outcome.reason);
    handshakes.release_and_close(fd);
    return;
  }
  // The socket belongs to the session from here; stop() closes the session instead.
  handshakes.untrack(fd);
  try {
    install(yamux::Session::start(fd, yamux::Role::server, config.yamux));
  } catch (const yamux::Error& e) {
    log(std::string("tunnel session failed to start: ") + e.what());
  }
}

void Agent::State::install(std::shared_ptr<yamux::Session> fresh) {
  std::shared_ptr<yamux::Session> previous;
  {
    std::lock_guard lock(mutex);
    if (stopping) {
      fresh->close();
      return;
    }
    previous = std::exchange(session, std::move(fresh));
    ++sessions;
  }
  if (previous) {
    // The client reconnected (its port-forward dropped): the newest authenticated one wins.
    previous->go_away();
    previous->close();
  }
  log("tunnel session authenticated" +
      std::string(previous ? " (replacing the previous session)" : ""));
  signal_event(wake.get());
}

void Agent::State::on_session_closed(const std::shared_ptr<yamux::Session>& watched) {
  {
    std::lock_guard lock(mutex);
    if (session != watched) return;  // replaced meanwhile; the new one is watched next round
    session.reset();
  }
  unattended_since = Clock::now();
  expired = false;
  log("tunnel session closed: " + watched->close_reason());
}

void Agent::State::on_inbound(Listener& listener) {
  StreamHeader header;
  auto connection = accept_tcp(listener.fd.get(), &header.peer);
  if (!connection) return;
  header.service_port = listener.mapping.service_port;
  header.target_port = listener.mapping.listen_port;
  std::shared_ptr<yamux::Session> current;
  {
    std::lock_guard lock(mutex);
    current = session;
  }
  if (current) {
    relay(std::move(current), std::move(connection), header);
  } else if (pending.size() < config.max_pending) {
    pending.push_back({std::move(connection), header, Clock::now() + config.pending_timeout});
  } else {
    log("no tunnel session and too many waiting connections; closing " + header.peer.to_string());
  }
}

void Agent::State::relay(std::shared_ptr<yamux::Session> current, Fd connection,
                         const StreamHeader& header) {
  const int fd = connection.release();
  if (!relays.track(fd)) {
    ::close(fd);
    return;
  }
  auto work = [this, fd, header, current = std::move(current)] {
    try {
      auto stream = current->open();
      const auto bytes = encode_stream_header(header);
      stream->write(bytes.data(), bytes.size());
      yamux::splice(*stream, fd);
    } catch (const yamux::Error& e) {
      log("connection from " + header.peer.to_string() + " not relayed: " + e.what());
    }
    relays.release_and_close(fd);
  };
  if (!relays.spawn(std::move(work))) {
    log("too many relayed connections; closing " + header.peer.to_string());
    relays.release_and_close(fd);
  }
}

void Agent::State::flush_pending(const std::shared_ptr<yamux::Session>& current) {
  while (!pending.empty()) {
    auto waiting = std::move(pending.front());
    pending.pop_front();
    relay(current, std::move(waiting.fd), waiting.header);
  }
}

void Agent::State::expire_pending() {
  const auto now = Clock::now();
  while (!pending.empty() && pending.front().deadline <= now) {
    log("no tunnel session in time; closing connection from " +
        pending.front().header.peer.to_string());
    pending.pop_front();
  }
}

}  // namespace devx::bridge::tunnel
