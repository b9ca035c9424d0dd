#pragma once
// Local port allocation. A reservation holds a bound (not listening) socket on the port until
// released, so two allocations in one process never hand out the same port.
#include <devx/export.hpp>

#include <cstdint>
#include <memory>

namespace devx {

class DEVX_API PortReservation {
 public:
  PortReservation() = default;
  PortReservation(std::uint16_t port, int fd) : port_(port), fd_(fd) {}
  PortReservation(PortReservation&& other) noexcept;
  PortReservation& operator=(PortReservation&& other) noexcept;
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;
  ~PortReservation();

  std::uint16_t port() const noexcept { return port_; }
  // Closes the held socket so the service can bind the port.
  void release() noexcept;

 private:
  std::uint16_t port_ = 0;
  int fd_ = -1;
};

class DEVX_API PortAllocator {
 public:
  virtual ~PortAllocator() = default;
  // True when nothing listens on or is bound to the port on 127.0.0.1, 0.0.0.0 and ::1.
  virtual bool is_free(std::uint16_t port) = 0;
  // The requested port if free, else the next free one up to `max_shift` above it;
  // Error(port_in_use) when none is. Port 0 asks for any free port.
  virtual PortReservation reserve(std::uint16_t preferred, std::uint16_t max_shift = 100) = 0;
};

DEVX_API std::shared_ptr<PortAllocator> make_system_port_allocator();

}  // namespace devx
