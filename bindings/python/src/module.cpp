// The `devx._devx` extension: pybind11 glue over the C++ API. Everything here forwards to
// libdevx; the idiomatic layer (exception classes, asyncio, iterators) is devx/__init__.py.
//
// GIL: every call that reads files or waits releases the GIL. Errors: devx::Error is translated
// into the devx.Error subclass of its code by the factory devx/__init__.py installs
// (`_error_factory`), so the class table lives in one place.
#include "bindings.hpp"

#include <devx/devx.hpp>
#include <devx/event_queue.hpp>
#include <devx/orchestrator.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace py = pybind11;
namespace fs = std::filesystem;

namespace devx::python {
namespace {

void raise_python_error(const Error& error) {
  try {
    py::object factory = py::module_::import("devx._devx").attr("_error_factory");
    if (!factory.is_none()) {
      py::object exc = factory(error.to_json());
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
      return;
    }
  } catch (py::error_already_set& e) {
    e.restore();
    return;
  }
  PyErr_SetString(PyExc_RuntimeError, error.what());
}

LoadOptions make_load_options(const std::optional<std::string>& profile,
                              const std::optional<std::string>& user) {
  LoadOptions options;
  if (profile) options.profile = *profile;
  options.user = user;
  return options;
}

LogLevel parse_log_level(const std::string& name) {
  for (LogLevel level : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn,
                         LogLevel::error, LogLevel::off}) {
    if (log_level_name(level) == name) return level;
  }
  throw Error(ErrorCode::invalid_argument, "unknown log level '" + name + "'",
              "use trace, debug, info, warn, error or off");
}

// Owns the C++ Context so Python can close it deterministically (close() / `with`); the
// destructor cancels and joins the context's operations, with the GIL released.
class ContextHandle {
 public:
  ContextHandle(std::optional<fs::path> devx_home,
                std::optional<std::map<std::string, std::string>> env, bool dry_run,
                const std::string& log_level) {
    ContextOptions options;
    if (devx_home) options.devx_home = *devx_home;
    options.env = std::move(env);
    options.dry_run = dry_run;
    options.log_level = parse_log_level(log_level);
    py::gil_scoped_release release;
    context_ = std::make_unique<Context>(std::move(options));
  }
  ~ContextHandle() { close(); }
  ContextHandle(const ContextHandle&) = delete;
  ContextHandle& operator=(const ContextHandle&) = delete;

  Context& get() {
    if (!context_) throw Error(ErrorCode::invalid_argument, "the context is closed");
    return *context_;
  }
  bool closed() const noexcept { return !context_; }
  void close() {
    if (!context_) return;
    std::unique_ptr<Context> doomed = std::move(context_);
    if (PyGILState_Check()) {
      py::gil_scoped_release release;
      doomed.reset();
    }
  }

