// devx sites: init, verify and status (include/devx/sites.hpp). Everything read-only (the
// repository, the account type, the zone, the records already there, the Pages site) is gathered
// first, so a conflict stops the command before anything changes; the mutating steps then run in
// order, or are only recorded for a dry run or a confirmation.
#include <devx/config.hpp>
#include <devx/error.hpp>
#include <devx/sites.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>

#include "core/json.hpp"
#include "sites/github_pages.hpp"
#include "sites/txt_record.hpp"
#include "tunnel/cloudflare_api.hpp"

namespace devx {
namespace {

namespace json = boost::json;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

const std::regex& label_pattern() {
  static const std::regex kLabel("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  return kLabel;
}

// A lower-case DNS name of at least two labels, without a trailing dot.
std::string checked_domain(std::string domain, std::string_view what) {
  domain = lower(std::move(domain));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  static const std::regex kName("([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9-]{2,63}");
  if (domain.empty())
    throw Error(ErrorCode::invalid_argument, std::string(what) + " is required",
                "pass the domain the site lives under, e.g. --domain example.com");
  if (domain.size() > 253 || !std::regex_match(domain, kName))
    throw Error(ErrorCode::invalid_argument,
                std::string(what) + " '" + domain + "' is not a DNS name",
                "use a name such as example.com or docs.example.co.uk");
  return domain;
}

// The repository name as a DNS label: lower case, other characters as '-', at most 63.
std::string label_from(const std::string& repo_name) {
  std::string label;
  for (unsigned char c : lower(repo_name)) {
    const bool keep = std::isalnum(c) != 0;
    if (keep)
      label += static_cast<char>(c);
    else if (!label.empty() && label.back() != '-')
      label += '-';
  }
  while (!label.empty() && label.back() == '-') label.pop_back();
  if (label.size() > 63) label.resize(63);
  while (!label.empty() && label.back() == '-') label.pop_back();
  return label;
}

std::filesystem::path start_dir(const SitesOptions& options) {
  return options.project_dir.empty() ? std::filesystem::current_path() : options.project_dir;
}

// The working tree's root: the nearest directory upwards holding .git, nullopt outside one.
std::optional<std::filesystem::path> work_tree_root(const std::filesystem::path& start) {
  std::error_code ec;
  for (auto dir = std::filesystem::absolute(start, ec); !dir.empty(); dir = dir.parent_path()) {
    if (std::filesystem::exists(dir / ".git", ec)) return dir;
    if (dir == dir.parent_path()) break;
  }
  return std::nullopt;
}

// Where the site's CNAME file belongs: docs/public/ when the repository has one (the static
// site generators devx scaffolds publish it), else the repository root.
std::filesystem::path cname_file_in(const std::filesystem::path& root) {
  std::error_code ec;
  if (std::filesystem::is_directory(root / "docs" / "public", ec))
    return root / "docs" / "public" / "CNAME";
  return root / "CNAME";
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  const auto tmp = path.string() + ".devx-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out)
      throw Error(ErrorCode::io, "cannot write " + tmp, "check the permissions of the directory");
  }
  std::error_code ec;
  std::filesystem::permissions(
      tmp,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
          std::filesystem::perms::group_read | std::filesystem::perms::others_read,
      ec);
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error(ErrorCode::io, "cannot write " + path.string());
  }
}

// The Cloudflare settings with the project's environment sources when none were given.
tunnel::ResolvedCloudflare cloudflare_for(Context& context, const SitesOptions& options) {
  auto settings = options.cloudflare;
  if (settings.env_sources.empty()) {
    try {
      const auto project = load_project_or_throw(find_project_file(start_dir(options)));
      settings.env_sources = project.env;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::config_not_found) throw;
    }
  }
  return tunnel::resolve_cloudflare(context, settings);
}

tunnel::Zone zone_for(tunnel::CloudflareApi& api, const std::string& explicit_zone,
                      const std::string& fqdn) {
  if (explicit_zone.empty()) {
    try {
      return api.zone_for_hostname(fqdn);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
      throw Error(
          ErrorCode::not_found,
          "no Cloudflare zone of this account holds " + fqdn + " (looked up every parent domain)",
          "add the domain to Cloudflare, pass --zone, or check the API token's zone access",
          e.details_json());
    }
  }
  const auto zone_name = checked_domain(explicit_zone, "--zone");
  if (fqdn != zone_name && !fqdn.ends_with("." + zone_name))
    throw Error(ErrorCode::invalid_argument, fqdn + " is not inside the zone " + zone_name,
                "pass the zone the name belongs to, or leave --zone out to find it");
  return api.zone_by_name(zone_name);
}

