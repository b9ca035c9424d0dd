// Tunnels, edge proxies and the inspector, the mesh, sites, the webhook catcher and the mail
// catcher (include/devx/{tunnel,edge,mesh,sites,webhook,mail}.hpp) in `devx._devx`.
// devx/__init__.py passes options as the JSON documents of the C ABI
// (docs/schemas/*-options.schema.json); they are decoded by the same decoders as the C ABI's
// (capi/net_options.hpp), so a mistake is named the same way in every layer. Results are the
// library's JSON documents, parsed by devx/__init__.py.
#include <devx/config.hpp>
#include <devx/edge.hpp>
#include <devx/mail.hpp>
#include <devx/mesh.hpp>
#include <devx/sites.hpp>
#include <devx/tunnel.hpp>
#include <devx/webhook.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../../../capi/net_options.hpp"
#include "bindings.hpp"

namespace py = pybind11;

namespace devx::python {
namespace {

using ContextOf = Context& (*)(py::handle);
using Adopt = py::object (*)(py::handle, Operation);

// A running proxy chain and the Python context it belongs to (kept alive as long as the chain).
struct EdgeProxyHandle {
  EdgeProxy proxy;
  py::object context;
};

// `name(context, options_json)` returning the library's document.
template <typename Call>
void def_document(py::module_& m, const char* name, ContextOf context_of, Call call) {
  m.def(
      name,
      [context_of, call](py::handle context, const std::string& options) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return call(ctx, options.c_str());
      },
      py::arg("context"), py::arg("options") = "");
}

// `name(context, options_json)` starting an operation.
template <typename Start>
void def_operation(py::module_& m, const char* name, ContextOf context_of, Adopt adopt,
                   Start start) {
  m.def(
      name,
      [context_of, adopt, start](py::handle context, const std::string& options) {
        auto& ctx = context_of(context);
        std::optional<Operation> op;
        {
          py::gil_scoped_release release;
          op.emplace(start(ctx, options.c_str()));
        }
        return adopt(context, std::move(*op));
      },
      py::arg("context"), py::arg("options") = "");
}

void bind_tunnel(py::module_& m, ContextOf context_of, Adopt adopt) {
  def_operation(m, "tunnel_expose", context_of, adopt, [](Context& ctx, const char* options) {
    return start_tunnel_expose(ctx, capi::parse_tunnel_expose_options(options));
  });
  def_document(m, "tunnel_unexpose", context_of, [](Context& ctx, const char* options) {
    return tunnel_unexpose(ctx, capi::parse_tunnel_unexpose_options(options));
  });
  m.def(
      "tunnel_status",
      [context_of](py::handle context) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return tunnel_status(ctx);
      },
      py::arg("context"));
  m.def(
      "tunnel_up",
      [context_of, adopt](py::handle context, std::shared_ptr<Project> project,
                          const std::string& options) {
        auto& ctx = context_of(context);
        auto decoded = capi::parse_tunnel_up_options(options.c_str());
        std::optional<Operation> op;
        {
          py::gil_scoped_release release;
          op.emplace(start_tunnel_up(ctx, *project, std::move(decoded)));
        }
        return adopt(context, std::move(*op));
      },
      py::arg("context"), py::arg("project"), py::arg("options") = "");
  m.def("tunnel_dns_label", &tunnel_dns_label, py::arg("name"));
  m.def(
      "tunnel_machine_id",
      [context_of](py::handle context) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return tunnel_machine_id(ctx);
      },
      py::arg("context"));
}

