// The Kubernetes bridge (include/devx/bridge.hpp) in `devx._devx`. Options arrive as dicts with the
// keys of the C ABI's documents (docs/schemas/bridge-*-options.schema.json) and are translated
// into the C++ option structs as strictly as the C ABI decodes them: an unknown key or a wrong
// type is an invalid_argument error naming the field by its path ("targets[1].port"). Every rule
// beyond that is the library's.
#include <devx/bridge.hpp>
#include <devx/error.hpp>

#include <pybind11/chrono.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "bindings.hpp"

namespace py = pybind11;

namespace devx::python {
namespace {

Error invalid_argument(std::string message, std::string hint = {}) {
  return Error(ErrorCode::invalid_argument, std::move(message), std::move(hint));
}

std::string type_name(py::handle value) {
  return py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>();
}

[[noreturn]] void wrong_type(std::string_view what, const std::string& path,
                             std::string_view expected, py::handle value) {
  throw invalid_argument(std::string(what) + ": \"" + path + "\" must be " + std::string(expected) +
                         ", not " + type_name(value));
}

// The entries of a dict option; every key must be one of `allowed` (comma-separated).
template <typename F>
void for_each_field(std::string_view what, const std::string& path, py::handle value,
                    std::string_view allowed, F&& field) {
  if (!py::isinstance<py::dict>(value)) wrong_type(what, path, "a dict", value);
  for (const auto& item : py::reinterpret_borrow<py::dict>(value)) {
    const py::handle key = item.first;
    const py::handle entry = item.second;
    if (!py::isinstance<py::str>(key)) wrong_type(what, path + " keys", "str", key);
    const auto name = py::cast<std::string>(key);
    const auto full = path.empty() ? name : path + "." + name;
    if (!field(name, full, entry)) {
      throw invalid_argument(std::string(what) + ": unknown key \"" + full + "\"",
                             "allowed keys: " + std::string(allowed));
    }
  }
}

std::string as_string(std::string_view what, const std::string& path, py::handle value) {
  if (!py::isinstance<py::str>(value)) wrong_type(what, path, "a str", value);
  return value.cast<std::string>();
}

int as_int(std::string_view what, const std::string& path, py::handle value) {
  // bool is an int subclass in Python; True is not a port.
  if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value)) {
    wrong_type(what, path, "an int", value);
  }
  try {
    return value.cast<int>();
  } catch (const py::cast_error&) {
    throw invalid_argument(std::string(what) + ": \"" + path + "\" is out of range");
  }
}

bool as_bool(std::string_view what, const std::string& path, py::handle value) {
  if (!py::isinstance<py::bool_>(value)) wrong_type(what, path, "a bool", value);
  return value.cast<bool>();
}

template <typename F>
void for_each_item(std::string_view what, const std::string& path, py::handle value, F&& item) {
  if (!py::isinstance<py::list>(value) && !py::isinstance<py::tuple>(value)) {
    wrong_type(what, path, "a list", value);
  }
  std::size_t index = 0;
  for (auto entry : value) {
    item(path + "[" + std::to_string(index++) + "]", entry);
  }
}

KubeSettings to_kube(std::string_view what, const std::string& path, py::handle value) {
  KubeSettings kube;
  for_each_field(what, path, value, "kubeconfig, context, kubectl",
                 [&](const std::string& name, const std::string& full, py::handle entry) {
                   if (name == "kubeconfig") {
                     kube.kubeconfig = as_string(what, full, entry);
                   } else if (name == "context") {
                     kube.context = as_string(what, full, entry);
                   } else if (name == "kubectl") {
                     kube.kubectl = as_string(what, full, entry);
                   } else {
                     return false;
                   }
                   return true;
                 });
  return kube;
}

BridgeTargetSpec to_target(std::string_view what, const std::string& path, py::handle value) {
  BridgeTargetSpec target;
  for_each_field(what, path, value, "service, namespace, port, local_port",
                 [&](const std::string& name, const std::string& full, py::handle entry) {
                   if (name == "service") {
                     target.service = as_string(what, full, entry);
                   } else if (name == "namespace") {
                     target.namespace_ = as_string(what, full, entry);
                   } else if (name == "port") {
                     target.port = as_int(what, full, entry);
                   } else if (name == "local_port") {
                     target.local_port = as_int(what, full, entry);
                   } else {
                     return false;
                   }
                   return true;
                 });
  return target;
}

BridgePortMapping to_port(std::string_view what, const std::string& path, py::handle value) {
  BridgePortMapping mapping;
  for_each_field(what, path, value, "remote, local",
                 [&](const std::string& name, const std::string& full, py::handle entry) {
                   if (name == "remote") {
                     mapping.remote = as_int(what, full, entry);
                   } else if (name == "local") {
                     mapping.local = as_int(what, full, entry);
                   } else {
                     return false;
                   }
                   return true;
                 });
  return mapping;
}