// The ordered actions of a sites plan.
class Actions {
 public:
  void command(const std::string& description, const std::vector<std::string>& argv) {
    actions_.push_back(json::object{{"kind", "command"},
                                    {"description", description},
                                    {"argv", json::array(argv.begin(), argv.end())}});
  }
  void http(const tunnel::ApiCall& call) {
    actions_.push_back(json::object{{"kind", "http"},
                                    {"description", call.description},
                                    {"method", call.method},
                                    {"url", call.url}});
  }
  void file(const std::string& description, const std::filesystem::path& path) {
    actions_.push_back(
        json::object{{"kind", "file"}, {"description", description}, {"path", path.string()}});
  }
  std::function<void(const tunnel::ApiCall&)> recorder() {
    return [this](const tunnel::ApiCall& call) { http(call); };
  }
  bool empty() const { return actions_.empty(); }
  const json::array& list() const { return actions_; }

 private:
  json::array actions_;
};

json::object document(std::string_view operation, bool dry_run, const std::string& repo,
                      const Actions& actions, json::object extra) {
  json::object doc{{"v", 1},
                   {"operation", operation},
                   {"dry_run", dry_run},
                   {"repo", repo},
                   {"actions", actions.list()}};
  for (auto& [k, v] : extra) doc[k] = std::move(v);
  return doc;
}

[[noreturn]] void ask(const std::string& question, const json::object& plan) {
  throw Error(ErrorCode::prompt_required, "this change needs confirmation",
              "pass -y (assume_yes) to go ahead",
              core::to_json_string(json::object{{"confirm", question}, {"plan", plan}}));
}

struct Repository {
  std::string full;  // OWNER/NAME
  std::string owner;
  std::string name;
  std::string owner_type;
  // Where the CNAME file goes: only in a working tree of this very repository.
  std::optional<std::filesystem::path> cname_file;
};

Repository find_repository(sites::GitHubPages& gh, const SitesOptions& options) {
  Repository r;
  std::optional<std::string> here;
  if (options.repo.empty()) {
    here = gh.current_repo();
    r.full = *here;
  } else {
    static const std::regex kRepo("[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}");
    if (!std::regex_match(options.repo, kRepo))
      throw Error(ErrorCode::invalid_argument,
                  "repository '" + options.repo + "' is not OWNER/NAME",
                  "pass it as on GitHub, e.g. acme/handbook");
    r.full = options.repo;
    try {
      here = gh.current_repo();
    } catch (const Error&) {
      // Not in a clone of any repository: no CNAME file to keep.
    }
  }
  const auto slash = r.full.find('/');
  r.owner = r.full.substr(0, slash);
  r.name = r.full.substr(slash + 1);
  r.owner_type = gh.owner_type(r.owner);
  if (here && lower(*here) == lower(r.full))
    if (auto root = work_tree_root(start_dir(options))) r.cname_file = cname_file_in(*root);
  return r;
}

std::optional<tunnel::DnsRecord> existing_cname(tunnel::CloudflareApi& api,
                                                const tunnel::Zone& zone, const std::string& fqdn,
                                                const std::string& target) {
  std::optional<tunnel::DnsRecord> cname;
  json::array conflicting;
  std::string first;
  for (const auto& record : api.list_dns_records(zone.id, {}, fqdn)) {
    if (record.type == "CNAME") {
      cname = record;
      continue;
    }
    conflicting.push_back(
        json::object{{"id", record.id}, {"type", record.type}, {"content", record.content}});
    if (first.empty()) first = record.type + " record (" + record.content + ")";
  }
  if (!conflicting.empty())
    throw Error(ErrorCode::conflict,
                fqdn + " already has " + first + " in zone " + zone.name + "; a CNAME to " +
                    target + " cannot sit next to it",
                "remove the record in the Cloudflare dashboard, or choose another --name",
                core::to_json_string(json::object{{"name", fqdn}, {"records", conflicting}}));
  return cname;
}

}  // namespace