void bind_edge(py::module_& m, ContextOf context_of, Adopt adopt) {
  py::class_<EdgeProxyHandle>(m, "EdgeProxy")
      .def_property_readonly("port", [](const EdgeProxyHandle& h) { return h.proxy.port(); })
      .def_property_readonly("url", [](const EdgeProxyHandle& h) { return h.proxy.url(); })
      .def_property_readonly("session", [](const EdgeProxyHandle& h) { return h.proxy.session(); })
      .def("status", [](const EdgeProxyHandle& h) { return h.proxy.status(); })
      .def("operation",
           [adopt](EdgeProxyHandle& h) { return adopt(h.context, h.proxy.operation()); })
      .def(
          "stop", [](EdgeProxyHandle& h) { h.proxy.stop(); },
          py::call_guard<py::gil_scoped_release>());

  m.def(
      "edge_proxy_start",
      [context_of](py::handle context, const std::string& options) {
        auto& ctx = context_of(context);
        auto decoded = capi::parse_edge_proxy_options(options.c_str());
        std::optional<EdgeProxy> proxy;
        {
          py::gil_scoped_release release;
          proxy.emplace(start_edge_proxy(ctx, std::move(decoded)));
        }
        return std::make_unique<EdgeProxyHandle>(
            EdgeProxyHandle{std::move(*proxy), py::reinterpret_borrow<py::object>(context)});
      },
      py::arg("context"), py::arg("options") = "");
  def_document(m, "edge_proxy_plan", context_of, [](Context& ctx, const char* options) {
    return edge_proxy_plan(ctx, capi::parse_edge_proxy_options(options));
  });
  m.def(
      "throttle_profile",
      [](const std::string& name) {
        const auto profile = throttle_profile(name);
        py::dict result;
        result["name"] = profile.name;
        result["latency_us"] = profile.latency.count();
        result["jitter_us"] = profile.jitter.count();
        result["bytes_per_second"] = profile.bytes_per_second;
        return result;
      },
      py::arg("name"));
  m.def("throttle_profile_names", &throttle_profile_names);
  m.def(
      "inspect_sessions",
      [context_of](py::handle context) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return list_inspect_sessions(ctx);
      },
      py::arg("context"));
  m.def(
      "inspect_captures",
      [context_of](py::handle context, const std::string& session) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return list_captures(ctx, session);
      },
      py::arg("context"), py::arg("session") = "");
  m.def(
      "inspect_capture",
      [context_of](py::handle context, const std::string& session, const std::string& id) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return get_capture(ctx, session, id);
      },
      py::arg("context"), py::arg("session"), py::arg("id"));
  m.def(
      "inspect_replay",
      [context_of](py::handle context, const std::string& session, const std::string& id,
                   const std::string& options) {
        auto& ctx = context_of(context);
        const auto decoded = capi::parse_replay_options(options.c_str());
        py::gil_scoped_release release;
        return replay_capture(ctx, session, id, decoded);
      },
      py::arg("context"), py::arg("session"), py::arg("id"), py::arg("options") = "");
  m.def(
      "inspect_remove",
      [context_of](py::handle context, const std::string& session) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return remove_inspect_session(ctx, session);
      },
      py::arg("context"), py::arg("session"));
}

void bind_mesh(py::module_& m, ContextOf context_of, Adopt adopt) {
  def_operation(m, "mesh_join", context_of, adopt, [](Context& ctx, const char* options) {
    return start_mesh_join(ctx, capi::parse_mesh_join_options(options));
  });
  def_document(m, "mesh_status", context_of, [](Context& ctx, const char* options) {
    return mesh_status(ctx, capi::parse_net_vm_options(options, "mesh status options"));
  });
  def_document(m, "mesh_leave", context_of, [](Context& ctx, const char* options) {
    return mesh_leave(ctx, capi::parse_net_vm_options(options, "mesh leave options"));
  });
  m.def(
      "mesh_tailscale_argv",
      [context_of](py::handle context, const std::string& options,
                   const std::vector<std::string>& args) {
        auto& ctx = context_of(context);
        const auto vm = capi::parse_net_vm_options(options.c_str(), "mesh options");
        py::gil_scoped_release release;
        return mesh_tailscale_argv(ctx, vm, args);
      },
      py::arg("context"), py::arg("options"), py::arg("args"));
  m.def(
      "mesh_exec",
      [context_of](py::handle context, const std::string& options,
                   const std::vector<std::string>& args, std::optional<std::string> stdin_data) {
        auto& ctx = context_of(context);
        const auto vm = capi::parse_net_vm_options(options.c_str(), "mesh options");
        CommandResult result;
        {
          py::gil_scoped_release release;
          result = mesh_exec(ctx, vm, args, std::move(stdin_data));
        }
        return command_result_dict(result);
      },
      py::arg("context"), py::arg("options"), py::arg("args"), py::arg("stdin") = py::none());
}

