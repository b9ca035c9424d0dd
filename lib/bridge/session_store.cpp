#include "bridge/session_store.hpp"

#include <devx/error.hpp>

#include <sys/random.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>

#include "core/json.hpp"
#include "core/proc_stat.hpp"

namespace devx::bridge {
namespace {

namespace json = boost::json;

constexpr int kRecordVersion = 1;

std::string key_of(std::string_view id) { return "bridge/" + std::string(id) + ".json"; }

std::string str(const json::object& o, std::string_view key) { return core::string_field(o, key); }
std::int64_t num(const json::object& o, std::string_view key) { return core::int_field(o, key); }

const json::object* obj(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* arr(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

std::string now_rfc3339() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Only ids we generate (hex, dash) become file names.
bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

}  // namespace

json::object to_json(const SessionRecord& record) {
  json::object out;
  out["v"] = kRecordVersion;
  out["id"] = record.id;
  out["kind"] = record.kind;
  out["origin"] = record.origin;
  out["owner"] = json::object{{"pid", record.owner_pid}, {"start_time", record.owner_start_time}};
  out["started_at"] = record.started_at;
  out["kube"] = json::object{{"kubeconfig", record.kube.kubeconfig},
                             {"context", record.kube.context},
                             {"kubectl", record.kube.kubectl}};
  json::array forwards;
  for (const auto& f : record.forwards) {
    forwards.push_back(json::object{{"service", f.service},
                                    {"namespace", f.namespace_},
                                    {"remote_port", f.remote_port},
                                    {"local_port", f.local_port},
                                    {"state", f.state}});
  }
  out["forwards"] = std::move(forwards);
  if (record.intercept) {
    const auto& i = *record.intercept;
    json::array ports;
    for (const auto& p : i.ports)
      ports.push_back(json::object{{"remote", p.remote}, {"local", p.local}});
    out["intercept"] =
        json::object{{"service", i.service},
                     {"namespace", i.namespace_},
                     {"ports", std::move(ports)},
                     {"agent", i.agent},
                     {"original_selector", core::parse_json_or_null(i.original_selector_json)},
                     {"state", i.state}};
  }
  return out;
}

std::optional<SessionRecord> parse_session_record(std::string_view text) {
  const json::value doc = core::parse_json_or_null(text);
  if (!doc.is_object()) return std::nullopt;
  const auto& o = doc.get_object();
  if (num(o, "v") != kRecordVersion) return std::nullopt;
  SessionRecord r;
  r.id = str(o, "id");
  r.kind = str(o, "kind");
  r.origin = str(o, "origin");
  r.started_at = str(o, "started_at");
  if (!valid_id(r.id) || (r.kind != "connect" && r.kind != "intercept")) return std::nullopt;
  if (const auto* owner = obj(o, "owner")) {
    r.owner_pid = static_cast<int>(num(*owner, "pid"));
    r.owner_start_time = static_cast<std::uint64_t>(num(*owner, "start_time"));
  }
  if (const auto* kube = obj(o, "kube")) {
    r.kube.kubeconfig = str(*kube, "kubeconfig");
    r.kube.context = str(*kube, "context");
    r.kube.kubectl = str(*kube, "kubectl");
    if (r.kube.kubectl.empty()) r.kube.kubectl = "kubectl";
  }
  if (const auto* forwards = arr(o, "forwards")) {
    for (const auto& v : *forwards) {
      if (!v.is_object()) continue;
      const auto& f = v.get_object();
      r.forwards.push_back(ForwardRecord{str(f, "service"), str(f, "namespace"),
                                         static_cast<int>(num(f, "remote_port")),
                                         static_cast<int>(num(f, "local_port")), str(f, "state")});
    }
  }
  if (const auto* i = obj(o, "intercept")) {
    InterceptRecord ir;
    ir.service = str(*i, "service");
    ir.namespace_ = str(*i, "namespace");
    ir.agent = str(*i, "agent");
    ir.state = str(*i, "state");
    if (const auto* sel = i->if_contains("original_selector"); sel != nullptr && sel->is_object())
      ir.original_selector_json = core::to_json_string(*sel);
    if (const auto* ports = arr(*i, "ports")) {
      for (const auto& v : *ports) {
        if (!v.is_object()) continue;
        ir.ports.push_back(BridgePortMapping{static_cast<int>(num(v.get_object(), "remote")),
                                             static_cast<int>(num(v.get_object(), "local"))});
      }
    }
    r.intercept = std::move(ir);
  }
  return r;
}

SessionRecord new_session_record(std::string id, std::string kind, std::string origin,
                                 KubeSettings kube) {
  SessionRecord r;
  r.id = std::move(id);
  r.kind = std::move(kind);
  r.origin = std::move(origin);
  r.owner_pid = static_cast<int>(::getpid());
  r.owner_start_time = core::process_start_time(r.owner_pid).value_or(0);
  r.started_at = now_rfc3339();
  r.kube = std::move(kube);
  return r;
}

void SessionStore::save(const SessionRecord& record) {
  if (!valid_id(record.id)) throw Error(ErrorCode::internal, "invalid bridge session id");
  // 0600: the record names the cluster and the Service's selector, not for other local users.
  context_.state().write(key_of(record.id), core::to_json_string(to_json(record)),
                         FileAccess::private_);
}

void SessionStore::remove(std::string_view id) {
  if (valid_id(id)) context_.state().remove(key_of(id));
}

std::optional<SessionRecord> SessionStore::load(std::string_view id) const {
  if (!valid_id(id)) return std::nullopt;
  const auto text = context_.state().read(key_of(id));
  if (!text) return std::nullopt;
  return parse_session_record(*text);
}

std::vector<SessionRecord> SessionStore::load_all() const {
  std::vector<SessionRecord> out;
  for (const auto& key : context_.state().list("bridge")) {
    if (key.size() < 5 || key.substr(key.size() - 5) != ".json") continue;
    const auto text = context_.state().read(key);
    if (!text) continue;  // removed meanwhile
    if (auto record = parse_session_record(*text)) out.push_back(std::move(*record));
  }
  return out;
}

void SessionStore::request_stop(std::string_view id) {
  if (valid_id(id)) context_.state().write("bridge/stop/" + std::string(id), "stop\n");
}

bool SessionStore::stop_requested(std::string_view id) const {
  return valid_id(id) && context_.state().read("bridge/stop/" + std::string(id)).has_value();
}

void SessionStore::clear_stop(std::string_view id) {
  if (valid_id(id)) context_.state().remove("bridge/stop/" + std::string(id));
}

bool SessionStore::owner_alive(const SessionRecord& record) {
  return record.owner_pid > 0 && core::process_alive(record.owner_pid, record.owner_start_time);
}

void wait_while_running(OperationScope& scope, const SessionStore& store, std::string_view id,
                        const std::function<std::optional<Error>()>& failure) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  while (!scope.cancelled() && !store.stop_requested(id)) {
    // Stop requests are files: polled, a few times a second.
    cv.wait_for(lock, scope.stop_token(), std::chrono::milliseconds(250), [] { return false; });
    if (auto error = failure()) throw *error;
  }
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t filled = 0;
  while (filled < bytes) {
    const ssize_t n = ::getrandom(raw.data() + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::io, "getrandom failed");
    }
    filled += static_cast<std::size_t>(n);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace devx::bridge
