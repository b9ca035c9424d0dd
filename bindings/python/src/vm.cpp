// The dev VM, Butane/Ignition, doctor and nuke (include/devx/{vm,ignition,doctor,nuke}.hpp) in
// `devx._devx`. Keyword arguments of devx/__init__.py arrive here as typed arguments and become the
// C++ option structs; None keeps the library's default. Results are the library's JSON documents
// (parsed by devx/__init__.py), or dicts with the keys of the C ABI's documents where the C++ API
// returns a struct. Every rule beyond the argument types is the library's.
#include <devx/config.hpp>
#include <devx/doctor.hpp>
#include <devx/error.hpp>
#include <devx/ignition.hpp>
#include <devx/nuke.hpp>
#include <devx/vm.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace devx::python {

py::str lenient_str(const std::string& text) {
  PyObject* decoded =
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
  if (decoded == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(decoded);
}

py::dict command_result_dict(const CommandResult& result) {
  py::dict doc;
  doc["exit_code"] = result.exit_code;
  doc["signal"] = result.signal;
  doc["timed_out"] = result.timed_out;
  doc["cancelled"] = result.cancelled;
  doc["out"] = lenient_str(result.out);
  doc["err"] = lenient_str(result.err);
  return doc;
}

namespace {

py::object parse_json(const std::string& text) {
  return py::module_::import("json").attr("loads")(text);
}

VmTunnelAttachment to_tunnel(const std::map<std::string, std::string>& fields) {
  VmTunnelAttachment tunnel;
  for (const auto& [key, value] : fields) {
    if (key == "id") {
      tunnel.id = value;
    } else if (key == "credentials_file") {
      tunnel.credentials_file = value;
    } else if (key == "hostname") {
      tunnel.hostname = value;
    } else {
      throw Error(ErrorCode::invalid_argument,
                  "vm init options: unknown key \"tunnel." + key + "\"",
                  "allowed keys: id, credentials_file, hostname");
    }
  }
  return tunnel;
}

py::dict butane_output_dict(const ButaneOutput& output) {
  py::dict result;
  result["ignition"] = output.ignition;
  result["ignition_version"] = output.ignition_version;
  result["warnings"] = parse_json(diagnostics_to_json(output.warnings))["diagnostics"];
  return result;
}

void bind_butane(py::module_& m) {
  m.def(
      "butane_compile",
      [](const std::string& document, std::optional<std::string> source_name,
         std::optional<fs::path> files_dir, std::optional<bool> strict,
         std::optional<bool> pretty) {
        ButaneOptions options;
        if (source_name) options.source_name = std::move(*source_name);
        if (files_dir) options.files_dir = std::move(*files_dir);
        if (strict) options.strict = *strict;
        if (pretty) options.pretty = *pretty;
        ButaneOutput output;
        {
          py::gil_scoped_release release;
          output = compile_butane(document, options);
        }
        return butane_output_dict(output);
      },
      py::arg("document"), py::arg("source_name") = py::none(), py::arg("files_dir") = py::none(),
      py::arg("strict") = py::none(), py::arg("pretty") = py::none());

  m.def("butane_versions", [] {
    py::list versions;
    for (const auto& version : supported_butane_versions()) {
      py::dict entry;
      entry["variant"] = version.variant;
      entry["butane_version"] = version.butane_version;
      entry["ignition_version"] = version.ignition_version;
      versions.append(std::move(entry));
    }
    return versions;
  });

  m.def("dev_machine_template", [] { return std::string(dev_machine_butane_template()); });

  m.def(
      "dev_machine_config",
      [](std::optional<std::string> hostname, std::optional<std::vector<std::string>> keys,
         std::optional<std::string> runtime, std::optional<std::string> tunnel_id,
         std::optional<std::string> tunnel_credentials_json,
         std::optional<std::string> tunnel_hostname, std::optional<std::string> tunnel_service,
         std::optional<std::string> tailscale_auth_key) {
        DevMachineValues values;
        if (hostname) values.hostname = std::move(*hostname);
        if (keys) values.ssh_authorized_keys = std::move(*keys);
        if (runtime) values.runtime = std::move(*runtime);
        if (tunnel_id) values.tunnel_id = std::move(*tunnel_id);
        if (tunnel_credentials_json) values.tunnel_credentials_json = *tunnel_credentials_json;
        if (tunnel_hostname) values.tunnel_hostname = std::move(*tunnel_hostname);
        if (tunnel_service) values.tunnel_service = std::move(*tunnel_service);
        if (tailscale_auth_key) values.tailscale_auth_key = std::move(*tailscale_auth_key);
        DevMachineConfig config;
        {
          py::gil_scoped_release release;
          config = dev_machine_config(values);
        }
        py::dict result;
        result["butane"] = config.butane;
        result["ignition"] = config.output.ignition;
        result["ignition_version"] = config.output.ignition_version;
        return result;
      },
      py::arg("hostname") = py::none(), py::arg("ssh_authorized_keys") = py::none(),
      py::arg("runtime") = py::none(), py::arg("tunnel_id") = py::none(),
      py::arg("tunnel_credentials_json") = py::none(), py::arg("tunnel_hostname") = py::none(),
      py::arg("tunnel_service") = py::none(), py::arg("tailscale_auth_key") = py::none());
}

void bind_vm_options(py::module_& m) {
  py::class_<VmOptions>(m, "VmOptions")
      .def(py::init([](std::string provider, std::string name, fs::path project_dir,
                       bool assume_yes, std::string platform) {
             VmOptions options;
             options.provider = std::move(provider);
             options.name = std::move(name);
             options.project_dir = std::move(project_dir);
             options.assume_yes = assume_yes;
             options.platform = std::move(platform);
             return options;
           }),
           py::arg("provider") = "", py::arg("name") = "", py::arg("project_dir") = fs::path(),
           py::arg("assume_yes") = false, py::arg("platform") = "")
      .def_readwrite("provider", &VmOptions::provider)
      .def_readwrite("name", &VmOptions::name)
      .def_readwrite("project_dir", &VmOptions::project_dir)
      .def_readwrite("assume_yes", &VmOptions::assume_yes)
      .def_readwrite("platform", &VmOptions::platform);
}

// `name(context, vm)` for the calls that take the VM options and return a JSON document.
void def_vm_document(py::module_& m, const char* name, Context& (*context_of)(py::handle),
                     std::string (*call)(Context&, const VmOptions&)) {
  m.def(
      name,
      [context_of, call](py::handle context, const VmOptions& vm) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return call(ctx, vm);
      },
      py::arg("context"), py::arg("vm"));
}

void bind_vm(py::module_& m, Context& (*context_of)(py::handle),
             py::object (*adopt)(py::handle, Operation)) {
  bind_vm_options(m);

  m.def(
      "vm_resolve",
      [context_of](py::handle context, const VmOptions& vm) {
        auto& ctx = context_of(context);
        VmTarget target;
        {
          py::gil_scoped_release release;
          target = resolve_vm(ctx, vm);
        }
        py::dict result;
        result["provider"] = target.provider;
        result["provider_source"] = target.provider_source;
        result["name"] = target.name;
        result["name_source"] = target.name_source;
        result["runtime"] = target.runtime;
        return result;
      },
      py::arg("context"), py::arg("vm"));
  m.def(
      "vm_detect",
      [context_of](py::handle context, const std::string& platform) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return detect_vm_providers(ctx, platform);
      },
      py::arg("context"), py::arg("platform") = "");
  m.def(
      "vm_save_default_provider",
      [context_of](py::handle context, const std::string& provider) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        save_default_provider(ctx, provider);
      },
      py::arg("context"), py::arg("provider"));

  m.def(
      "vm_init",
      [context_of, adopt](py::handle context, const VmOptions& vm, bool recreate, int cpus,
                          int memory_mb, int disk_gb,
                          std::optional<std::vector<std::string>> ssh_authorized_keys,
                          std::optional<std::map<std::string, std::string>> tunnel,
                          std::optional<std::string> tailscale_auth_key) {
        VmInitOptions options;
        options.vm = vm;
        options.recreate = recreate;
        options.cpus = cpus;
        options.memory_mb = memory_mb;
        options.disk_gb = disk_gb;
        if (ssh_authorized_keys) options.ssh_authorized_keys = std::move(*ssh_authorized_keys);
        if (tunnel) options.tunnel = to_tunnel(*tunnel);
        if (tailscale_auth_key) options.tailscale_auth_key = std::move(*tailscale_auth_key);
        auto& ctx = context_of(context);
        std::optional<Operation> op;
        {
          py::gil_scoped_release release;
          op.emplace(start_vm_init(ctx, std::move(options)));
        }
        return adopt(context, std::move(*op));
      },
      py::arg("context"), py::arg("vm"), py::arg("recreate") = false, py::arg("cpus") = 0,
      py::arg("memory_mb") = 0, py::arg("disk_gb") = 0, py::arg("ssh_authorized_keys") = py::none(),
      py::arg("tunnel") = py::none(), py::arg("tailscale_auth_key") = py::none());

  def_vm_document(m, "vm_start", context_of, &vm_start);
  def_vm_document(m, "vm_stop", context_of, &vm_stop);
  def_vm_document(m, "vm_sleep", context_of, &vm_sleep);
  def_vm_document(m, "vm_status", context_of, &vm_status);

  m.def(
      "vm_resize",
      [context_of](py::handle context, const VmOptions& vm, int cpus, int memory_mb, int disk_gb) {
        VmResizeOptions options;
        options.vm = vm;
        options.cpus = cpus;
        options.memory_mb = memory_mb;
        options.disk_gb = disk_gb;
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return vm_resize(ctx, options);
      },
      py::arg("context"), py::arg("vm"), py::arg("cpus") = 0, py::arg("memory_mb") = 0,
      py::arg("disk_gb") = 0);
  m.def(
      "vm_teardown",
      [context_of](py::handle context, const VmOptions& vm, bool keep_attachments) {
        VmTeardownOptions options;
        options.vm = vm;
        options.keep_attachments = keep_attachments;
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return vm_teardown(ctx, options);
      },
      py::arg("context"), py::arg("vm"), py::arg("keep_attachments") = false);

  m.def(
      "vm_exec",
      [context_of](py::handle context, const VmOptions& vm, const std::vector<std::string>& command,
                   std::optional<std::string> stdin_data) {
        auto& ctx = context_of(context);
        CommandResult result;
        {
          py::gil_scoped_release release;
          result = vm_exec(ctx, vm, command, std::move(stdin_data));
        }
        return command_result_dict(result);
      },
      py::arg("context"), py::arg("vm"), py::arg("command"), py::arg("stdin") = py::none());
  m.def(
      "vm_ssh_argv",
      [context_of](py::handle context, const VmOptions& vm,
                   const std::vector<std::string>& command) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return vm_ssh_argv(ctx, vm, command);
      },
      py::arg("context"), py::arg("vm"), py::arg("command"));
  m.def(
      "vm_apply_ignition",
      [context_of](py::handle context, const VmOptions& vm, const std::string& ignition) {
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return vm_apply_ignition(ctx, vm, ignition);
      },
      py::arg("context"), py::arg("vm"), py::arg("ignition"));
  m.def(
      "vm_sleep_watch",
      [context_of, adopt](py::handle context, const VmOptions& vm, std::optional<int> interval_s,
                          std::optional<int> idle_polls) {
        VmSleepWatchOptions options;
        options.vm = vm;
        if (interval_s) options.interval = std::chrono::seconds(*interval_s);
        if (idle_polls) options.idle_polls = *idle_polls;
        auto& ctx = context_of(context);
        std::optional<Operation> op;
        {
          py::gil_scoped_release release;
          op.emplace(start_vm_sleep_watch(ctx, std::move(options)));
        }
        return adopt(context, std::move(*op));
      },
      py::arg("context"), py::arg("vm"), py::arg("interval_s") = py::none(),
      py::arg("idle_polls") = py::none());
}

