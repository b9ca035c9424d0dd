#include "sites/github_pages.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <cctype>
#include <regex>

#include "core/json.hpp"

namespace devx::sites {

namespace json = boost::json;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

// The human messages of a GitHub error body: "message" plus errors[].message (objects or
// strings), joined.
std::string body_messages(const std::string& body) {
  const auto doc = core::parse_json_or_null(body);
  const auto* object = doc.if_object();
  if (object == nullptr) return {};
  std::vector<std::string> parts;
  if (auto message = core::string_field(*object, "message"); !message.empty())
    parts.push_back(std::move(message));
  if (const auto* errors = object->if_contains("errors"); errors && errors->is_array()) {
    for (const auto& e : errors->as_array()) {
      if (e.is_string()) parts.emplace_back(e.get_string());
      if (e.is_object())
        if (auto message = core::string_field(e.as_object(), "message"); !message.empty())
          parts.push_back(std::move(message));
    }
  }
  std::string joined;
  for (const auto& p : parts) joined += (joined.empty() ? "" : "; ") + p;
  return joined;
}

long http_status_of(const std::string& stderr_text) {
  static const std::regex kStatus(R"(\(HTTP ([0-9]{3})\))");
  std::smatch match;
  if (std::regex_search(stderr_text, match, kStatus)) return std::stol(match[1].str());
  return 0;
}

bool mentions(const std::string& text, std::string_view word) {
  return lower(text).find(word) != std::string::npos;
}

}  // namespace

GitHubPages::GitHubPages(Context& context, std::filesystem::path cwd)
    : context_(context), cwd_(std::move(cwd)) {}

GhResponse GitHubPages::run(const std::vector<std::string>& argv) {
  CommandSpec spec;
  spec.argv = argv;
  if (!cwd_.empty()) spec.cwd = cwd_;
  spec.timeout = std::chrono::seconds(120);
  // gh must not page, prompt or colour what we parse.
  spec.env = {{"GH_PAGER", "cat"}, {"GH_PROMPT_DISABLED", "1"}, {"NO_COLOR", "1"}};
  CommandResult result;
  try {
    result = context_.commands().run(spec);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::command_not_found) throw;
    throw Error(ErrorCode::command_not_found, "the GitHub CLI (gh) is not installed",
                "install it from https://cli.github.com and run `gh auth login`");
  }
  GhResponse response;
  response.ok = result.ok();
  response.body = result.out;
  response.stderr_text = result.err;
  response.http_status = http_status_of(result.err);
  response.messages = body_messages(result.out);
  if (!response.ok && result.timed_out) response.messages = "gh did not answer within 120 s";
  if (!response.ok && response.messages.empty()) response.messages = trimmed(result.err);
  // gh's exit status 4 means it is not authenticated.
  if (!response.ok && result.exit_code == 4 && response.http_status == 0)
    response.http_status = 401;
  return response;
}

void GitHubPages::fail(const std::string& what, const std::vector<std::string>& argv,
                       const GhResponse& response) {
  json::array words;
  for (const auto& a : argv) words.emplace_back(a);
  const auto details = core::to_json_string(json::object{{"argv", std::move(words)},
                                                         {"http_status", response.http_status},
                                                         {"message", response.messages},
                                                         {"stderr", response.stderr_text}});
  const std::string message =
      what + ": " + (response.messages.empty() ? "gh failed" : response.messages) +
      (response.http_status != 0 ? " (HTTP " + std::to_string(response.http_status) + ")" : "");
  switch (response.http_status) {
    case 401:
      throw Error(ErrorCode::permission_denied, message, "run `gh auth login`", details);
    case 403:
      throw Error(ErrorCode::permission_denied, message,
                  "the GitHub account needs admin rights on the repository (gh auth refresh -s "
                  "repo)",
                  details);
    case 404:
      throw Error(ErrorCode::not_found, message,
                  "check the repository name and that your gh account can see it", details);
    case 409:
      throw Error(ErrorCode::conflict, message, {}, details);
    case 422:
      throw Error(ErrorCode::invalid_argument, message, {}, details);
    case 0:
      throw Error(ErrorCode::command_failed, message, {}, details);
    default:
      throw Error(ErrorCode::http, message, {}, details);
  }
}

