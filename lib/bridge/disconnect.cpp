// devx bridge disconnect: asks live sessions to stop (a stop-request file their owner polls: no
// signal reaches a process that embeds libdevx) and undoes, from the record, what sessions whose
// process died left in the cluster.
#include <devx/bridge.hpp>
#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <thread>

#include "bridge/kube/api_access.hpp"
#include "bridge/kube/kubectl.hpp"
#include "bridge/kube/manifests.hpp"
#include "bridge/session_store.hpp"
#include "bridge/undo.hpp"
#include "core/json.hpp"

namespace devx {
namespace {

namespace json = boost::json;

std::string undo_dead(Context& context, const bridge::SessionRecord& record) {
  if (!record.intercept) return "forgotten (its process is gone; nothing was left in the cluster)";
  const auto& i = *record.intercept;
  bridge::kube::Kubectl kubectl(context, record.kube);
  std::string result;
  switch (bridge::restore_service(kubectl, i.namespace_, i.service, record.id)) {
    case bridge::RestoreResult::restored:
      result = "restored Service " + i.namespace_ + "/" + i.service;
      break;
    case bridge::RestoreResult::not_ours:
      result = "Service " + i.namespace_ + "/" + i.service + " was already restored";
      break;
    case bridge::RestoreResult::gone:
      result = "Service " + i.namespace_ + "/" + i.service + " no longer exists";
      break;
  }
  bridge::remove_agent(kubectl, i.namespace_, record.id);
  return result + "; removed agent " + bridge::kube::agent_name(record.id);
}

}  // namespace

std::string bridge_disconnect(Context& context, std::string_view session_id,
                              std::chrono::milliseconds wait) {
  bridge::SessionStore store(context);
  auto records = store.load_all();
  if (!session_id.empty()) {
    std::string known;
    for (const auto& r : records) known += (known.empty() ? "" : ", ") + r.id;
    std::erase_if(records, [&](const auto& r) { return r.id != session_id; });
    if (records.empty())
      throw Error(ErrorCode::not_found, "no bridge session '" + std::string(session_id) + "'",
                  known.empty() ? "there are no sessions" : "sessions: " + known);
  }
  json::array out;
  json::array actions;
  for (const auto& record : records) {
    const bool alive = bridge::SessionStore::owner_alive(record);
    // `devx up` owns its bridges: stopping one behind its back would look like a crash to it.
    if (alive && record.origin == "up" && session_id.empty()) {
      out.push_back(json::object{
          {"id", record.id}, {"result", "left running: owned by devx up (devx down stops it)"}});
      continue;
    }
    if (context.dry_run()) {
      std::string what =
          alive ? "ask session " + record.id + " (pid " + std::to_string(record.owner_pid) +
                      ") to stop; it undoes its own changes"
          : record.intercept ? "restore Service " + record.intercept->namespace_ + "/" +
                                   record.intercept->service + " (if it still names " + record.id +
                                   ") and delete agent " + bridge::kube::agent_name(record.id)
                             : "forget session " + record.id + " (its process is gone)";
      actions.push_back(json::object{
          {"kind", alive ? "stop" : "undo"}, {"session", record.id}, {"description", what}});
      continue;
    }
    std::string result;
    if (alive) {
      store.request_stop(record.id);
      const auto deadline = std::chrono::steady_clock::now() + wait;
      bool ended = false;
      while (std::chrono::steady_clock::now() < deadline) {
        if (!store.load(record.id) || !bridge::SessionStore::owner_alive(record)) {
          ended = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!ended) {
        throw Error(ErrorCode::timeout,
                    "session " + record.id + " (pid " + std::to_string(record.owner_pid) +
                        ") did not stop within " + std::to_string(wait.count() / 1000) + "s",
                    "it may still be restoring; run `devx bridge status` again");
      }
      // A session that died instead of stopping leaves its record: undo what it left.
      if (auto left = store.load(record.id)) {
        result = undo_dead(context, *left);
        store.remove(record.id);
      } else {
        result = "stopped";
      }
    } else {
      result = undo_dead(context, record);
      store.remove(record.id);
    }
    store.clear_stop(record.id);
    out.push_back(json::object{{"id", record.id}, {"kind", record.kind}, {"result", result}});
  }
  if (context.dry_run())
    return core::to_json_string(
        json::object{{"v", 1}, {"dry_run", true}, {"actions", std::move(actions)}});
  return core::to_json_string(json::object{{"v", 1}, {"sessions", std::move(out)}});
}

std::string bridge_rbac_yaml(std::string_view namespace_) {
  return bridge::kube::rbac_yaml(namespace_);
}

}  // namespace devx