 private:
  std::unique_ptr<Context> context_;
};

// An operation plus, for project loads, the Project its worker produced.
struct OperationHandle {
  Operation op;
  std::optional<ProjectLoad> load;  // set for project loads
  py::object context;  // keeps the owning Context alive while the operation is referenced
};

Milliseconds to_ms(double seconds) {
  return Milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

// Waits for the operation in slices so Ctrl-C still interrupts a blocked Python thread.
bool wait_interruptibly(const Operation& op, std::optional<double> timeout_s) {
  using clock = std::chrono::steady_clock;
  const auto deadline = timeout_s ? clock::now() + to_ms(*timeout_s) : clock::time_point::max();
  for (;;) {
    auto slice = Milliseconds(100);
    if (timeout_s) {
      auto left = std::chrono::duration_cast<Milliseconds>(deadline - clock::now());
      if (left <= Milliseconds(0)) return op.done();
      slice = std::min(slice, left);
    }
    bool done;
    {
      py::gil_scoped_release release;
      done = op.wait_for(slice);
    }
    if (done) return true;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

UpOptions make_up_options(std::optional<std::vector<std::string>> only, bool keep_going,
                          std::optional<std::string> container_engine) {
  UpOptions options;
  if (only) options.only = std::move(*only);
  options.keep_going = keep_going;
  if (container_engine) options.container_engine = std::move(*container_engine);
  return options;
}

// A devx::Session seen from Python: the session, a bounded queue of its events (fed by
// Session::subscribe on library threads, waking the context's event fd for asyncio) and the
// operations started on it. close() stops everything synchronously (GIL released).
class SessionHandle {
 public:
  SessionHandle(py::object context, std::shared_ptr<Session> session)
      : context_(std::move(context)), session_(std::move(session)) {
    auto& ctx = context_.cast<ContextHandle&>().get();
    queue_ = std::make_shared<EventQueue>(EventQueue::kDefaultCapacity, ctx.event_fd());
    listener_ = session_->subscribe([queue = queue_](const Event& event) { queue->push(event); });
  }
  ~SessionHandle() {
    try {
      close();
    } catch (...) {
    }
  }
  SessionHandle(const SessionHandle&) = delete;
  SessionHandle& operator=(const SessionHandle&) = delete;

  Session& get() {
    if (!session_) throw Error(ErrorCode::invalid_argument, "the session is closed");
    return *session_;
  }
  bool closed() const noexcept { return !session_; }

  OperationHandle adopt(Operation op) {
    std::erase_if(operations_, [](const Operation& o) { return o.done(); });
    operations_.push_back(op);
    return OperationHandle{std::move(op), std::nullopt, context_};
  }

  // ("event", Event) | ("timeout", None) | ("end", None): "end" once the queue is empty, no
  // operation of this session runs and no node is alive (as devx_session_next_event).
  py::tuple next_event(double timeout) {
    if (!session_) return py::make_tuple("end", py::none());
    std::optional<Event> event;
    {
      py::gil_scoped_release release;
      event = queue_->pop(to_ms(timeout));
    }
    if (event) return py::make_tuple("event", std::move(*event));
    if (queue_->size() == 0 && quiescent()) return py::make_tuple("end", py::none());
    return py::make_tuple("timeout", py::none());
  }

  void close() {
    if (!session_) return;
    std::shared_ptr<Session> session = std::move(session_);
    std::vector<Operation> operations = std::move(operations_);
    auto stop = [&] {
      for (auto& op : operations) op.cancel();
      for (auto& op : operations) op.wait();
      session->down().wait();
      session->unsubscribe(listener_);
      queue_->close();
      session.reset();
    };
    if (PyGILState_Check()) {
      py::gil_scoped_release release;
      stop();
    } else {
      stop();
    }
  }

 private:
  bool quiescent() const {
    for (const auto& op : operations_) {
      if (!op.done()) return false;
    }
    for (const auto& s : session_->status()) {
      switch (s.state) {
        case ServiceState::completed:
        case ServiceState::failed:
        case ServiceState::stopped:
          break;
        default:
          return false;
      }
    }
    return true;
  }

  py::object context_;  // keeps the Context alive while the session lives
  std::shared_ptr<Session> session_;
  std::shared_ptr<EventQueue> queue_;
  int listener_ = 0;
  std::vector<Operation> operations_;
};

py::object parse_json(const std::string& text) {
  if (text.empty()) return py::none();
  return py::module_::import("json").attr("loads")(text);
}

}  // namespace

}  // namespace devx::python

PYBIND11_MODULE(_devx, m) {
  using namespace devx;
  using namespace devx::python;

  m.doc() = "Native glue of the devx package (use `import devx`).";
  m.attr("_error_factory") = py::none();

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      raise_python_error(e);
    }
  });

  m.def("version", [] { return std::string(devx::version()); });
  m.def("abi_version", &devx::abi_version);
  m.def("error_codes", [] {
    // (status, name) for every code of the table; the Python exception classes derive from it.
    std::vector<std::pair<int, std::string>> codes;
    for (int status = 1; status < 256; ++status) {
      auto name = error_code_name(static_cast<ErrorCode>(status));
      if (name != "unknown") codes.emplace_back(status, std::string(name));
    }
    return codes;
  });

  bind_config_types(m);

  py::class_<Event>(m, "Event")
      .def_property_readonly("type",
                             [](const Event& e) { return std::string(event_type_name(e.type)); })
      .def_readonly("time_ms", &Event::time_ms)
      .def_readonly("source", &Event::source)
      .def_readonly("message", &Event::message)
      .def_property_readonly("level",
                             [](const Event& e) { return std::string(log_level_name(e.level)); })
      .def_property_readonly("data", [](const Event& e) { return parse_json(e.data_json); })
      .def("to_json", &Event::to_json)
      .def("__repr__", [](const Event& e) {
        return "Event(" + std::string(event_type_name(e.type)) + ", " +
               py::repr(py::str(e.source)).cast<std::string>() + ", " +
               py::repr(py::str(e.message)).cast<std::string>() + ")";
      });

  py::class_<ContextHandle>(m, "Context")
      .def(py::init<std::optional<fs::path>, std::optional<std::map<std::string, std::string>>,
                    bool, const std::string&>(),
           py::arg("devx_home") = py::none(), py::arg("env") = py::none(),
           py::arg("dry_run") = false, py::arg("log_level") = "info")
      .def_property_readonly("home", [](ContextHandle& c) { return c.get().home(); })
      .def_property_readonly("env", [](ContextHandle& c) { return c.get().env(); })
      .def_property_readonly("dry_run", [](ContextHandle& c) { return c.get().dry_run(); })
      .def_property_readonly("closed", &ContextHandle::closed)
      .def("event_fd", [](ContextHandle& c) { return c.get().event_fd(); })
      .def("close", &ContextHandle::close)
      .def(
          "start_load",
          [](py::object self, const fs::path& path, std::optional<std::string> profile,
             std::optional<std::string> user) {
            auto& context = self.cast<ContextHandle&>().get();
            LoadOptions options = make_load_options(profile, user);
            std::optional<ProjectLoad> load;
            {
              py::gil_scoped_release release;
              load.emplace(start_project_load(context, path, options));
            }
            return OperationHandle{load->operation(), std::move(load), self};
          },
          py::arg("path"), py::arg("profile") = py::none(), py::arg("user") = py::none());

  py::class_<OperationHandle>(m, "Operation")
      .def_property_readonly("kind", [](const OperationHandle& o) { return o.op.kind(); })
      .def("done", [](const OperationHandle& o) { return o.op.done(); })
      .def(
          "cancel", [](OperationHandle& o) { o.op.cancel(); },
          py::call_guard<py::gil_scoped_release>())
      .def(
          "wait",
          [](OperationHandle& o, std::optional<double> timeout) {
            return wait_interruptibly(o.op, timeout);
          },
          py::arg("timeout") = py::none())
      .def(
          "next_event",
          // ("event", Event) | ("timeout", None) | ("end", None)
          [](OperationHandle& o, double timeout) -> py::tuple {
            NextEvent next;
            {
              py::gil_scoped_release release;
              next = o.op.next_event(to_ms(timeout));
            }
            switch (next.status) {
              case NextEvent::Status::event:
                return py::make_tuple("event", std::move(next.event));
              case NextEvent::Status::timeout:
                return py::make_tuple("timeout", py::none());
              case NextEvent::Status::end:
                break;
            }
            return py::make_tuple("end", py::none());
          },
          py::arg("timeout") = 0.0)
      .def("result_json",
           [](OperationHandle& o) {
             wait_interruptibly(o.op, std::nullopt);
             py::gil_scoped_release release;
             return o.op.result();
           })
      .def("project", [](OperationHandle& o) -> std::shared_ptr<Project> {
        // Re-raises the operation's error; Project objects are read-only views in Python.
        if (!o.load) {
          throw Error(ErrorCode::invalid_argument,
                      "operation '" + o.op.kind() + "' has no project");
        }
        std::shared_ptr<const Project> project;
        {
          py::gil_scoped_release release;
          project = o.load->project();
        }
        return std::const_pointer_cast<Project>(project);
      });

  py::class_<ServiceStatus>(m, "ServiceStatus")
      .def_readonly("name", &ServiceStatus::name)
      .def_property_readonly("kind",
                             [](const ServiceStatus& s) {
                               return s.kind == NodeKind::service ? "service" : "database";
                             })
      .def_readonly("runtime", &ServiceStatus::runtime)
      .def_property_readonly("state",
                             [](const ServiceStatus& s) { return std::string(to_string(s.state)); })
      .def_readonly("pid", &ServiceStatus::pid)
      .def_readonly("container", &ServiceStatus::container)
      .def_readonly("port", &ServiceStatus::port)
      .def_readonly("restarts", &ServiceStatus::restarts)
      .def_readonly("started_at_ms", &ServiceStatus::started_at_ms)
      .def_readonly("exit_code", &ServiceStatus::exit_code)
      .def_readonly("message", &ServiceStatus::message)
      .def("__repr__", [](const ServiceStatus& s) {
        return "ServiceStatus(" + py::repr(py::str(s.name)).cast<std::string>() + ", " +
               std::string(to_string(s.state)) + ", pid=" + std::to_string(s.pid) + ")";
      });

  py::class_<SessionHandle>(m, "Session")
      .def(py::init([](py::object context, std::shared_ptr<Project> project,
                       std::optional<std::vector<std::string>> only, bool keep_going,
                       std::optional<std::string> container_engine) {
             auto& ctx = context.cast<ContextHandle&>().get();
             UpOptions options =
                 make_up_options(std::move(only), keep_going, std::move(container_engine));
             std::shared_ptr<Session> session;
             {
               py::gil_scoped_release release;
               session = Session::create(ctx, *project, std::move(options));
             }
             return std::make_unique<SessionHandle>(context, std::move(session));
           }),
           py::arg("context"), py::arg("project"), py::arg("only") = py::none(),
           py::arg("keep_going") = false, py::arg("container_engine") = py::none())
      .def_property_readonly("closed", &SessionHandle::closed)
      .def("up", [](SessionHandle& s) { return s.adopt(s.get().up()); })
      .def(
          "down",
          [](SessionHandle& s, bool volumes, std::optional<std::vector<std::string>> only) {
            StopOptions options;
            options.remove_volumes = volumes;
            if (only) options.only = std::move(*only);
            return s.adopt(s.get().down(std::move(options)));
          },
          py::arg("volumes") = false, py::arg("only") = py::none())
      .def(
          "restart",
          [](SessionHandle& s, std::string name) {
            return s.adopt(s.get().restart(std::move(name)));
          },
          py::arg("name"))
      .def(
          "status", [](SessionHandle& s) { return s.get().status(); },
          py::call_guard<py::gil_scoped_release>())
      .def(
          "status_json", [](SessionHandle& s) { return s.get().status_json(); },
          py::call_guard<py::gil_scoped_release>())
      .def(
          "recent_output",
          [](SessionHandle& s, const std::string& node) { return s.get().recent_output(node); },
          py::arg("node"), py::call_guard<py::gil_scoped_release>())
      .def("next_event", &SessionHandle::next_event, py::arg("timeout") = 0.0)
      .def("close", &SessionHandle::close);

  auto context_of = [](py::handle context) -> Context& {
    return context.cast<ContextHandle&>().get();
  };
  auto adopt = [](py::handle context, Operation op) {
    return py::cast(
        OperationHandle{std::move(op), std::nullopt, py::reinterpret_borrow<py::object>(context)});
  };
  bind_bridge(m, context_of, adopt);
  bind_machine(m, context_of, adopt);
  bind_net(m, context_of, adopt);

  m.def(
      "plan_up",
      [](py::object context, std::shared_ptr<Project> project,
         std::optional<std::vector<std::string>> only, bool keep_going,
         std::optional<std::string> container_engine) {
        auto& ctx = context.cast<ContextHandle&>().get();
        UpOptions options =
            make_up_options(std::move(only), keep_going, std::move(container_engine));
        py::gil_scoped_release release;
        return plan_up(ctx, *project, options).to_json();
      },
      py::arg("context"), py::arg("project"), py::arg("only") = py::none(),
      py::arg("keep_going") = false, py::arg("container_engine") = py::none());

  m.def(
      "load_project",
      [](const fs::path& path, std::optional<std::string> profile,
         std::optional<std::string> user) {
        LoadOptions options = make_load_options(profile, user);
        py::gil_scoped_release release;
        return std::make_shared<Project>(load_project_or_throw(path, options));
      },
      py::arg("path"), py::arg("profile") = py::none(), py::arg("user") = py::none());
  m.def(
      "validate",
      [](const fs::path& path, std::optional<std::string> profile,
         std::optional<std::string> user) {
        LoadOptions options = make_load_options(profile, user);
        py::gil_scoped_release release;
        return load_project(path, options).diagnostics;
      },
      py::arg("path"), py::arg("profile") = py::none(), py::arg("user") = py::none());
  m.def("find_project", &find_project_file, py::arg("start"),
        py::call_guard<py::gil_scoped_release>());
  m.def("config_schema", &devx_yaml_json_schema, py::call_guard<py::gil_scoped_release>());
  m.def("diagnostics_to_json", &diagnostics_to_json, py::arg("diagnostics"));
}
