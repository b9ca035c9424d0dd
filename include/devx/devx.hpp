#pragma once
// Umbrella header of the libdevx C++ API.
#include <devx/bridge.hpp>
#include <devx/clock.hpp>
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/doctor.hpp>
#include <devx/edge.hpp>
#include <devx/error.hpp>
#include <devx/event_queue.hpp>
#include <devx/events.hpp>
#include <devx/http.hpp>
#include <devx/ignition.hpp>
#include <devx/mail.hpp>
#include <devx/mesh.hpp>
#include <devx/nuke.hpp>
#include <devx/orchestrator.hpp>
#include <devx/ports.hpp>
#include <devx/process.hpp>
#include <devx/sites.hpp>
#include <devx/state.hpp>
#include <devx/supervisor.hpp>
#include <devx/topology.hpp>
#include <devx/tunnel.hpp>
#include <devx/version.hpp>
#include <devx/vm.hpp>
#include <devx/webhook.hpp>

#include <string_view>

namespace devx {
DEVX_API std::string_view version() noexcept;
DEVX_API int abi_version() noexcept;
}  // namespace devx
