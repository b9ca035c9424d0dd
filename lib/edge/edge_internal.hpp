#pragma once
// What the edge proxies share inside libdevx: option checks, the credential comparison, the
// counters and the capture store. Nothing here includes Asio or Beast.
#include <devx/edge.hpp>
#include <devx/events.hpp>

#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"

namespace devx::edge {

// Throws Error(invalid_argument) for a bad port, bind address, profile or session name.
void validate_options(const EdgeProxyOptions& options);
void validate_session_name(std::string_view session);
// "<UTC yyyymmdd-hhmmss>-<target port>".
std::string default_session_name(std::chrono::system_clock::time_point now, int target_port);

// Compares every byte of both strings whatever their lengths or the first difference, so the
// time taken says nothing about where the guess went wrong.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;
// True when `authorization` (a request's Authorization header value) is "Basic <base64>" of
// exactly these credentials. The user and the password are both always compared.
bool basic_auth_matches(const BasicAuthCredentials& expected, std::string_view authorization);

struct ProxyStats {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::int64_t> active{0};
  std::atomic<std::uint64_t> bytes_up{0};    // client → target
  std::atomic<std::uint64_t> bytes_down{0};  // target → client
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> upstream_errors{0};
  std::atomic<std::uint64_t> accept_errors{0};
  boost::json::object to_json() const;
};

// What every layer of a chain reports to.
struct ChainSink {
  std::shared_ptr<ProxyStats> stats = std::make_shared<ProxyStats>();
  // Set by the running operation; called on the chain's thread only.
  std::function<void(Event)> emit;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct CapturedMessage {
  HeaderList headers;
  std::string body;  // the first body_limit bytes
  std::uint64_t body_bytes = 0;
  bool body_truncated = false;
};

struct Exchange {
  std::string id;
  std::int64_t started_ms = 0;  // Unix time
  std::string method;
  std::string url;  // the request target as received (path and query)
  std::string host;
  std::string http_version;  // "1.1"
  int status = 0;            // 0 when no response came (error says why)
  std::string reason;
  CapturedMessage request;
  CapturedMessage response;
  double ttfb_ms = 0;      // request header received → response header received
  double duration_ms = 0;  // request header received → response fully relayed
  bool websocket = false;
  std::string error;
};

// Appends exchanges to DEVX_HOME/inspect/<session>/ (directory 0700, files 0600): one JSON line
// per exchange in exchanges.jsonl and the captured bodies in bodies/<id>.{request,response}.
// Thread-safe.
class CaptureWriter {
 public:
  CaptureWriter(std::filesystem::path dir, std::string session, int target_port,
                std::size_t body_limit);

  const std::string& session() const noexcept { return session_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::size_t body_limit() const noexcept { return body_limit_; }
  // A new id, unique within the session (ids continue across runs).
  std::string next_id();
  // Writes the exchange; returns its summary (the list_captures entry).
  boost::json::object record(const Exchange& exchange);

 private:
  std::filesystem::path dir_;
  std::string session_;
  int target_port_;
  std::size_t body_limit_;
  std::mutex mutex_;
  std::uint64_t next_ = 1;
  core::UniqueFd log_;  // exchanges.jsonl, open for appending while the writer lives
};

// Headers a proxy never passes on (RFC 9110 §7.6.1), by lower-case name.
bool is_hop_by_hop(std::string_view lower_name);

}  // namespace devx::edge
