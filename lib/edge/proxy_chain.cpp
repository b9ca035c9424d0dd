// A proxy chain: its listeners, its thread (an Operation running one io_context) and its handle.
#include <devx/edge.hpp>
#include <devx/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>

#include <algorithm>
#include <mutex>

#include "core/json.hpp"
#include "edge/proxy_layer.hpp"

namespace devx {

namespace edge {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

tcp::acceptor listen_on(asio::io_context& io, const std::string& address, int port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec)
    throw Error(ErrorCode::invalid_argument,
                "bind address \"" + address + "\" is not an IP address");
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    const std::string where = address + ":" + std::to_string(port);
    if (ec == asio::error::address_in_use) {
      throw Error(ErrorCode::port_in_use, "cannot listen on " + where + ": the port is taken",
                  "choose another port, or 0 for any free one");
    }
    throw Error(ErrorCode::io, "cannot listen on " + where + ": " + ec.message());
  }
  return acceptor;
}

tcp::endpoint loopback(int port) {
  return tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port));
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ChainSink& sink,
                                  const std::function<void(tcp::socket)>& serve) {
  using namespace std::chrono_literals;
  constexpr auto first_pause = 5ms;
  constexpr auto longest_pause = 1000ms;
  auto pause = first_pause;
  asio::steady_timer timer(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
    if (!ec) {
      pause = first_pause;
      serve(std::move(socket));
      continue;
    }
    // EMFILE, ENOBUFS, ECONNABORTED …: the listener stays usable, so wait and try again.
    const auto count = ++sink.stats->accept_errors;
    if (sink.emit && (count & (count - 1)) == 0) {  // 1st, 2nd, 4th, 8th … failure
      Event event;
      event.type = EventType::warning;
      event.source = "edge";
      event.level = LogLevel::warn;
      event.message = "accepting a connection failed (" + ec.message() + "); retrying";
      sink.emit(std::move(event));
    }
    timer.expires_after(pause);
    co_await timer.async_wait(use_tuple);
    pause = std::min<std::chrono::milliseconds>(pause * 2, longest_pause);
  }
}

}  // namespace edge

namespace {

// The io_context and the layers: created by start_edge_proxy, then owned by the chain's thread,
// which destroys them (layers first) when it stops.
struct Runtime {
  boost::asio::io_context io{1};
  std::vector<std::shared_ptr<edge::Layer>> layers;  // client side first
};

}  // namespace

struct EdgeProxy::Impl {
  std::optional<Operation> operation;
  std::string host;
  int port = 0;
  int target_port = 0;
  std::string session;
  std::string capture_dir;
  boost::json::array layers;
  std::shared_ptr<edge::ChainSink> sink;
  std::once_flag stopped;
};

EdgeProxy::EdgeProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EdgeProxy::EdgeProxy(EdgeProxy&&) noexcept = default;
EdgeProxy& EdgeProxy::operator=(EdgeProxy&& other) noexcept {
  if (this != &other) {
    if (impl_) stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
EdgeProxy::~EdgeProxy() {
  if (impl_) stop();
}

int EdgeProxy::port() const noexcept { return impl_->port; }

std::string EdgeProxy::url() const {
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" +
         std::to_string(impl_->port);
}

const std::string& EdgeProxy::session() const noexcept { return impl_->session; }

std::string EdgeProxy::status() const {
  boost::json::object out;
  out["v"] = 1;
  out["listen"] = boost::json::object{{"host", impl_->host}, {"port", impl_->port}};
  out["target"] = boost::json::object{{"host", "127.0.0.1"}, {"port", impl_->target_port}};
  out["layers"] = impl_->layers;
  if (!impl_->session.empty()) {
    out["session"] = impl_->session;
    out["capture_dir"] = impl_->capture_dir;
  }
  out["stats"] = impl_->sink ? impl_->sink->stats->to_json() : edge::ProxyStats{}.to_json();
  return core::to_json_string(out);
}

Operation& EdgeProxy::operation() noexcept { return *impl_->operation; }

void EdgeProxy::stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->operation->cancel();
    impl_->operation->wait();
  });
}

