#pragma once
// The Asio side of net::EventLoop, for the few translation units that run servers on it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string>

#include "webhook/loopback_server.hpp"

namespace devx::net {

struct EventLoop::Impl {
  boost::asio::io_context io{1};
};

// A listening acceptor on `address`:`port`. Error(invalid_argument) for a bad address,
// Error(port_in_use) when the port is taken, Error(io) for other socket failures.
boost::asio::ip::tcp::acceptor listen_on(boost::asio::io_context& io, const std::string& address,
                                         int port);

}  // namespace devx::net
