#pragma once
// Bridge sessions on this machine: one file per session, DEVX_HOME/bridge/<id>.json, written
// atomically under the state store's lock. A record names its owner (pid + start time) so any
// process can tell a live session from one a crash left behind, and it keeps what is needed to
// undo an intercept (kube settings, the original selector) without the owner.
#include <devx/bridge.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace devx::bridge {

struct ForwardRecord {
  std::string service;
  std::string namespace_;
  int remote_port = 0;
  int local_port = 0;  // 0 until kubectl reported it
  std::string state = "starting";
};

struct InterceptRecord {
  std::string service;
  std::string namespace_;
  std::vector<BridgePortMapping> ports;
  std::string agent;  // Job name; the agent's other objects are owned by it
  std::string original_selector_json;
  std::string state = "deploying";  // deploying | active | reconnecting | restoring
};

struct SessionRecord {
  std::string id;
  std::string kind;  // connect | intercept
  std::string origin = "standalone";
  int owner_pid = 0;
  std::uint64_t owner_start_time = 0;
  std::string started_at;  // RFC 3339, UTC
  KubeSettings kube;
  std::vector<ForwardRecord> forwards;
  std::optional<InterceptRecord> intercept;
};

boost::json::object to_json(const SessionRecord& record);
// nullopt for a document that is not a session record of a version we understand.
std::optional<SessionRecord> parse_session_record(std::string_view text);

// A record for the calling process, started now.
SessionRecord new_session_record(std::string id, std::string kind, std::string origin,
                                 KubeSettings kube);

class SessionStore {
 public:
  explicit SessionStore(Context& context) : context_(context) {}
  void save(const SessionRecord& record);
  void remove(std::string_view id);
  std::optional<SessionRecord> load(std::string_view id) const;
  std::vector<SessionRecord> load_all() const;
  // Stop requests from `devx bridge disconnect`: the owner polls for them.
  void request_stop(std::string_view id);
  bool stop_requested(std::string_view id) const;
  void clear_stop(std::string_view id);
  // The owner of `record` still runs.
  static bool owner_alive(const SessionRecord& record);

 private:
  Context& context_;
};

// Blocks an operation's work while its session is up: until the operation is cancelled or
// `devx bridge disconnect` asks session `id` to stop. Throws the error `failure` reports once
// the session failed for good.
void wait_while_running(OperationScope& scope, const SessionStore& store, std::string_view id,
                        const std::function<std::optional<Error>()>& failure);

// 8 random hex digits (session ids) / 64 random hex digits (tunnel tokens), from the kernel CSPRNG.
std::string random_hex(std::size_t bytes);

}  // namespace devx::bridge