DoctorOptions make_doctor_options(std::optional<std::string> platform,
                                  std::optional<fs::path> env_file,
                                  std::optional<std::vector<std::string>> areas,
                                  std::optional<bool> as_root,
                                  std::optional<int> probe_timeout_ms) {
  DoctorOptions options;
  if (platform) options.platform = std::move(*platform);
  if (env_file) options.env_file = std::move(*env_file);
  if (areas) options.areas = std::move(*areas);
  options.as_root = as_root;
  if (probe_timeout_ms) options.probe_timeout = std::chrono::milliseconds(*probe_timeout_ms);
  return options;
}

void bind_doctor(py::module_& m, Context& (*context_of)(py::handle),
                 py::object (*adopt)(py::handle, Operation)) {
  m.def(
      "doctor_report",
      [context_of](py::handle context, std::optional<std::string> platform,
                   std::optional<fs::path> env_file, std::optional<std::vector<std::string>> areas,
                   std::optional<bool> as_root, std::optional<int> probe_timeout_ms) {
        auto options = make_doctor_options(std::move(platform), std::move(env_file),
                                           std::move(areas), as_root, probe_timeout_ms);
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return doctor_report(ctx, options);
      },
      py::arg("context"), py::arg("platform") = py::none(), py::arg("env_file") = py::none(),
      py::arg("areas") = py::none(), py::arg("as_root") = py::none(),
      py::arg("probe_timeout_ms") = py::none());

  auto install_options = [](std::optional<std::string> platform, std::optional<fs::path> env_file,
                            std::optional<std::vector<std::string>> areas,
                            std::optional<bool> as_root, std::optional<int> probe_timeout_ms,
                            bool all, bool assume_yes) {
    DoctorInstallOptions options;
    options.doctor = make_doctor_options(std::move(platform), std::move(env_file), std::move(areas),
                                         as_root, probe_timeout_ms);
    options.all = all;
    options.assume_yes = assume_yes;
    return options;
  };
  m.def(
      "doctor_install_plan",
      [context_of, install_options](
          py::handle context, std::optional<std::string> platform, std::optional<fs::path> env_file,
          std::optional<std::vector<std::string>> areas, std::optional<bool> as_root,
          std::optional<int> probe_timeout_ms, bool all, bool assume_yes) {
        auto options = install_options(std::move(platform), std::move(env_file), std::move(areas),
                                       as_root, probe_timeout_ms, all, assume_yes);
        auto& ctx = context_of(context);
        py::gil_scoped_release release;
        return doctor_install_plan(ctx, options);
      },
      py::arg("context"), py::arg("platform") = py::none(), py::arg("env_file") = py::none(),
      py::arg("areas") = py::none(), py::arg("as_root") = py::none(),
      py::arg("probe_timeout_ms") = py::none(), py::arg("all") = false,
      py::arg("assume_yes") = false);
  m.def(
      "doctor_install",
      [context_of, adopt, install_options](
          py::handle context, std::optional<std::string> platform, std::optional<fs::path> env_file,
          std::optional<std::vector<std::string>> areas, std::optional<bool> as_root,
          std::optional<int> probe_timeout_ms, bool all, bool assume_yes) {
        auto options = install_options(std::move(platform), std::move(env_file), std::move(areas),
                                       as_root, probe_timeout_ms, all, assume_yes);
        auto& ctx = context_of(context);
        std::optional<Operation> op;
        {
          py::gil_scoped_release release;
          op.emplace(start_doctor_install(ctx, std::move(options)));
        }
        return adopt(context, std::move(*op));
      },
      py::arg("context"), py::arg("platform") = py::none(), py::arg("env_file") = py::none(),
      py::arg("areas") = py::none(), py::arg("as_root") = py::none(),
      py::arg("probe_timeout_ms") = py::none(), py::arg("all") = false,
      py::arg("assume_yes") = false);
}

