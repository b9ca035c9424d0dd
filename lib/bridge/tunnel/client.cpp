#include "bridge/tunnel/client.hpp"

#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "bridge/tunnel/handshake.hpp"
#include "bridge/tunnel/socket.hpp"
#include "bridge/tunnel/traffic.hpp"
#include "bridge/tunnel/workers.hpp"

namespace devx::bridge::tunnel {

struct TunnelClient::State {
  explicit State(TunnelClientConfig c) : config(std::move(c)), relays(config.max_streams) {}

  void emit(const StreamEvent& event) {
    if (!config.on_stream) return;
    std::lock_guard lock(callback_mutex);
    config.on_stream(event);
  }

  void accept_loop();
  void serve(const std::shared_ptr<yamux::Stream>& stream);

  TunnelClientConfig config;
  std::shared_ptr<yamux::Session> session;
  Workers relays;
  std::mutex callback_mutex;
  std::thread acceptor;
};

namespace {

// Byte by byte: what follows the header is the cluster client's data, which belongs to the relay.
Decoded<StreamHeader> read_header(yamux::Stream& stream) {
  std::vector<std::uint8_t> buffer;
  for (;;) {
    auto decoded = decode_stream_header(buffer);
    if (decoded.error != DecodeError::incomplete) return decoded;
    std::uint8_t byte = 0;
    if (stream.read(&byte, 1) == 0) return decoded;
    buffer.push_back(byte);
  }
}

Fd dial_local(int port, std::chrono::milliseconds timeout, std::string& error) {
  // Local apps commonly bind either loopback family, not always both.
  for (const char* host : {"127.0.0.1", "::1"}) {
    try {
      return dial_tcp(host, static_cast<std::uint16_t>(port), timeout);
    } catch (const TunnelError& e) {
      error = e.what();
    }
  }
  return Fd();
}

}  // namespace

std::unique_ptr<TunnelClient> TunnelClient::connect(TunnelClientConfig config) {
  auto state = std::make_unique<State>(std::move(config));
  auto& c = state->config;
  auto fd = dial_tcp(c.host, c.port, c.connect_timeout);
  client_handshake(fd.get(), c.token, Clock::now() + c.handshake_timeout);
  try {
    state->session = yamux::Session::start(fd.release(), yamux::Role::client, c.yamux);
  } catch (const yamux::Error& e) {
    throw TunnelError(TunnelError::Kind::io, std::string("yamux session: ") + e.what());
  }
  auto* raw = state.get();
  state->acceptor = std::thread([raw] { raw->accept_loop(); });
  if (c.on_connected) c.on_connected();
  return std::unique_ptr<TunnelClient>(new TunnelClient(std::move(state)));
}

TunnelClient::TunnelClient(std::unique_ptr<State> state) : state_(std::move(state)) {}

TunnelClient::~TunnelClient() { close(); }

void TunnelClient::close() {
  state_->session->close();
  if (state_->acceptor.joinable()) state_->acceptor.join();
  state_->relays.join_all();
}

bool TunnelClient::closed() const { return state_->session->closed(); }

bool TunnelClient::wait_closed(std::chrono::milliseconds timeout) const {
  return state_->session->wait_closed(timeout);
}

std::string TunnelClient::close_reason() const { return state_->session->close_reason(); }

int TunnelClient::closed_event_fd() const { return state_->session->closed_event_fd(); }

std::optional<std::chrono::microseconds> TunnelClient::ping(std::chrono::milliseconds timeout) {
  try {
    return state_->session->ping(timeout);
  } catch (const yamux::Error&) {
    return std::nullopt;
  }
}

void TunnelClient::State::accept_loop() {
  while (auto stream = session->accept()) {
    relays.reap();
    if (!relays.spawn([this, stream] { serve(stream); })) {
      stream->reset();
      StreamEvent event;
      event.kind = StreamEvent::Kind::failed;
      event.stream_id = stream->id();
      event.detail = "too many streams relayed at once";
      emit(event);
    }
  }
  if (config.on_closed) {
    std::lock_guard lock(callback_mutex);
    config.on_closed(session->close_reason());
  }
}

void TunnelClient::State::serve(const std::shared_ptr<yamux::Stream>& stream) {
  StreamEvent event;
  event.stream_id = stream->id();
  auto refuse = [&](StreamEvent::Kind kind, std::string detail) {
    stream->reset();
    event.kind = kind;
    event.detail = std::move(detail);
    emit(event);
  };

  Decoded<StreamHeader> header;
  stream->set_read_timeout(config.header_timeout);
  try {
    header = read_header(*stream);
  } catch (const yamux::Error& e) {
    return refuse(StreamEvent::Kind::failed, std::string("reading the stream header: ") + e.what());
  }
  if (!header.ok()) {
    return refuse(StreamEvent::Kind::failed,
                  "bad stream header: " + std::string(to_string(header.error)));
  }
  stream->set_read_timeout(std::chrono::milliseconds(0));
  event.service_port = header.value.service_port;
  event.peer = header.value.peer.to_string();

  const auto mapped = config.port_map.find(header.value.service_port);
  if (mapped == config.port_map.end() || mapped->second <= 0 || mapped->second > 65535) {
    return refuse(StreamEvent::Kind::refused, "service port not mapped to a local port");
  }
  event.local_port = static_cast<std::uint16_t>(mapped->second);
  std::string error;
  auto local = dial_local(mapped->second, config.dial_timeout, error);
  if (!local) return refuse(StreamEvent::Kind::failed, error);

  const int fd = local.release();
  if (!relays.track(fd)) {  // closing
    ::close(fd);
    return refuse(StreamEvent::Kind::failed, "tunnel closing");
  }
  event.kind = StreamEvent::Kind::relaying;
  emit(event);
  yamux::splice(*stream, fd);
  const auto traffic = socket_traffic(fd);
  relays.release_and_close(fd);
  event.kind = StreamEvent::Kind::finished;
  event.bytes_to_local = traffic.sent;
  event.bytes_from_local = traffic.received;
  emit(event);
}

}  // namespace devx::bridge::tunnel
