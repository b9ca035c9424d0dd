#pragma once
// Internal to the `devx._devx` extension: the pieces module.cpp assembles.
#include <devx/context.hpp>
#include <devx/process.hpp>

#include <pybind11/pybind11.h>

namespace devx::python {

// Command output is bytes from another machine: undecodable bytes become U+FFFD instead of
// failing the whole call.
pybind11::str lenient_str(const std::string& text);

// {"exit_code","signal","timed_out","cancelled","out","err"} of a command run in the VM.
pybind11::dict command_result_dict(const CommandResult& result);

// Binds the configuration model (Project, Service, Diagnostic, …) and its renderers.
void bind_config_types(pybind11::module_& m);

// The Kubernetes bridge (bridge.cpp): `context_of` finds the Context of a Python context object,
// `adopt` wraps an Operation in the module's Python operation class.
void bind_bridge(pybind11::module_& m, Context& (*context_of)(pybind11::handle),
                 pybind11::object (*adopt)(pybind11::handle, Operation));

// Butane/Ignition, the dev VM, doctor and nuke (vm.cpp), with the same two hooks as bind_bridge.
void bind_machine(pybind11::module_& m, Context& (*context_of)(pybind11::handle),
                  pybind11::object (*adopt)(pybind11::handle, Operation));

// Tunnels, edge proxies, mesh, sites, webhooks and mail (net.cpp), with the same two hooks.
void bind_net(pybind11::module_& m, Context& (*context_of)(pybind11::handle),
              pybind11::object (*adopt)(pybind11::handle, Operation));

}  // namespace devx::python