EdgeProxy start_edge_proxy(Context& context, EdgeProxyOptions options) {
  edge::validate_options(options);
  auto impl = std::make_unique<EdgeProxy::Impl>();
  impl->host = options.bind;
  impl->target_port = options.target_port;
  if (context.dry_run()) {
    std::string plan = edge_proxy_plan(context, options);
    impl->operation.emplace(
        context.start("edge.proxy", [plan = std::move(plan)](OperationScope&) { return plan; }));
    return EdgeProxy(std::move(impl));
  }

  auto runtime = std::make_shared<Runtime>();
  auto sink = std::make_shared<edge::ChainSink>();
  const bool http = options.basic_auth.has_value() || options.inspect;
  const bool throttled = !options.throttle.empty();
  // Built from the target outwards; only the outermost listener takes the caller's address.
  // A session directory made for a chain that then cannot listen is removed again.
  std::filesystem::path created_dir;
  try {
    int next_port = options.target_port;
    if (http) {
      edge::HttpLayerOptions http_options;
      http_options.basic_auth = options.basic_auth;
      if (options.inspect) {
        impl->session = options.inspect_options.session.empty()
                            ? edge::default_session_name(context.clock().now(), options.target_port)
                            : options.inspect_options.session;
        const auto dir = context.home() / "inspect" / impl->session;
        if (!std::filesystem::exists(dir)) created_dir = dir;
        impl->capture_dir = dir.string();
        http_options.capture = std::make_shared<edge::CaptureWriter>(
            dir, impl->session, options.target_port, options.inspect_options.body_limit);
      }
      auto layer = edge::make_http_layer(runtime->io, throttled ? "127.0.0.1" : options.bind,
                                         throttled ? 0 : options.listen_port, next_port,
                                         std::move(http_options), sink);
      next_port = layer->port();
      runtime->layers.insert(runtime->layers.begin(), std::move(layer));
    }
    if (throttled || !http) {
      std::optional<ThrottleProfile> profile;
      if (throttled) profile = throttle_profile(options.throttle);
      auto layer = edge::make_tcp_layer(runtime->io, options.bind, options.listen_port, next_port,
                                        profile, sink);
      runtime->layers.insert(runtime->layers.begin(), std::move(layer));
    }
  } catch (...) {
    std::error_code ignored;
    if (!created_dir.empty()) std::filesystem::remove_all(created_dir, ignored);
    throw;
  }
  impl->port = runtime->layers.front()->port();
  for (const auto& layer : runtime->layers) impl->layers.push_back(layer->describe());
  impl->sink = sink;

  boost::json::object listening;
  listening["state"] = "listening";
  listening["host"] = impl->host;
  listening["port"] = impl->port;
  listening["target_port"] = impl->target_port;
  listening["layers"] = impl->layers;
  if (!impl->session.empty()) listening["session"] = impl->session;
  std::string listening_json = core::to_json_string(listening);
  std::string message = "listening on " + impl->host + ":" + std::to_string(impl->port) +
                        " for 127.0.0.1:" + std::to_string(impl->target_port);

  impl->operation.emplace(context.start(
      "edge.proxy", [runtime = std::move(runtime), sink, listening_json = std::move(listening_json),
                     message = std::move(message)](OperationScope& scope) mutable {
        sink->emit = [&scope](Event event) { scope.emit(std::move(event)); };
        {
          std::stop_callback on_cancel(scope.stop_token(), [&runtime] { runtime->io.stop(); });
          for (const auto& layer : runtime->layers) layer->start();
          Event event;
          event.type = EventType::state;
          event.source = "edge";
          event.message = message;
          event.data_json = listening_json;
          scope.emit(std::move(event));
          runtime->io.run();
        }
        // Connections end here: the layers go first, then the io_context destroys every
        // suspended coroutine (closing its sockets).
        runtime->layers.clear();
        runtime.reset();
        sink->emit = nullptr;
        boost::json::object result;
        result["v"] = 1;
        result["stats"] = sink->stats->to_json();
        return core::to_json_string(result);
      }));
  return EdgeProxy(std::move(impl));
}

}  // namespace devx
