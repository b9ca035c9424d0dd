#pragma once
// Outbound HTTP(S) seam. The default implementation uses libcurl.
#include <devx/export.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace devx {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};
  bool follow_redirects = false;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The first header value with this (case-insensitive) name, or "".
  DEVX_API std::string header(std::string_view name) const;
};

class DEVX_API HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Throws Error(http) on transport failure, Error(timeout) on timeout. Any status is returned.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

DEVX_API std::shared_ptr<HttpClient> make_curl_http_client();

}  // namespace devx
