#include "service_restore.hpp"

#include <curl/curl.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace devx::bridge_agent {
namespace {

namespace json = boost::json;

constexpr const char* kSessionAnnotation = "devx.dev/bridge-session";
constexpr const char* kSelectorAnnotation = "devx.dev/original-selector";

struct Response {
  long status = 0;  // 0: no HTTP response (transport error)
  std::string body;
  std::string error;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  auto text = out.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Kubernetes object names: DNS subdomains. Anything else would need escaping in the URL path.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

Response call(const ApiConfig& api, const char* method, const std::string& path,
              const std::string& body = "", const char* content_type = nullptr) {
  Response response;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    response.error = "curl_easy_init failed";
    return response;
  }
  const auto url = api.base_url + path;
  curl_slist* headers = nullptr;
  const auto authorization = "Authorization: Bearer " + api.token;
  headers = curl_slist_append(headers, authorization.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  const auto type = std::string("Content-Type: ") + (content_type ? content_type : "");
  if (content_type != nullptr) headers = curl_slist_append(headers, type.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          curl_slist_free_all);
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!api.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, api.ca_file.c_str());
  if (!body.empty()) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  if (const auto rc = curl_easy_perform(h); rc != CURLE_OK) {
    response.error = curl_easy_strerror(rc);
    return response;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

bool transient(const Response& response) {
  return response.status == 0 || response.status == 429 || response.status >= 500;
}

std::string describe(const Response& response) {
  if (response.status == 0) return response.error;
  return "HTTP " + std::to_string(response.status);
}

// What the GET found.
struct Observed {
  bool ours = false;
  json::value original_selector;
};

}  // namespace

ApiConfig load_in_cluster_config() {
  auto dir = env("DEVX_AGENT_SA_DIR");
  if (dir.empty()) dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  ApiConfig api;
  api.token = read_file(dir + "/token");
  api.service_account_namespace = read_file(dir + "/namespace");
  api.base_url = env("DEVX_AGENT_API_URL");
  if (api.base_url.empty()) {
    auto host = env("KUBERNETES_SERVICE_HOST");
    const auto port = env("KUBERNETES_SERVICE_PORT");
    if (host.empty() || port.empty()) {
      throw std::runtime_error("KUBERNETES_SERVICE_HOST/PORT are not set (not in a cluster?)");
    }
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    api.base_url = "https://" + host + ":" + port;
    api.ca_file = dir + "/ca.crt";
  }
  while (!api.base_url.empty() && api.base_url.back() == '/') api.base_url.pop_back();
  return api;
}

RestoreOutcome restore_service(const ApiConfig& api, const RestoreRequest& request,
                               const std::function<void(const std::string&)>& log) {
  if (!valid_name(request.namespace_name) || !valid_name(request.service) ||
      request.session_id.empty()) {
    log("restore skipped: target service, namespace or session id missing or invalid");
    return RestoreOutcome::failed;
  }
  const auto path = "/api/v1/namespaces/" + request.namespace_name + "/services/" + request.service;
  const auto what = request.namespace_name + "/" + request.service;
  auto backoff = request.first_backoff;

  for (int attempt = 1; attempt <= request.attempts; ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    const auto got = call(api, "GET", path);
    if (got.status == 404) {
      log("service " + what + " not found; nothing to restore");
      return RestoreOutcome::not_ours;
    }
    if (got.status != 200) {
      log("reading service " + what + " failed: " + describe(got));
      if (transient(got)) continue;
      return RestoreOutcome::failed;
    }

    Observed observed;
    boost::system::error_code ec;
    const auto service = json::parse(got.body, ec);
    const json::object* annotations = nullptr;
    if (!ec && service.is_object()) {
      if (const auto* metadata = service.as_object().if_contains("metadata");
          metadata != nullptr && metadata->is_object()) {
        if (const auto* a = metadata->as_object().if_contains("annotations");
            a != nullptr && a->is_object()) {
          annotations = &a->as_object();
        }
      }
    }
    const auto* session = annotations ? annotations->if_contains(kSessionAnnotation) : nullptr;
    if (session == nullptr || !session->is_string() || session->as_string() != request.session_id) {
      log("service " + what + " is not intercepted by this session; leaving it alone");
      return RestoreOutcome::not_ours;
    }
    const auto* original = annotations->if_contains(kSelectorAnnotation);
    if (original == nullptr || !original->is_string()) {
      log("service " + what + " has no " + kSelectorAnnotation + " annotation; cannot restore");
      return RestoreOutcome::failed;
    }
    const auto selector = json::parse(original->as_string(), ec);
    if (ec || !selector.is_object()) {
      log("service " + what + ": " + kSelectorAnnotation + " is not a JSON object");
      return RestoreOutcome::failed;
    }

    // "/" in an annotation key is "~1" in a JSON pointer (RFC 6901).
    const json::array patch{
        json::object{{"op", "test"},
                     {"path", "/metadata/annotations/devx.dev~1bridge-session"},
                     {"value", request.session_id}},
        json::object{{"op", "replace"}, {"path", "/spec/selector"}, {"value", selector}},
        json::object{{"op", "remove"}, {"path", "/metadata/annotations/devx.dev~1bridge-session"}},
        json::object{{"op", "remove"},
                     {"path", "/metadata/annotations/devx.dev~1original-selector"}}};
    const auto patched =
        call(api, "PATCH", path, json::serialize(patch), "application/json-patch+json");
    if (patched.status >= 200 && patched.status < 300) {
      log("service " + what + " restored to selector " + json::serialize(selector));
      return RestoreOutcome::restored;
    }
    if (patched.status == 409 || patched.status == 422) {
      log("service " + what + " changed meanwhile (" + describe(patched) +
          "); not restoring over someone else's change");
      return RestoreOutcome::conflict;
    }
    log("patching service " + what + " failed: " + describe(patched));
    if (!transient(patched)) return RestoreOutcome::failed;
  }
  log("giving up restoring service " + what + " after " + std::to_string(request.attempts) +
      " attempts");
  return RestoreOutcome::failed;
}

}  // namespace devx::bridge_agent