std::string sites_init(Context& context, const SitesInitOptions& options) {
  const auto domain = checked_domain(options.domain, "--domain");
  std::string name = lower(options.name);
  if (!name.empty() && !std::regex_match(name, label_pattern()))
    throw Error(ErrorCode::invalid_argument, "site name '" + options.name + "' is not a DNS label",
                "use 1-63 letters, digits and '-', not starting or ending with '-'");

  sites::GitHubPages gh(context, start_dir(options.site));
  const auto repo = find_repository(gh, options.site);
  if (name.empty()) name = label_from(repo.name);
  if (name.empty())
    throw Error(ErrorCode::invalid_argument,
                "the repository name '" + repo.name + "' gives no DNS label", "pass --name");
  const std::string fqdn = name + "." + domain;
  if (fqdn.size() > 253)
    throw Error(ErrorCode::invalid_argument, fqdn + " is longer than a DNS name can be");
  const std::string target = lower(repo.owner) + ".github.io";

  tunnel::CloudflareApi api(context, cloudflare_for(context, options.site));
  const auto zone = zone_for(api, options.zone, fqdn);
  const auto cname = existing_cname(api, zone, fqdn, target);
  const auto pages = gh.get_pages(repo.full);

  const bool dns_current = cname && lower(cname->content) == target && !cname->proxied;
  const bool cname_set = pages && core::string_field(*pages, "cname") == fqdn;
  const bool https_on = [&] {
    const auto* v = pages ? pages->if_contains("https_enforced") : nullptr;
    return v != nullptr && v->is_bool() && v->get_bool();
  }();
  const std::string file_content = fqdn + "\n";
  const bool file_current =
      repo.cname_file && read_file(*repo.cname_file).value_or("") == file_content;

  const auto run = [&](bool dry_run) {
    Actions actions;
    api.set_recorder(actions.recorder(), dry_run);
    json::object out;
    if (!pages) {
      actions.command("enable GitHub Pages (built by a workflow)", gh.enable_argv(repo.full));
      out["pages"] = dry_run ? "enabled" : gh.enable(repo.full);
    } else {
      out["pages"] = "already-enabled";
    }
    tunnel::DnsRecord record;
    record.type = "CNAME";
    record.name = fqdn;
    record.content = target;
    record.proxied = false;  // GitHub must see the requests to issue the certificate
    record.ttl = 1;
    record.comment = "devx sites: GitHub Pages for " + repo.full;
    if (dns_current) {
      out["dns"] = "unchanged";
    } else if (cname) {
      api.update_dns_record(zone.id, cname->id, record);
      out["dns"] = "updated";
    } else {
      api.create_dns_record(zone.id, record);
      out["dns"] = "created";
    }
    std::string custom_domain = "unchanged";
    if (!cname_set) {
      actions.command("set the custom domain " + fqdn, gh.set_cname_argv(repo.full, fqdn));
      custom_domain = dry_run ? "set" : gh.set_cname(repo.full, fqdn);
    }
    out["custom_domain"] = custom_domain;
    if (https_on) {
      out["https"] = "enforced";
    } else if (custom_domain == "verification-needed") {
      out["https"] = "pending";
    } else {
      actions.command("enforce HTTPS", gh.enforce_https_argv(repo.full));
      out["https"] = dry_run ? "pending" : gh.enforce_https(repo.full);
    }
    if (repo.cname_file) {
      if (!file_current) {
        actions.file("write " + fqdn + " to the site's CNAME file", *repo.cname_file);
        if (!dry_run) write_file_atomically(*repo.cname_file, file_content);
      }
      out["cname_file"] =
          json::object{{"path", repo.cname_file->string()}, {"written", !file_current && !dry_run}};
    } else {
      out["cname_file"] = nullptr;
    }
    out["verification"] = custom_domain == "verification-needed"
                              ? json::value(json::object{
                                    {"url", sites::verification_url(repo.owner, repo.owner_type)},
                                    {"txt_name", sites::challenge_name(repo.owner, domain)}})
                              : json::value(nullptr);
    out["site"] = json::object{{"name", name},
                               {"domain", domain},
                               {"fqdn", fqdn},
                               {"target", target},
                               {"url", "https://" + fqdn},
                               {"zone", json::object{{"id", zone.id}, {"name", zone.name}}}};
    out["owner_type"] = repo.owner_type;
    return document("sites.init", dry_run, repo.full, actions, std::move(out));
  };

  if (context.dry_run()) return core::to_json_string(run(true));
  auto preview = run(true);
  if (preview.at("actions").as_array().empty()) return core::to_json_string(run(false));
  if (!options.site.assume_yes)
    ask("Publish " + repo.full + " with GitHub Pages at https://" + fqdn + " (CNAME " + fqdn +
            " → " + target + " in Cloudflare zone " + zone.name + ")?",
        preview);
  return core::to_json_string(run(false));
}

