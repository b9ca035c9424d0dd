// devx sites init|verify|status — a repository's GitHub Pages site on a custom domain with its
// Cloudflare DNS record (docs/sites.md). init and verify show their plan and ask (-y answers).
#include <devx/sites.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/net_common.hpp"
#include "commands/plan_output.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct SiteFlags {
  std::string repo;
  std::vector<std::string> env_files;
};

struct InitFlags {
  std::string domain;
  std::string zone;
  std::string name;
};

struct VerifyFlags {
  std::string domain;
  std::string zone;
  std::string txt_name;
  std::string txt_value;
};

devx::SitesOptions site_options(const SiteFlags& flags) {
  devx::SitesOptions options;
  options.repo = flags.repo;
  // The library falls back to the project's env files when none is named.
  if (!flags.env_files.empty()) options.cloudflare = cloudflare_settings(flags.env_files);
  return options;
}

// The operation-specific keys of a result as "key value" lines.
void show_summary(Output& out, const json::value& doc, std::string_view done) {
  out.status(out.paint(Style::green, "✓") + " " + std::string(done));
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, value] : doc.as_object()) {
    if (key == "v" || key == "operation" || key == "dry_run" || key == "actions") continue;
    if (value.is_object()) {
      for (const auto& [inner, item] : value.as_object()) {
        if (!item.is_object() && !item.is_array()) {
          rows.push_back({std::string(key) + "." + std::string(inner), cell(value, inner)});
        }
      }
      continue;
    }
    rows.push_back({std::string(key), cell(doc, key)});
  }
  out.result(aligned_columns(rows));
}

int run_init(Output& out, const SiteFlags& site, const InitFlags& flags) {
  auto context = make_context(out.options());
  const auto result = with_confirmation(out, context->dry_run(), [&](bool assume_yes) {
    devx::SitesInitOptions options;
    options.site = site_options(site);
    options.site.assume_yes = assume_yes;
    options.domain = flags.domain;
    options.zone = flags.zone;
    options.name = flags.name;
    return devx::sites_init(*context, options);
  });
  show_result(out, result, [&](const json::value& doc) {
    show_summary(out, doc, "GitHub Pages set up for " + cell(doc.at("site"), "fqdn"));
    const auto& verification = doc.at("verification");
    if (verification.is_object()) {
      out.status(out.paint(Style::yellow, "next:") + " GitHub wants the domain verified: open " +
                 cell(verification, "url") + ", then run devx sites verify --domain " +
                 flags.domain + " --txt-value <code>");
    }
  });
  return 0;
}

int run_verify(Output& out, const SiteFlags& site, const VerifyFlags& flags) {
  auto context = make_context(out.options());
  const auto result = with_confirmation(out, context->dry_run(), [&](bool assume_yes) {
    devx::SitesVerifyOptions options;
    options.site = site_options(site);
    options.site.assume_yes = assume_yes;
    options.domain = flags.domain;
    options.zone = flags.zone;
    options.txt_name = flags.txt_name;
    options.txt_value = flags.txt_value;
    return devx::sites_verify(*context, options);
  });
  show_result(out, result, [&](const json::value& doc) {
    show_summary(
        out, doc,
        "verification record in place; press Verify at " + cell(doc.at("verification"), "url"));
  });
  return 0;
}

int run_status(Output& out, const SiteFlags& site) {
  auto context = make_context(out.options());
  show_document(out, devx::sites_status(*context, site_options(site)), [&](const json::value& doc) {
    if (cell(doc, "enabled") != "yes") {
      out.result("GitHub Pages is not enabled for " + cell(doc, "repo") +
                 " (set it up with: devx sites init --domain D)");
      return;
    }
    const auto& pages = doc.at("pages");
    std::vector<std::vector<std::string>> rows{
        {"repo", cell(doc, "repo")},
        {"url", cell(pages, "html_url")},
        {"custom domain", cell(pages, "cname")},
        {"status", cell(pages, "status")},
        {"build", cell(pages, "build_type")},
        {"https enforced", cell(pages, "https_enforced")},
        {"domain state", cell(pages, "protected_domain_state")}};
    if (const auto* cert = pages.as_object().if_contains("https_certificate");
        cert != nullptr && cert->is_object()) {
      rows.push_back(
          {"certificate", cell(*cert, "state") + " (expires " + cell(*cert, "expires_at") + ")"});
    }
    const auto& file = doc.at("cname_file");
    rows.push_back({"CNAME file", file.is_object() ? cell(file, "path") : "none"});
    out.result(aligned_columns(rows));
  });
  return 0;
}

}  // namespace

void add_sites_commands(CLI::App& app, Cli& cli) {
  auto* sites = app.add_subcommand("sites", "GitHub Pages on a custom domain (Cloudflare DNS)");
  sites->require_subcommand(1);
  auto site = std::make_shared<SiteFlags>();
  sites->add_option("--repo", site->repo, "OWNER/NAME (default: the repository gh sees here)");
  add_env_file_flag(*sites, site->env_files);
  auto sub = [sites](const char* name, const char* description) {
    auto* command = sites->add_subcommand(name, description);
    command->fallthrough();
    return command;
  };

  auto init = std::make_shared<InitFlags>();
  auto* i = sub("init", "Enable Pages on <name>.<domain> and create its CNAME (asks)");
  i->add_option("--domain", init->domain, "parent domain of the site")->required();
  i->add_option("--zone", init->zone, "Cloudflare zone (default: found from the domain)");
  i->add_option("--name", init->name, "the site's label (default: the repository name)");
  i->callback([&cli, site, init] {
    cli.action = [site, init](Output& out) { return run_init(out, *site, *init); };
  });

  auto verify = std::make_shared<VerifyFlags>();
  auto* v = sub("verify", "Create the TXT record GitHub verifies the domain with (asks)");
  v->add_option("--domain", verify->domain, "the domain to verify")->required();
  v->add_option("--zone", verify->zone, "Cloudflare zone (default: found from the domain)");
  v->add_option("--txt-name", verify->txt_name,
                "record name (default: _github-pages-challenge-<owner>.<domain>)");
  v->add_option("--txt-value", verify->txt_value, "the code GitHub's Pages settings show");
  v->callback([&cli, site, verify] {
    cli.action = [site, verify](Output& out) { return run_verify(out, *site, *verify); };
  });

  sub("status", "The Pages site, its domain and certificate")->callback([&cli, site] {
    cli.action = [site](Output& out) { return run_status(out, *site); };
  });
}

}  // namespace devx::cli
