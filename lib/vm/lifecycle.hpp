#pragma once
// Shared pieces of the VM lifecycle functions.
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <boost/json/object.hpp>

#include <stop_token>
#include <string>

#include "vm/resolve.hpp"

namespace devx::vm {

// Error(not_found) for the resolved VM, naming the VMs that do exist (the provider's and the
// recorded ones).
Error vm_not_found(Context& context, const ResolvedVm& resolved);

boost::json::object target_json(const VmTarget& target);

// vm_sleep on an already resolved VM (the sleep watcher resolves once).
std::string sleep_resolved(Context& context, const ResolvedVm& resolved, std::stop_token stop);

}  // namespace devx::vm