std::string sites_verify(Context& context, const SitesVerifyOptions& options) {
  const auto domain = checked_domain(options.domain, "--domain");
  sites::GitHubPages gh(context, start_dir(options.site));
  const auto repo = find_repository(gh, options.site);
  std::string txt_name = lower(options.txt_name);
  if (txt_name.empty()) txt_name = sites::challenge_name(repo.owner, domain);
  if (txt_name.find('.') == std::string::npos) txt_name += "." + domain;
  const auto url = sites::verification_url(repo.owner, repo.owner_type);
  if (options.txt_value.empty())
    throw Error(ErrorCode::invalid_argument, "the verification code GitHub shows is needed",
                "open " + url + ", choose \"Add a domain\" for " + domain +
                    ", and pass the TXT value it shows (--txt-value)",
                core::to_json_string(json::object{{"url", url}, {"txt_name", txt_name}}));
  const auto content = sites::quote_txt(options.txt_value);

  tunnel::CloudflareApi api(context, cloudflare_for(context, options.site));
  const auto zone = zone_for(api, options.zone, txt_name);
  std::optional<tunnel::DnsRecord> txt;
  bool unchanged = false;
  for (const auto& record : api.list_dns_records(zone.id, {}, txt_name)) {
    if (record.type == "CNAME")
      throw Error(ErrorCode::conflict,
                  txt_name + " is a CNAME (to " + record.content + "); it cannot hold a TXT record",
                  "remove the CNAME in the Cloudflare dashboard");
    if (record.type != "TXT") continue;
    if (sites::unquote_txt(record.content) == options.txt_value) unchanged = true;
    if (!txt) txt = record;
  }

  const auto run = [&](bool dry_run) {
    Actions actions;
    api.set_recorder(actions.recorder(), dry_run);
    tunnel::DnsRecord record;
    record.type = "TXT";
    record.name = txt_name;
    record.content = content;
    record.ttl = 1;
    record.comment = "devx sites: GitHub Pages domain verification for " + repo.owner;
    std::string dns = "unchanged";
    if (!unchanged && txt) {
      api.update_dns_record(zone.id, txt->id, record);
      dns = "updated";
    } else if (!unchanged) {
      api.create_dns_record(zone.id, record);
      dns = "created";
    }
    return document(
        "sites.verify", dry_run, repo.full, actions,
        json::object{{"dns", dns},
                     {"zone", json::object{{"id", zone.id}, {"name", zone.name}}},
                     {"verification", json::object{{"url", url}, {"txt_name", txt_name}}}});
  };

  if (context.dry_run()) return core::to_json_string(run(true));
  auto preview = run(true);
  if (preview.at("actions").as_array().empty()) return core::to_json_string(run(false));
  if (!options.site.assume_yes)
    ask("Add the TXT record " + txt_name + " in Cloudflare zone " + zone.name +
            " so GitHub can verify " + domain + "?",
        preview);
  return core::to_json_string(run(false));
}

std::string sites_status(Context& context, const SitesOptions& options) {
  sites::GitHubPages gh(context, start_dir(options));
  const auto repo = find_repository(gh, options);
  const auto pages = gh.get_pages(repo.full);
  json::object doc{{"v", 1}, {"repo", repo.full}, {"enabled", pages.has_value()}};
  if (pages) {
    json::object site;
    for (const auto* key : {"url", "html_url", "cname", "status", "build_type", "https_enforced",
                            "protected_domain_state", "pending_domain_unverified_at"}) {
      const auto* v = pages->if_contains(key);
      site[key] = v ? *v : json::value(nullptr);
    }
    const auto* cert = pages->if_contains("https_certificate");
    if (cert != nullptr && cert->is_object()) {
      json::object certificate;
      for (const auto* key : {"state", "description", "domains", "expires_at"}) {
        const auto* v = cert->as_object().if_contains(key);
        certificate[key] = v ? *v : json::value(nullptr);
      }
      site["https_certificate"] = std::move(certificate);
    } else {
      site["https_certificate"] = nullptr;
    }
    doc["pages"] = std::move(site);
  } else {
    doc["pages"] = nullptr;
  }
  if (repo.cname_file) {
    if (auto text = read_file(*repo.cname_file)) {
      while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
      doc["cname_file"] = json::object{{"path", repo.cname_file->string()}, {"content", *text}};
    } else {
      doc["cname_file"] = nullptr;
    }
  } else {
    doc["cname_file"] = nullptr;
  }
  return core::to_json_string(doc);
}

}  // namespace devx