BridgeConnectOptions to_connect_options(const py::dict& options) {
  constexpr std::string_view what = "bridge connect options";
  BridgeConnectOptions out;
  for_each_field(what, "", options, "kube, namespace, targets, origin",
                 [&](const std::string& name, const std::string& full, py::handle entry) {
                   if (name == "kube") {
                     out.kube = to_kube(what, full, entry);
                   } else if (name == "namespace") {
                     out.namespace_ = as_string(what, full, entry);
                   } else if (name == "targets") {
                     for_each_item(what, full, entry, [&](const std::string& path, py::handle t) {
                       out.targets.push_back(to_target(what, path, t));
                     });
                   } else if (name == "origin") {
                     out.origin = as_string(what, full, entry);
                   } else {
                     return false;
                   }
                   return true;
                 });
  return out;
}

BridgeInterceptOptions to_intercept_options(const py::dict& options) {
  constexpr std::string_view what = "bridge intercept options";
  BridgeInterceptOptions out;
  for_each_field(what, "", options,
                 "kube, service, namespace, ports, agent_image, ready_timeout_s, grace_s, "
                 "keepalive_interval_ms, keepalive_timeout_ms, origin",
                 [&](const std::string& name, const std::string& full, py::handle entry) {
                   if (name == "kube") {
                     out.kube = to_kube(what, full, entry);
                   } else if (name == "service") {
                     out.service = as_string(what, full, entry);
                   } else if (name == "namespace") {
                     out.namespace_ = as_string(what, full, entry);
                   } else if (name == "ports") {
                     for_each_item(what, full, entry, [&](const std::string& path, py::handle p) {
                       out.ports.push_back(to_port(what, path, p));
                     });
                   } else if (name == "agent_image") {
                     out.agent_image = as_string(what, full, entry);
                   } else if (name == "ready_timeout_s") {
                     out.ready_timeout = std::chrono::seconds(as_int(what, full, entry));
                   } else if (name == "grace_s") {
                     out.grace = std::chrono::seconds(as_int(what, full, entry));
                   } else if (name == "keepalive_interval_ms") {
                     out.keepalive_interval = std::chrono::milliseconds(as_int(what, full, entry));
                   } else if (name == "keepalive_timeout_ms") {
                     out.keepalive_timeout = std::chrono::milliseconds(as_int(what, full, entry));
                   } else if (name == "origin") {
                     out.origin = as_string(what, full, entry);
                   } else {
                     return false;
                   }
                   return true;
                 });
  return out;
}

BridgeDoctorOptions to_doctor_options(const py::dict& options) {
  constexpr std::string_view what = "bridge doctor options";
  BridgeDoctorOptions out;
  for_each_field(what, "", options, "kube, namespace, repair",
                 [&](const std::string& name, const std::string& full, py::handle entry) {
                   if (name == "kube") {
                     out.kube = to_kube(what, full, entry);
                   } else if (name == "namespace") {
                     out.namespace_ = as_string(what, full, entry);
                   } else if (name == "repair") {
                     out.repair = as_bool(what, full, entry);
                   } else {
                     return false;
                   }
                   return true;
                 });
  return out;
}

// `name(context, options)`: converts the dict (with the GIL), starts the operation without it.
template <typename Options>
void def_start(py::module_& m, const char* name, Context& (*context_of)(py::handle),
               py::object (*adopt)(py::handle, Operation), Options (*convert)(const py::dict&),
               Operation (*start)(Context&, Options)) {
  m.def(
      name,
      [context_of, adopt, convert, start](py::handle context, const py::dict& options) {
        auto converted = convert(options);
        auto& ctx = context_of(context);
        std::optional<Operation> op;
        {
          py::gil_scoped_release release;
          op.emplace(start(ctx, std::move(converted)));
        }
        return adopt(context, std::move(*op));
      },
      py::arg("context"), py::arg("options"));
}

}  // namespace

// Registered by module.cpp, which owns the Context and Operation wrappers: `context_of` gives the
// devx::Context of a _devx.Context, `adopt` wraps an Operation of it as a _devx.Operation.
void bind_bridge(py::module_& m, Context& (*context_of)(py::handle),
                 py::object (*adopt)(py::handle, Operation)) {
  def_start(m, "bridge_connect", context_of, adopt, &to_connect_options, &start_bridge_connect);
  def_start(m, "bridge_intercept", context_of, adopt, &to_intercept_options,
            &start_bridge_intercept);
  def_start(m, "bridge_doctor", context_of, adopt, &to_doctor_options, &start_bridge_doctor);
  m.def(
      "bridge_status",
      [context_of](py::handle context) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return bridge_status(ctx);
      },
      py::arg("context"));
  m.def(
      "bridge_disconnect",
      [context_of](py::handle context, const std::string& session_id,
                   std::optional<std::chrono::milliseconds> wait) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return wait ? bridge_disconnect(ctx, session_id, *wait)
                    : bridge_disconnect(ctx, session_id);
      },
      py::arg("context"), py::arg("session_id") = "", py::arg("wait") = py::none());
  m.def(
      "bridge_environment",
      [context_of](py::handle context) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return bridge_environment(ctx);
      },
      py::arg("context"));
  m.def("bridge_rbac_yaml", &bridge_rbac_yaml, py::arg("namespace") = "");
  m.def("bridge_env_prefix", &bridge_env_prefix, py::arg("service"), py::arg("namespace") = "",
        py::arg("with_namespace") = false);
}

}  // namespace devx::python
