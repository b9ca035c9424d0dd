#pragma once
// Internal to the `devx._devx` extension: the pieces module.cpp assembles.
#include <pybind11/pybind11.h>

namespace devx::python {

// Binds the configuration model (Project, Service, Diagnostic, …) and its renderers.
void bind_config_types(pybind11::module_& m);

}  // namespace devx::python
