// Status and environment of the sessions recorded on this machine (reads only; never asks the
// cluster), and the one formula for BRIDGE_* variable names.
#include <devx/bridge.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <set>

#include "bridge/session_store.hpp"
#include "core/json.hpp"

namespace devx {
namespace {

namespace json = boost::json;

std::string env_part(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= 'a' && c <= 'z') {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out.push_back(c);
    } else {
      out.push_back('_');
    }
  }
  return out;
}

}  // namespace

std::string bridge_env_prefix(std::string_view service, std::string_view namespace_,
                              bool with_namespace) {
  std::string prefix = "BRIDGE_" + env_part(service);
  if (with_namespace) prefix += "_" + env_part(namespace_.empty() ? "default" : namespace_);
  return prefix;
}

std::string bridge_status(Context& context) {
  bridge::SessionStore store(context);
  json::array sessions;
  bool active = false;
  for (const auto& record : store.load_all()) {
    const bool alive = bridge::SessionStore::owner_alive(record);
    // A dead connect session left nothing outside this machine (its kubectl children died with
    // it): forget it. A dead intercept may still hold a Service; keep it for disconnect/doctor.
    if (!alive && record.kind == "connect") {
      store.remove(record.id);
      continue;
    }
    json::object doc = bridge::to_json(record);
    doc.erase("v");
    doc["status"] = alive ? "live" : "stale";
    if (!alive) {
      doc["hint"] = "its process is gone; `devx bridge disconnect " + record.id +
                    "` restores the Service and removes the agent";
    }
    active = active || alive;
    sessions.push_back(std::move(doc));
  }
  return core::to_json_string(
      json::object{{"v", 1}, {"active", active}, {"sessions", std::move(sessions)}});
}

std::map<std::string, std::string> bridge_environment(Context& context) {
  struct Forward {
    std::string service, namespace_;
    int port;
  };
  std::vector<Forward> forwards;
  for (const auto& record : bridge::SessionStore(context).load_all()) {
    if (!bridge::SessionStore::owner_alive(record)) continue;
    for (const auto& f : record.forwards) {
      if (f.local_port > 0) forwards.push_back({f.service, f.namespace_, f.local_port});
    }
  }
  // The namespace joins the name only where one Service name comes from two namespaces, so the
  // common case stays BRIDGE_PAYMENTS_API_URL and nothing collides.
  std::map<std::string, std::set<std::string>> namespaces_of;
  for (const auto& f : forwards) namespaces_of[f.service].insert(f.namespace_);
  std::map<std::string, std::string> env;
  for (const auto& f : forwards) {
    const std::string prefix =
        bridge_env_prefix(f.service, f.namespace_, namespaces_of[f.service].size() > 1);
    env[prefix + "_URL"] = "http://127.0.0.1:" + std::to_string(f.port);
    env[prefix + "_HOST"] = "127.0.0.1";
    env[prefix + "_PORT"] = std::to_string(f.port);
  }
  return env;
}

}  // namespace devx
