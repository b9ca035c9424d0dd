#pragma once
// The one adapter for GitHub (Pages) through the `gh` CLI. Only gh's stdout is parsed as data;
// its stderr is kept apart and used for error messages (gh prints the HTTP status there, e.g.
// "gh: Not Found (HTTP 404)", and the response body on stdout).
#include <devx/context.hpp>
#include <devx/process.hpp>

#include <boost/json/object.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace devx::sites {

// One finished `gh api` call.
struct GhResponse {
  bool ok = false;
  long http_status = 0;  // from "(HTTP NNN)" on stderr; 0 when gh did not say (success)
  std::string body;      // stdout
  std::string stderr_text;
  std::string messages;  // the body's "message" and errors[].message, joined by "; "
};

class GitHubPages {
 public:
  // `cwd`: where gh runs (it finds the repository there). Mutating calls run when called; the
  // caller decides (plans, dry-run, confirmation) before calling them.
  GitHubPages(Context& context, std::filesystem::path cwd);

  // "OWNER/NAME" of the repository in cwd (`gh repo view --json owner,name`).
  std::string current_repo();
  // "User" | "Organization" (`gh api /users/OWNER`).
  std::string owner_type(const std::string& owner);
  // The Pages site of the repository, nullopt when Pages is not enabled (404).
  std::optional<boost::json::object> get_pages(const std::string& repo);

  // The argv of each mutating call (for plans) and the call itself.
  std::vector<std::string> enable_argv(const std::string& repo) const;
  std::vector<std::string> set_cname_argv(const std::string& repo, const std::string& fqdn) const;
  std::vector<std::string> enforce_https_argv(const std::string& repo) const;
  // POST build_type=workflow: "enabled", or "already-enabled" on 409.
  std::string enable(const std::string& repo);
  // PUT cname: "set", or "verification-needed" when GitHub wants the domain verified first.
  std::string set_cname(const std::string& repo, const std::string& fqdn);
  // PUT https_enforced=true: "enforced", or "pending" while GitHub has no certificate yet.
  std::string enforce_https(const std::string& repo);

 private:
  GhResponse run(const std::vector<std::string>& argv);
  [[noreturn]] void fail(const std::string& what, const std::vector<std::string>& argv,
                         const GhResponse& response);

  Context& context_;
  std::filesystem::path cwd_;
};

// The account's Pages settings page (where a domain is verified): the user form
// https://github.com/settings/pages or the organisation form.
std::string verification_url(const std::string& owner, const std::string& owner_type);

// The TXT record name GitHub asks for: _github-pages-challenge-<owner>.<domain> (lower case).
std::string challenge_name(const std::string& owner, const std::string& domain);

}  // namespace devx::sites
