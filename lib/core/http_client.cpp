// The libcurl HttpClient: one easy handle per request (no shared connection state between
// threads or contexts), CURLOPT_NOSIGNAL so libcurl never touches signals of the host process.
#include <devx/error.hpp>
#include <devx/http.hpp>

#include <curl/curl.h>

#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <mutex>

#include "core/json.hpp"

namespace devx {

std::string HttpResponse::header(std::string_view name) const {
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [&](char a, char b) {
          return lower(static_cast<unsigned char>(a)) == lower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

namespace {

// curl_global_init() must run once before any other libcurl call and is not thread-safe on
// older libcurl. This once_flag is the only process-wide state of the HTTP seam; it is never
// undone (curl_global_cleanup() would break other libcurl users in the host process).
void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw Error(ErrorCode::http, "libcurl could not be initialised");
    }
  });
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

struct Transfer {
  HttpResponse response;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  transfer->response.body.append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or "100 Continue"): keep only the final one's headers.
    transfer->response.headers.clear();
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  transfer->response.headers.emplace_back(std::move(name), trim(line.substr(colon + 1)));
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

class CurlHttpClient final : public HttpClient {
 public:
  HttpResponse send(const HttpRequest& request) override {
    ensure_curl_initialised();
    const std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw Error(ErrorCode::http, "libcurl could not create a request handle");
    CURL* h = curl.get();
    Transfer transfer;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};

    std::unique_ptr<curl_slist, SlistDeleter> headers;
    for (const auto& [name, value] : request.headers) {
      // "Name;" is curl's way of sending a header with an empty value.
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
      if (appended == nullptr) throw Error(ErrorCode::http, "out of memory building headers");
      static_cast<void>(headers.release());
      headers.reset(appended);
    }

    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    if (request.timeout > std::chrono::milliseconds::zero()) {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    }

    const std::string& method = request.method;
    const bool sends_body =
        !request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
    if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (sends_body) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      const std::string reason = error_buffer[0] != '\0' ? std::string(error_buffer.data())
                                                         : std::string(curl_easy_strerror(rc));
      boost::json::object details;
      details["method"] = method;
      details["url"] = request.url;
      details["curl_code"] = static_cast<int>(rc);
      if (rc == CURLE_OPERATION_TIMEDOUT) {
        details["timeout_ms"] = request.timeout.count();
        throw Error(ErrorCode::timeout, method + " " + request.url + " timed out: " + reason, {},
                    core::to_json_string(details));
      }
      throw Error(ErrorCode::http, method + " " + request.url + " failed: " + reason, {},
                  core::to_json_string(details));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = status;
    return std::move(transfer.response);
  }
};

}  // namespace

std::shared_ptr<HttpClient> make_curl_http_client() { return std::make_shared<CurlHttpClient>(); }

}  // namespace devx