void bind_nuke(py::module_& m, Context& (*context_of)(py::handle)) {
  auto make_options = [](std::optional<fs::path> project_dir, bool artifacts, bool global_caches,
                         bool assume_yes) {
    NukeOptions options;
    if (project_dir) options.project_dir = std::move(*project_dir);
    options.artifacts = artifacts;
    options.global_caches = global_caches;
    options.assume_yes = assume_yes;
    return options;
  };
  // nuke_plan and nuke take the same arguments and return a JSON document.
  auto def_nuke = [&m, context_of, make_options](
                      const char* name, std::string (*call)(Context&, const NukeOptions&)) {
    m.def(
        name,
        [context_of, make_options, call](py::handle context, std::optional<fs::path> project_dir,
                                         bool artifacts, bool global_caches, bool assume_yes) {
          auto options = make_options(std::move(project_dir), artifacts, global_caches, assume_yes);
          auto& ctx = context_of(context);
          py::gil_scoped_release release;
          return call(ctx, options);
        },
        py::arg("context"), py::arg("project_dir") = py::none(), py::arg("artifacts") = false,
        py::arg("global_caches") = false, py::arg("assume_yes") = false);
  };
  def_nuke("nuke_plan", &devx::nuke_plan);
  def_nuke("nuke", &devx::nuke);
}

}  // namespace

// Registered by module.cpp, which owns the Context and Operation wrappers (as for bind_bridge).
void bind_machine(py::module_& m, Context& (*context_of)(py::handle),
                  py::object (*adopt)(py::handle, Operation)) {
  bind_butane(m);
  bind_vm(m, context_of, adopt);
  bind_doctor(m, context_of, adopt);
  bind_nuke(m, context_of);
}

}  // namespace devx::python
