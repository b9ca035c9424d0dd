#pragma once
// The plan/result document of a mutating tunnel call (include/devx/tunnel.hpp):
//   {"v":1,"operation","dry_run","actions":[{"kind":"http"|"command"|"state", …}], …}
// Cloudflare API calls reach it through the API client's recorder (method + URL, no token),
// commands and state changes through command() and note().
#include <devx/context.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>

#include "tunnel/cloudflare_api.hpp"

namespace devx::tunnel {

class TunnelPlan {
 public:
  TunnelPlan(Context& context, std::string operation);

  bool dry_run() const noexcept { return dry_run_; }
  // Makes `api` report its calls here and, in a dry run, send nothing.
  void attach(CloudflareApi& api);
  // Records a command (argv only: the environment, which may hold secrets, is not shown).
  void note_command(const std::string& description, const std::vector<std::string>& argv);
  void note(std::string kind, std::string description, boost::json::object fields = {});

  boost::json::object document(boost::json::object extra = {}) const;
  std::string to_string(boost::json::object extra = {}) const;

 private:
  std::string operation_;
  bool dry_run_;
  boost::json::array actions_;
};

}  // namespace devx::tunnel
