#pragma once
// Umbrella header of the libdevx C++ API.
#include <devx/clock.hpp>
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/events.hpp>
#include <devx/http.hpp>
#include <devx/ports.hpp>
#include <devx/process.hpp>
#include <devx/state.hpp>
#include <devx/topology.hpp>
#include <devx/version.hpp>

#include <string_view>

namespace devx {
DEVX_API std::string_view version() noexcept;
DEVX_API int abi_version() noexcept;
}  // namespace devx