void bind_sites(py::module_& m, ContextOf context_of) {
  def_document(m, "sites_init", context_of, [](Context& ctx, const char* options) {
    return sites_init(ctx, capi::parse_sites_init_options(options));
  });
  def_document(m, "sites_verify", context_of, [](Context& ctx, const char* options) {
    return sites_verify(ctx, capi::parse_sites_verify_options(options));
  });
  def_document(m, "sites_status", context_of, [](Context& ctx, const char* options) {
    return sites_status(ctx, capi::parse_sites_options(options));
  });
}

void bind_webhook(py::module_& m, ContextOf context_of, Adopt adopt) {
  def_operation(m, "webhook_catch", context_of, adopt, [](Context& ctx, const char* options) {
    return start_webhook_catch(ctx, capi::parse_webhook_catch_options(options));
  });
  m.def(
      "webhook_list",
      [context_of](py::handle context, const std::string& session) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return webhook_list(ctx, session);
      },
      py::arg("context"), py::arg("session") = "");
  m.def(
      "webhook_replay",
      [context_of](py::handle context, const std::string& id, const std::string& to_url) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return webhook_replay(ctx, id, to_url);
      },
      py::arg("context"), py::arg("id"), py::arg("to_url"));
}

void bind_mail(py::module_& m, ContextOf context_of, Adopt adopt) {
  def_operation(m, "mail_catcher", context_of, adopt, [](Context& ctx, const char* options) {
    return start_mail_catcher(ctx, capi::parse_mail_catcher_options(options));
  });
  m.def(
      "mail_instances",
      [context_of](py::handle context) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return mail_instances(ctx);
      },
      py::arg("context"));
  m.def(
      "mail_messages",
      [context_of](py::handle context, const std::string& instance) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return mail_messages(ctx, instance);
      },
      py::arg("context"), py::arg("instance") = "default");
  m.def(
      "mail_message",
      [context_of](py::handle context, const std::string& instance, const std::string& id) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return mail_message(ctx, instance, id);
      },
      py::arg("context"), py::arg("instance"), py::arg("id"));
  m.def(
      "mail_message_raw",
      [context_of](py::handle context, const std::string& instance, const std::string& id) {
        auto& ctx = context_of(context);
        std::string raw;
        {
          py::gil_scoped_release release;
          raw = mail_message_raw(ctx, instance, id);
        }
        return py::bytes(raw);
      },
      py::arg("context"), py::arg("instance"), py::arg("id"));
  m.def(
      "mail_delete",
      [context_of](py::handle context, const std::string& instance, const std::string& id) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return mail_delete(ctx, instance, id);
      },
      py::arg("context"), py::arg("instance"), py::arg("id") = "");
  m.def(
      "mail_environment",
      [context_of](py::handle context, const std::string& instance) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return mail_environment(ctx, instance);
      },
      py::arg("context"), py::arg("instance") = "default");
}

}  // namespace

// Registered by module.cpp, which owns the Context and Operation wrappers (as for bind_bridge).
void bind_net(py::module_& m, Context& (*context_of)(py::handle),
              py::object (*adopt)(py::handle, Operation)) {
  bind_tunnel(m, context_of, adopt);
  bind_edge(m, context_of, adopt);
  bind_mesh(m, context_of, adopt);
  bind_sites(m, context_of);
  bind_webhook(m, context_of, adopt);
  bind_mail(m, context_of, adopt);
}

}  // namespace devx::python
