#pragma once
// `devx sites`: a repository's GitHub Pages site on a custom domain, with its DNS record in
// Cloudflare. GitHub is driven through the `gh` CLI (its stdout is parsed; stderr is only used
// for error messages), Cloudflare through its REST API (v4, Bearer token from
// $CLOUDFLARE_API_TOKEN or $CF_API_TOKEN, else the project's environment sources).
// docs/sites.md describes the behaviour.
//
// Mutating calls honour the context's dry_run (the plan, nothing changed) and need
// SitesOptions::assume_yes; without it they throw Error(prompt_required) whose details
// {"confirm":"<question>","plan":{…}} let a caller ask and retry with assume_yes.
// Plans and results:
//   {"v":1,"operation":"sites.init"|"sites.verify","dry_run":bool,"repo":"OWNER/NAME",
//    "actions":[{"kind":"command"|"http"|"file","description","argv"?,"method"?,"url"?,
//                "path"?}], …operation-specific keys}
#include <devx/context.hpp>
#include <devx/export.hpp>
#include <devx/tunnel.hpp>

#include <filesystem>
#include <string>

namespace devx {

struct SitesOptions {
  // The repository's working tree: gh runs here, the CNAME file is written here, devx.yaml is
  // looked for from here. "" = the current directory.
  std::filesystem::path project_dir;
  // "OWNER/NAME"; "" = the repository `gh repo view` reports for project_dir.
  std::string repo;
  // The Cloudflare API (tunnel.hpp). Empty env_sources = the project's `env:` list when
  // project_dir has a devx.yaml.
  CloudflareSettings cloudflare;
  bool assume_yes = false;
};

struct SitesInitOptions {
  SitesOptions site;
  std::string domain;  // parent domain (required): the site is <name>.<domain>
  // The Cloudflare zone holding the record; "" = the longest suffix of <name>.<domain> that is a
  // zone of the account (so non-apex domains work).
  std::string zone;
  std::string name;  // first label; "" = the repository name made into a DNS label
};

// Enables Pages (build type "workflow"; an already enabled site is kept), upserts the proxied=false
// CNAME <name>.<domain> → <owner>.github.io (an A/AAAA record of that name is a conflict:
// Error(conflict), nothing changed), sets the custom domain, enforces HTTPS where GitHub allows
// it already, and writes the CNAME file (docs/public/CNAME when docs/public exists, else ./CNAME)
// when it is missing or different. When GitHub wants the domain verified first, the result says
// so instead of failing. Extra result keys:
//   "site":{"name","domain","fqdn","target","zone":{"id","name"}},"owner_type":"User"|
//   "Organization","pages":"enabled"|"already-enabled","dns":"created"|"updated"|"unchanged",
//   "custom_domain":"set"|"unchanged"|"verification-needed","https":"enforced"|"pending",
//   "cname_file":{"path","written"},"verification":{"url","txt_name"}|null
DEVX_API std::string sites_init(Context& context, const SitesInitOptions& options);

struct SitesVerifyOptions {
  SitesOptions site;
  std::string domain;  // the domain to verify (required)
  std::string zone;    // as in SitesInitOptions
  // The TXT record GitHub asks for: "" = _github-pages-challenge-<owner>.<domain>; a name
  // without a dot gets ".<domain>" appended.
  std::string txt_name;
  // The verification code GitHub shows on its Pages settings page (required: GitHub has no API
  // to read it). Without it, Error(invalid_argument) whose details {"url","txt_name"} say where
  // to find it.
  std::string txt_value;
};

// Upserts the TXT record (content quoted as DNS TXT character strings) so GitHub can verify the
// domain. Extra result keys: "verification":{"url","txt_name"},"dns":"created"|"updated"|
// "unchanged","zone":{"id","name"}. The url is the account's Pages settings page (user or
// organisation form), where the Verify button is.
DEVX_API std::string sites_verify(Context& context, const SitesVerifyOptions& options);

// Read-only: {"v":1,"repo","enabled":bool,"pages":{"url","html_url","cname","status",
// "build_type","https_enforced","protected_domain_state","https_certificate":{"state",
// "description","domains","expires_at"}|null}|null,"cname_file":{"path","content"}|null}.
DEVX_API std::string sites_status(Context& context, const SitesOptions& options);

}  // namespace devx
