#pragma once
// What devx records about its tunnels under DEVX_HOME/tunnel (docs/tunnels.md, "State"):
//   machine.json            {"v":1,"machine_id","tunnel":<tunnel>|null}
//   projects/<label>.json   {"v":1,"project","tunnel":<tunnel>|null}
//   exposures/<id>.json     one exposure (id = its hostname)
// where <tunnel> = {"id","name","account_id","api_url","created_at","connector":<connector>|null}
// and <connector> = {"pid","start_time","started_at","log","pid_file"}. Every write is atomic and
// locked (StateStore::update); nothing here holds a secret.
#include <devx/context.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace devx::tunnel {

struct ConnectorRecord {
  int pid = 0;
  std::uint64_t start_time = 0;  // /proc start time: the pid names this process only
  std::string started_at;        // RFC 3339
  std::string log;
  std::string pid_file;
  bool alive() const;
};

struct TunnelRecord {
  std::string id;
  std::string name;
  std::string account_id;
  std::string api_url;
  std::string created_at;
  std::optional<ConnectorRecord> connector;
};

// Which tunnel: the machine's, or a project's. `key` is its state file.
struct TunnelScope {
  std::string key;
  std::string kind;     // "machine" | "project"
  std::string project;  // project name ("" for the machine)
  std::string tunnel_name;
};

struct ProxyRecord {
  std::string kind;     // "basic_auth" | "throttle"
  std::string profile;  // throttle profile
};

struct ExposureRecord {
  std::string id;  // the hostname (unique; a valid state key)
  std::string name;
  std::string hostname;
  int port = 0;         // the local target
  std::string service;  // what the ingress rule points at (the proxy when there is one)
  std::string zone;
  std::string zone_id;
  std::string dns_record_id;
  std::string tunnel_id;
  std::string tunnel_name;
  std::string tunnel_key;  // the TunnelScope key
  std::vector<ProxyRecord> proxies;
  std::string origin;  // "expose" | "up"
  std::string project;
  std::string machine_id;
  int owner_pid = 0;  // the process holding the proxies (0 = none needed)
  std::uint64_t owner_start_time = 0;
  std::string created_at;
};

// The machine id: generated once (16 random hex digits) and kept in machine.json.
std::string machine_id(Context& context);

TunnelScope machine_scope(Context& context);
TunnelScope project_scope(Context& context, const std::string& project);

std::optional<TunnelRecord> read_tunnel(Context& context, const TunnelScope& scope);
// Writes (or with nullopt clears) the scope's tunnel, keeping the file's other keys.
void write_tunnel(Context& context, const TunnelScope& scope,
                  const std::optional<TunnelRecord>& tunnel);
// Every recorded tunnel scope (machine first, then projects).
std::vector<std::pair<TunnelScope, TunnelRecord>> recorded_tunnels(Context& context);

std::vector<ExposureRecord> read_exposures(Context& context);
std::optional<ExposureRecord> read_exposure(Context& context, const std::string& id);
void write_exposure(Context& context, const ExposureRecord& exposure);
void remove_exposure(Context& context, const std::string& id);

std::string exposure_key(const std::string& id);
boost::json::object exposure_to_json(const ExposureRecord& exposure);
std::string now_rfc3339(Context& context);

}  // namespace devx::tunnel
