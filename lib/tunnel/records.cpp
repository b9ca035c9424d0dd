#include "tunnel/records.hpp"

#include <devx/error.hpp>
#include <devx/tunnel.hpp>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <chrono>
#include <random>

#include "core/json.hpp"
#include "core/proc_stat.hpp"

namespace devx::tunnel {
namespace {

namespace json = boost::json;
using core::int_field;
using core::string_field;

constexpr std::string_view machine_key = "tunnel/machine.json";

json::object connector_to_json(const ConnectorRecord& c) {
  return {{"pid", c.pid},
          {"start_time", c.start_time},
          {"started_at", c.started_at},
          {"log", c.log},
          {"pid_file", c.pid_file}};
}

ConnectorRecord connector_from(const json::object& o) {
  ConnectorRecord c;
  c.pid = static_cast<int>(int_field(o, "pid"));
  if (auto* t = o.if_contains("start_time"); t && t->is_number())
    c.start_time = t->to_number<std::uint64_t>();
  c.started_at = string_field(o, "started_at");
  c.log = string_field(o, "log");
  c.pid_file = string_field(o, "pid_file");
  return c;
}

json::object tunnel_to_json(const TunnelRecord& t) {
  json::object o{{"id", t.id},
                 {"name", t.name},
                 {"account_id", t.account_id},
                 {"api_url", t.api_url},
                 {"created_at", t.created_at}};
  o["connector"] = t.connector ? json::value(connector_to_json(*t.connector)) : json::value();
  return o;
}

std::optional<TunnelRecord> tunnel_from(const json::object& file) {
  const auto* t = file.if_contains("tunnel");
  if (!t || !t->is_object()) return std::nullopt;
  const auto& o = t->as_object();
  TunnelRecord r{string_field(o, "id"),         string_field(o, "name"),
                 string_field(o, "account_id"), string_field(o, "api_url"),
                 string_field(o, "created_at"), std::nullopt};
  if (auto* c = o.if_contains("connector"); c && c->is_object())
    r.connector = connector_from(c->as_object());
  return r;
}

ExposureRecord exposure_from(const json::object& o) {
  ExposureRecord e;
  e.id = string_field(o, "id");
  e.name = string_field(o, "name");
  e.hostname = string_field(o, "hostname");
  e.port = static_cast<int>(int_field(o, "port"));
  e.service = string_field(o, "service");
  e.zone = string_field(o, "zone");
  e.zone_id = string_field(o, "zone_id");
  e.dns_record_id = string_field(o, "dns_record_id");
  e.tunnel_id = string_field(o, "tunnel_id");
  e.tunnel_name = string_field(o, "tunnel_name");
  e.tunnel_key = string_field(o, "tunnel_key");
  if (auto* p = o.if_contains("proxies"); p && p->is_array()) {
    for (const auto& item : p->as_array()) {
      if (item.is_object())
        e.proxies.push_back(
            {string_field(item.as_object(), "kind"), string_field(item.as_object(), "profile")});
    }
  }
  if (auto* owner = o.if_contains("owner"); owner && owner->is_object()) {
    const auto& w = owner->as_object();
    e.origin = string_field(w, "origin");
    e.project = string_field(w, "project");
    e.machine_id = string_field(w, "machine_id");
    e.owner_pid = static_cast<int>(int_field(w, "pid"));
    if (auto* t = w.if_contains("start_time"); t && t->is_number())
      e.owner_start_time = t->to_number<std::uint64_t>();
  }
  e.created_at = string_field(o, "created_at");
  return e;
}

json::object read_object(Context& context, std::string_view key) {
  const auto text = context.state().read(key);
  if (!text) return {};
  const json::value parsed = core::parse_json_or_null(*text);
  return parsed.is_object() ? parsed.as_object() : json::object{};
}

}  // namespace

bool ConnectorRecord::alive() const { return pid > 0 && core::process_alive(pid, start_time); }

std::string now_rfc3339(Context& context) {
  const auto now = std::chrono::floor<std::chrono::seconds>(context.clock().now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

std::string machine_id(Context& context) {
  std::string id;
  if (context.dry_run()) {  // a plan changes nothing, not even the id file
    id = string_field(read_object(context, machine_key), "machine_id");
    return id.empty() ? "MACHINE_ID" : id;
  }
  context.state().update(machine_key, [&](std::optional<std::string> current) {
    json::object file;
    if (current) {
      const json::value parsed = core::parse_json_or_null(*current);
      if (parsed.is_object()) file = parsed.as_object();
    }
    id = string_field(file, "machine_id");
    if (!id.empty()) return current;
    std::random_device random;
    id = fmt::format("{:08x}{:08x}", random(), random());
    file["v"] = 1;
    file["machine_id"] = id;
    if (!file.contains("tunnel")) file["tunnel"] = nullptr;
    return std::optional<std::string>(core::to_json_string(file));
  });
  return id;
}

TunnelScope machine_scope(Context& context) {
  return {std::string(machine_key), "machine", "", "devx-" + machine_id(context)};
}

TunnelScope project_scope(Context& context, const std::string& project) {
  const std::string label = tunnel_dns_label(project);
  return {"tunnel/projects/" + label + ".json", "project", project,
          "devx-" + machine_id(context) + "-" + label};
}

std::optional<TunnelRecord> read_tunnel(Context& context, const TunnelScope& scope) {
  return tunnel_from(read_object(context, scope.key));
}

void write_tunnel(Context& context, const TunnelScope& scope,
                  const std::optional<TunnelRecord>& tunnel) {
  context.state().update(scope.key, [&](std::optional<std::string> current) {
    json::object file;
    if (current) {
      const json::value parsed = core::parse_json_or_null(*current);
      if (parsed.is_object()) file = parsed.as_object();
    }
    file["v"] = 1;
    if (scope.kind == "project") file["project"] = scope.project;
    file["tunnel"] = tunnel ? json::value(tunnel_to_json(*tunnel)) : json::value();
    return std::optional<std::string>(core::to_json_string(file));
  });
}

std::vector<std::pair<TunnelScope, TunnelRecord>> recorded_tunnels(Context& context) {
  std::vector<std::pair<TunnelScope, TunnelRecord>> out;
  const auto machine = read_object(context, machine_key);
  if (auto t = tunnel_from(machine)) {
    out.emplace_back(TunnelScope{std::string(machine_key), "machine", "", t->name}, *t);
  }
  for (const auto& key : context.state().list("tunnel/projects")) {
    if (!key.ends_with(".json")) continue;
    const auto file = read_object(context, key);
    if (auto t = tunnel_from(file))
      out.emplace_back(TunnelScope{key, "project", string_field(file, "project"), t->name}, *t);
  }
  return out;
}

std::string exposure_key(const std::string& id) { return "tunnel/exposures/" + id + ".json"; }

json::object exposure_to_json(const ExposureRecord& e) {
  json::array proxies;
  for (const auto& p : e.proxies) {
    json::object o{{"kind", p.kind}};
    if (!p.profile.empty()) o["profile"] = p.profile;
    proxies.push_back(std::move(o));
  }
  json::object owner{{"origin", e.origin},
                     {"machine_id", e.machine_id},
                     {"pid", e.owner_pid},
                     {"start_time", e.owner_start_time}};
  if (!e.project.empty()) owner["project"] = e.project;
  return {{"v", 1},
          {"id", e.id},
          {"name", e.name},
          {"hostname", e.hostname},
          {"url", "https://" + e.hostname},
          {"port", e.port},
          {"service", e.service},
          {"zone", e.zone},
          {"zone_id", e.zone_id},
          {"dns_record_id", e.dns_record_id},
          {"tunnel_id", e.tunnel_id},
          {"tunnel_name", e.tunnel_name},
          {"tunnel_key", e.tunnel_key},
          {"proxies", proxies},
          {"owner", owner},
          {"created_at", e.created_at}};
}

std::vector<ExposureRecord> read_exposures(Context& context) {
  std::vector<ExposureRecord> out;
  for (const auto& key : context.state().list("tunnel/exposures")) {
    if (!key.ends_with(".json")) continue;
    const auto o = read_object(context, key);
    if (!o.empty()) out.push_back(exposure_from(o));
  }
  return out;
}

std::optional<ExposureRecord> read_exposure(Context& context, const std::string& id) {
  const auto o = read_object(context, exposure_key(id));
  if (o.empty()) return std::nullopt;
  return exposure_from(o);
}

void write_exposure(Context& context, const ExposureRecord& exposure) {
  context.state().write(exposure_key(exposure.id),
                        core::to_json_string(exposure_to_json(exposure)));
}

void remove_exposure(Context& context, const std::string& id) {
  context.state().remove(exposure_key(id));
}

}  // namespace devx::tunnel