std::string GitHubPages::current_repo() {
  const std::vector<std::string> argv = {"gh", "repo", "view", "--json", "owner,name"};
  const auto response = run(argv);
  if (!response.ok) {
    try {
      fail("finding the GitHub repository", argv, response);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::permission_denied) throw;
      throw Error(e.code(), e.message(),
                  "run devx in a clone of the repository, or pass the repository as OWNER/NAME",
                  e.details_json());
    }
  }
  const auto doc = core::parse_json_object_or_throw(response.body, "gh repo view output");
  const auto* owner = doc.if_contains("owner");
  const auto login =
      owner && owner->is_object() ? core::string_field(owner->as_object(), "login") : std::string();
  const auto name = core::string_field(doc, "name");
  if (login.empty() || name.empty())
    throw Error(ErrorCode::command_failed, "gh repo view did not name the repository's owner");
  return login + "/" + name;
}

std::string GitHubPages::owner_type(const std::string& owner) {
  const std::vector<std::string> argv = {"gh", "api", "/users/" + owner};
  const auto response = run(argv);
  if (!response.ok) fail("looking up the GitHub account " + owner, argv, response);
  const auto doc = core::parse_json_object_or_throw(response.body, "GitHub user");
  auto type = core::string_field(doc, "type");
  if (type != "User" && type != "Organization")
    throw Error(ErrorCode::command_failed,
                "GitHub account " + owner + " has an unexpected type '" + type + "'");
  return type;
}

std::optional<json::object> GitHubPages::get_pages(const std::string& repo) {
  const std::vector<std::string> argv = {"gh", "api", "/repos/" + repo + "/pages"};
  const auto response = run(argv);
  if (!response.ok && response.http_status == 404) return std::nullopt;
  if (!response.ok) fail("reading the Pages site of " + repo, argv, response);
  return core::parse_json_object_or_throw(response.body, "GitHub Pages site");
}

std::vector<std::string> GitHubPages::enable_argv(const std::string& repo) const {
  return {"gh", "api", "-X", "POST", "/repos/" + repo + "/pages", "-f", "build_type=workflow"};
}

std::vector<std::string> GitHubPages::set_cname_argv(const std::string& repo,
                                                     const std::string& fqdn) const {
  return {"gh", "api", "-X", "PUT", "/repos/" + repo + "/pages", "-f", "cname=" + fqdn};
}

std::vector<std::string> GitHubPages::enforce_https_argv(const std::string& repo) const {
  // -F: a typed field, so the body holds the boolean true, not the string "true".
  return {"gh", "api", "-X", "PUT", "/repos/" + repo + "/pages", "-F", "https_enforced=true"};
}

std::string GitHubPages::enable(const std::string& repo) {
  const auto argv = enable_argv(repo);
  const auto response = run(argv);
  if (response.ok) return "enabled";
  if (response.http_status == 409) return "already-enabled";
  fail("enabling GitHub Pages for " + repo, argv, response);
}

std::string GitHubPages::set_cname(const std::string& repo, const std::string& fqdn) {
  const auto argv = set_cname_argv(repo, fqdn);
  const auto response = run(argv);
  if (response.ok) return "set";
  if (response.http_status == 422 &&
      (mentions(response.messages, "verif") || mentions(response.messages, "already taken")))
    return "verification-needed";
  fail("setting the custom domain " + fqdn, argv, response);
}

std::string GitHubPages::enforce_https(const std::string& repo) {
  const auto argv = enforce_https_argv(repo);
  const auto response = run(argv);
  if (response.ok) return "enforced";
  // Until the certificate exists GitHub refuses (404 "The certificate does not exist yet", or
  // 422); enforcing is retried by running init again.
  if ((response.http_status == 404 || response.http_status == 422) &&
      mentions(response.messages, "certificate"))
    return "pending";
  fail("enforcing HTTPS for " + repo, argv, response);
}

std::string verification_url(const std::string& owner, const std::string& owner_type) {
  if (owner_type == "Organization")
    return "https://github.com/organizations/" + owner + "/settings/pages";
  return "https://github.com/settings/pages";
}

std::string challenge_name(const std::string& owner, const std::string& domain) {
  return lower("_github-pages-challenge-" + owner + "." + domain);
}

}  // namespace devx::sites
