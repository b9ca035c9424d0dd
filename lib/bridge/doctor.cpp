// devx bridge doctor [--repair]: what crashed sessions (ours, a colleague's, or the original Go
// tool's) can leave in a cluster, found from labels and annotations alone — no local file needed.
#include <devx/bridge.hpp>
#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <ctime>
#include <map>
#include <set>

#include "bridge/kube/kubectl.hpp"
#include "bridge/kube/manifests.hpp"
#include "bridge/session_store.hpp"
#include "bridge/undo.hpp"
#include "core/json.hpp"

namespace devx {
namespace {

namespace json = boost::json;
namespace kube = bridge::kube;

// An agent younger than this may belong to an intercept that is still deploying (it names no
// Service yet): never called a leftover.
constexpr std::chrono::minutes kYoungAgent{5};
// The original Go tool's labels (devx-bridge=agent, devx-bridge-session=<sid>).
constexpr std::string_view kLegacyRoleLabel = "devx-bridge";
constexpr std::string_view kLegacySessionLabel = "devx-bridge-session";

std::string str_at(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::object* cur = &o;
  std::size_t i = 0;
  for (auto key : path) {
    ++i;
    const auto* v = cur->if_contains(key);
    if (v == nullptr) return {};
    if (i == path.size()) return v->is_string() ? std::string(v->get_string()) : std::string();
    if (!v->is_object()) return {};
    cur = &v->get_object();
  }
  return {};
}

const json::object* obj_at(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::object* cur = &o;
  for (auto key : path) {
    const auto* v = cur->if_contains(key);
    if (v == nullptr || !v->is_object()) return nullptr;
    cur = &v->get_object();
  }
  return cur;
}

// creationTimestamp (RFC 3339, UTC "Z") → age; a malformed stamp counts as old.
std::chrono::seconds age_of(const json::object& object) {
  const std::string stamp = str_at(object, {"metadata", "creationTimestamp"});
  std::tm tm{};
  if (stamp.empty() || ::strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr)
    return std::chrono::hours(24);
  const auto created = std::chrono::system_clock::from_time_t(::timegm(&tm));
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                          created);
}

struct Finding {
  std::string kind;
  std::string object;
  std::string namespace_;
  std::string session;
  std::string message;
  std::string repair;  // "" when not asked to repair
};

json::object to_json(const Finding& f) {
  json::object o{{"kind", f.kind},
                 {"object", f.object},
                 {"namespace", f.namespace_},
                 {"session", f.session},
                 {"message", f.message}};
  if (!f.repair.empty()) o["repair"] = f.repair;
  return o;
}

std::string attempt(const std::function<std::string()>& repair) {
  try {
    return repair();
  } catch (const Error& e) {
    return "failed: " + e.message();
  }
}

json::array selector_without_devx_keys_patch(const json::object& selector) {
  json::object kept;
  for (const auto& [k, v] : selector) {
    const std::string_view key = k;
    if (!key.starts_with("devx.dev/bridge") && !key.starts_with("devx-bridge")) kept[key] = v;
  }
  return json::array{
      json::object{{"op", "test"}, {"path", "/spec/selector"}, {"value", selector}},
      json::object{{"op", "replace"}, {"path", "/spec/selector"}, {"value", std::move(kept)}}};
}

std::string run_doctor(Context& context, const BridgeDoctorOptions& options,
                       OperationScope& scope) {
  kube::Kubectl kubectl(context, options.kube, scope.stop_token());
  bridge::SessionStore store(context);
  std::set<std::string> live_here;
  std::vector<Finding> findings;
  for (const auto& record : store.load_all()) {
    if (bridge::SessionStore::owner_alive(record)) {
      live_here.insert(record.id);
    } else if (record.intercept) {
      Finding f{"stale-session",
                "session/" + record.id,
                record.intercept->namespace_,
                record.id,
                "the process that intercepted " + record.intercept->service + " is gone",
                ""};
      if (options.repair) {
        f.repair = attempt([&] {
          kube::Kubectl own(context, record.kube, scope.stop_token());
          bridge::restore_service(own, record.intercept->namespace_, record.intercept->service,
                                  record.id);
          bridge::remove_agent(own, record.intercept->namespace_, record.id);
          store.remove(record.id);
          return std::string("repaired");
        });
      }
      findings.push_back(std::move(f));
    }
  }

  scope.progress("bridge", "looking at Services");
  std::set<std::string> named_sessions;  // sessions a Service currently points at
  for (const auto& svc : kubectl.list("service", options.namespace_)) {
    const std::string name = str_at(svc, {"metadata", "name"});
    const std::string ns = str_at(svc, {"metadata", "namespace"});
    const json::object* selector = obj_at(svc, {"spec", "selector"});
    if (const auto session = kube::intercepting_session(svc)) {
      named_sessions.insert(*session);
      if (live_here.contains(*session)) continue;
      // A Ready agent means a tunnel is up (readiness follows it): someone's live intercept.
      const auto pod = kubectl.pod_status(ns, kube::agent_pod_selector(*session));
      if (pod && pod->ready) continue;
      Finding f{"hijacked-service",
                "service/" + name,
                ns,
                *session,
                "selector points at session " + *session + ", whose agent is " +
                    (pod ? "not Ready (" + pod->phase + ")" : std::string("gone")),
                ""};
      if (options.repair) {
        f.repair = attempt([&] {
          const auto r = bridge::restore_service(kubectl, ns, name, *session);
          return std::string(r == bridge::RestoreResult::restored ? "repaired"
                                                                  : "already restored");
        });
      }
      findings.push_back(std::move(f));
    } else if (selector != nullptr && kube::is_polluted(*selector)) {
      Finding f{
          "polluted-selector",
          "service/" + name,
          ns,
          "",
          "selector carries devx bridge keys with no session annotation (left by a merge-patch "
          "restore of the original devx)",
          ""};
      if (options.repair) {
        f.repair = attempt([&] {
          const auto patch = selector_without_devx_keys_patch(*selector);
          if (patch.at(1).as_object().at("value").as_object().empty()) {
            return std::string("skipped: no original selector keys are left; set it by hand");
          }
          kubectl.patch_json("service", name, ns, patch);
          return std::string("repaired");
        });
      }
      findings.push_back(std::move(f));
    }
  }

  scope.progress("bridge", "looking for agents");
  // Agent objects grouped by session, for devx's labels and the Go tool's.
  struct Leftover {
    std::string ns;
    std::vector<std::string> objects;
    bool young = false;
    bool legacy = false;
  };
  std::map<std::string, Leftover> by_session;
  for (const char* kind : {"job", "serviceaccount", "role", "rolebinding", "secret"}) {
    for (const bool legacy : {false, true}) {
      const std::string selector = legacy ? std::string(kLegacyRoleLabel) + "=agent"
                                          : std::string(kube::kRoleLabel) + "=agent";
      for (const auto& object : kubectl.list(kind, options.namespace_, selector)) {
        const std::string session = str_at(
            object, {"metadata", "labels", legacy ? kLegacySessionLabel : kube::kSessionLabel});
        if (session.empty() || live_here.contains(session) || named_sessions.contains(session))
          continue;
        auto& l = by_session[session];
        l.ns = str_at(object, {"metadata", "namespace"});
        l.legacy = legacy;
        l.objects.push_back(std::string(kind) + "/" + str_at(object, {"metadata", "name"}));
        if (std::string_view(kind) == "job" && age_of(object) < kYoungAgent) l.young = true;
      }
    }
  }
  for (auto& entry : by_session) {
    const std::string& session = entry.first;
    const Leftover& l = entry.second;
    if (l.young) continue;
    std::string objects;
    for (const auto& o : l.objects) objects += (objects.empty() ? "" : ", ") + o;
    Finding f{"leftover-agent",
              objects,
              l.ns,
              session,
              "agent objects of session " + session + " that intercepts nothing" +
                  (l.legacy ? " (original devx)" : ""),
              ""};
    if (options.repair) {
      f.repair = attempt([&] {
        for (const auto& o : l.objects) {
          const auto slash = o.find('/');
          kubectl.remove(o.substr(0, slash), o.substr(slash + 1), l.ns);
        }
        return std::string("repaired");
      });
    }
    findings.push_back(std::move(f));
  }

  json::array out;
  for (const auto& f : findings) out.push_back(to_json(f));
  return core::to_json_string(json::object{{"v", 1},
                                           {"namespace", options.namespace_},
                                           {"repair", options.repair},
                                           {"findings", std::move(out)}});
}

}  // namespace

Operation start_bridge_doctor(Context& context, BridgeDoctorOptions options) {
  if (context.dry_run()) options.repair = false;  // a dry run only looks
  return context.start("bridge.doctor",
                       [&context, options = std::move(options)](OperationScope& scope) {
                         return run_doctor(context, options, scope);
                       });
}

}  // namespace devx
