// The configuration model as read-only Python classes. Enumerations are exposed as their stable
// strings (the same spelling as in devx.yaml and the resolved JSON), durations as timedelta,
// paths as pathlib.Path.
#include "bindings.hpp"

#include <devx/config.hpp>
#include <devx/error.hpp>
#include <devx/topology.hpp>

#include <pybind11/chrono.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <memory>
#include <string>

namespace py = pybind11;

namespace devx::python {
namespace {

std::string severity_name(Severity s) { return s == Severity::error ? "error" : "warning"; }

Severity parse_severity(const std::string& s) {
  if (s == "error") return Severity::error;
  if (s == "warning") return Severity::warning;
  throw Error(ErrorCode::invalid_argument, "unknown severity '" + s + "'",
              "use 'error' or 'warning'");
}

std::string restart_name(RestartPolicyKind k) {
  switch (k) {
    case RestartPolicyKind::no: return "no";
    case RestartPolicyKind::on_failure: return "on-failure";
    case RestartPolicyKind::always: return "always";
  }
  return "no";
}

std::string quoted(const std::string& s) { return py::repr(py::str(s)).cast<std::string>(); }

}  // namespace

void bind_config_types(py::module_& m) {
  py::class_<SourceLocation>(m, "SourceLocation")
      .def_readonly("file", &SourceLocation::file)
      .def_readonly("line", &SourceLocation::line)
      .def_readonly("column", &SourceLocation::column)
      .def("__repr__", [](const SourceLocation& l) {
        return "SourceLocation(" + quoted(l.file) + ", " + std::to_string(l.line) + ", " +
               std::to_string(l.column) + ")";
      });

  py::class_<Diagnostic>(m, "Diagnostic")
      .def(py::init([](const std::string& severity, std::string file, int line, int column,
                       std::string message, std::string hint) {
             Diagnostic d;
             d.severity = parse_severity(severity);
             d.location = SourceLocation{std::move(file), line, column};
             d.message = std::move(message);
             d.hint = std::move(hint);
             return d;
           }),
           py::kw_only(), py::arg("severity"), py::arg("file"), py::arg("line"),
           py::arg("column"), py::arg("message"), py::arg("hint") = "")
      .def_property_readonly("severity", [](const Diagnostic& d) { return severity_name(d.severity); })
      .def_property_readonly("file", [](const Diagnostic& d) { return d.location.file; })
      .def_property_readonly("line", [](const Diagnostic& d) { return d.location.line; })
      .def_property_readonly("column", [](const Diagnostic& d) { return d.location.column; })
      .def_readonly("message", &Diagnostic::message)
      .def_readonly("hint", &Diagnostic::hint)
      .def("__str__", &Diagnostic::to_string)
      .def("__repr__", [](const Diagnostic& d) { return "Diagnostic(" + quoted(d.to_string()) + ")"; })
      .def("__eq__", [](const Diagnostic& a, const Diagnostic& b) {
        return a.severity == b.severity && a.location.file == b.location.file &&
               a.location.line == b.location.line && a.location.column == b.location.column &&
               a.message == b.message && a.hint == b.hint;
      })
      .def("__hash__", [](const Diagnostic& d) { return py::hash(py::str(d.to_string())); });

  py::class_<Dependency>(m, "Dependency")
      .def_readonly("name", &Dependency::name)
      .def_property_readonly("condition",
                             [](const Dependency& d) { return std::string(to_string(d.condition)); })
      .def_readonly("condition_declared", &Dependency::condition_declared)
      .def_readonly("location", &Dependency::location)
      .def("__repr__", [](const Dependency& d) {
        return "Dependency(" + quoted(d.name) + ", " + quoted(std::string(to_string(d.condition))) + ")";
      });

  py::class_<HealthCheck>(m, "HealthCheck")
      .def_readonly("http", &HealthCheck::http)
      .def_readonly("tcp", &HealthCheck::tcp)
      .def_readonly("exec", &HealthCheck::exec)
      .def_readonly("log", &HealthCheck::log)
      .def_readonly("interval", &HealthCheck::interval)
      .def_readonly("timeout", &HealthCheck::timeout)
      .def_readonly("start_period", &HealthCheck::start_period)
      .def_readonly("retries", &HealthCheck::retries)
      .def_readonly("location", &HealthCheck::location);

  py::class_<RestartPolicy>(m, "RestartPolicy")
      .def_property_readonly("kind", [](const RestartPolicy& r) { return restart_name(r.kind); })
      .def_readonly("max_retries", &RestartPolicy::max_retries);

  py::class_<SyncMapping>(m, "SyncMapping")
      .def_readonly("container", &SyncMapping::container)
      .def_readonly("src", &SyncMapping::src)
      .def_readonly("dest", &SyncMapping::dest)
      .def_readonly("ignore", &SyncMapping::ignore);

  py::class_<BridgeTarget>(m, "BridgeTarget")
      .def_readonly("service", &BridgeTarget::service)
      .def_readonly("namespace", &BridgeTarget::namespace_)
      .def_readonly("port", &BridgeTarget::port)
      .def_readonly("local_port", &BridgeTarget::local_port);

  py::class_<BridgeIntercept>(m, "BridgeIntercept")
      .def_readonly("service", &BridgeIntercept::service)
      .def_readonly("namespace", &BridgeIntercept::namespace_)
      .def_readonly("port", &BridgeIntercept::port)
      .def_readonly("local_port", &BridgeIntercept::local_port)
      .def_readonly("mode", &BridgeIntercept::mode);

  py::class_<Service>(m, "Service")
      .def_readonly("name", &Service::name)
      .def_property_readonly("runtime",
                             [](const Service& s) { return std::string(to_string(s.runtime)); })
      .def_readonly("command", &Service::command)
      .def_readonly("image", &Service::image)
      .def_readonly("port", &Service::port)
      .def_readonly("container_port", &Service::container_port)
      .def_readonly("working_dir", &Service::working_dir)
      .def_readonly("env", &Service::env)
      .def_readonly("depends_on", &Service::depends_on)
      .def_readonly("healthcheck", &Service::healthcheck)
      .def_readonly("restart", &Service::restart)
      .def_readonly("stop_grace_period", &Service::stop_grace_period)
      .def_readonly("sync", &Service::sync)
      .def_readonly("bridge_target", &Service::bridge_target)
      .def_readonly("bridge_intercept", &Service::bridge_intercept)
      .def_readonly("env_sources", &Service::env_sources)
      .def_readonly("dir", &Service::dir)
      .def_readonly("location", &Service::location)
      .def("__repr__", [](const Service& s) {
        return "Service(" + quoted(s.name) + ", runtime=" + quoted(std::string(to_string(s.runtime))) + ")";
      });

  py::class_<DatabasePull>(m, "DatabasePull")
      .def_readonly("command", &DatabasePull::command)
      .def_readonly("format", &DatabasePull::format)
      .def_readonly("jobs", &DatabasePull::jobs);

  py::class_<Database>(m, "Database")
      .def_readonly("name", &Database::name)
      .def_property_readonly("engine", [](const Database& d) { return std::string(to_string(d.engine)); })
      .def_readonly("port", &Database::port)
      .def_readonly("version", &Database::version)
      .def_property_readonly("runtime", [](const Database& d) { return std::string(to_string(d.runtime)); })
      .def_readonly("pull", &Database::pull)
      .def_readonly("seed_command", &Database::seed_command)
      .def_readonly("dir", &Database::dir)
      .def_readonly("location", &Database::location)
      .def("__repr__", [](const Database& d) {
        return "Database(" + quoted(d.name) + ", engine=" + quoted(std::string(to_string(d.engine))) + ")";
      });

  py::class_<Tunnel>(m, "Tunnel")
      .def_readonly("name", &Tunnel::name)
      .def_readonly("port", &Tunnel::port)
      .def_readonly("basic_auth", &Tunnel::basic_auth)
      .def_readonly("throttle", &Tunnel::throttle)
      .def_readonly("location", &Tunnel::location)
      .def("__repr__", [](const Tunnel& t) {
        return "Tunnel(" + quoted(t.name) + ", port=" + std::to_string(t.port) + ")";
      });

  py::class_<Mock>(m, "Mock")
      .def_readonly("name", &Mock::name)
      .def_readonly("url", &Mock::url)
      .def_readonly("port", &Mock::port)
      .def_readonly("location", &Mock::location);

  py::class_<CommandList>(m, "CommandList").def_readonly("commands", &CommandList::commands);

  py::class_<PipelineStage>(m, "PipelineStage")
      .def_readonly("commands", &PipelineStage::commands)
      .def_readonly("before", &PipelineStage::before)
      .def_readonly("after", &PipelineStage::after);

  py::class_<Pipeline>(m, "Pipeline")
      .def_readonly("test", &Pipeline::test)
      .def_readonly("lint", &Pipeline::lint)
      .def_readonly("build", &Pipeline::build)
      .def_readonly("verify", &Pipeline::verify);

  py::class_<BridgeConfig>(m, "BridgeConfig")
      .def_readonly("kubeconfig", &BridgeConfig::kubeconfig)
      .def_readonly("context", &BridgeConfig::context)
      .def_readonly("namespace", &BridgeConfig::namespace_)
      .def_readonly("agent_image", &BridgeConfig::agent_image)
      .def_readonly("targets", &BridgeConfig::targets)
      .def_readonly("intercepts", &BridgeConfig::intercepts)
      .def_readonly("location", &BridgeConfig::location);

  py::class_<UiTest>(m, "UiTest")
      .def_readonly("setup", &UiTest::setup)
      .def_readonly("command", &UiTest::command);

  // Held by shared_ptr so an operation's worker can hand its Project over without a copy.
  py::class_<Project, std::shared_ptr<Project>>(m, "Project")
      .def_readonly("name", &Project::name)
      .def_readonly("domain", &Project::domain)
      .def_readonly("provider", &Project::provider)
      .def_readonly("ai_bridge", &Project::ai_bridge)
      .def_readonly("env", &Project::env)
      .def_readonly("tunnels", &Project::tunnels)
      .def_readonly("databases", &Project::databases)
      .def_readonly("services", &Project::services)
      .def_readonly("mocks", &Project::mocks)
      .def_readonly("ui_test", &Project::ui_test)
      .def_readonly("pipeline", &Project::pipeline)
      .def_readonly("custom_actions", &Project::custom_actions)
      .def_readonly("bridge", &Project::bridge)
      .def_readonly("state_relay", &Project::state_relay)
      .def_readonly("profiles", &Project::profiles)
      .def_readonly("active_profile", &Project::active_profile)
      .def_readonly("root_file", &Project::root_file)
      .def_readonly("root_dir", &Project::root_dir)
      .def_readonly("files", &Project::files)
      .def("find_service", &Project::find_service, py::arg("name"),
           py::return_value_policy::reference_internal)
      .def("find_database", &Project::find_database, py::arg("name"),
           py::return_value_policy::reference_internal)
      .def("to_json", &project_to_json, py::call_guard<py::gil_scoped_release>())
      .def("to_yaml", &project_to_yaml, py::call_guard<py::gil_scoped_release>())
      .def(
          "render_map",
          [](const Project& p, const std::string& format) {
            auto parsed = parse_map_format(format);
            if (!parsed) {
              throw Error(ErrorCode::invalid_argument, "unknown map format '" + format + "'",
                          "use 'mermaid', 'dot' or 'json'");
            }
            py::gil_scoped_release release;
            return render_map(p, *parsed);
          },
          py::arg("format") = "mermaid")
      .def("render_map_document", &render_map_document, py::call_guard<py::gil_scoped_release>())
      .def("__repr__", [](const Project& p) {
        return "Project(" + quoted(p.name) + ", services=" + std::to_string(p.services.size()) +
               ", root_file=" + quoted(p.root_file.string()) + ")";
      });
}

}  // namespace devx::python
