#include "doctor/credentials.hpp"

#include <devx/error.hpp>

#include <yaml-cpp/yaml.h>

#include <boost/json/value.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "orchestrator/environment.hpp"

namespace devx::doctor {
namespace {

namespace fs = std::filesystem;

std::string env_value(const Context& context, const std::string& name) {
  const auto it = context.env().find(name);
  return it != context.env().end() ? it->second : std::string();
}

fs::path home_dir(const Context& context) {
  const std::string home = env_value(context, "HOME");
  return home.empty() ? fs::path() : fs::path(home);
}

bool wanted(const CredentialInputs& inputs, std::string_view area) {
  return std::find(inputs.areas.begin(), inputs.areas.end(), area) != inputs.areas.end();
}

CommandResult run_quietly(Context& context, std::vector<std::string> argv,
                          std::chrono::milliseconds timeout) {
  CommandSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = timeout;
  spec.kill_grace = std::chrono::milliseconds(200);
  return context.commands().run(spec);
}

CredentialCheck cloudflare_api_token(const Context& context, const CredentialInputs& inputs) {
  CredentialCheck check{"tunnel", "Cloudflare API token", false, {}, {}};
  static const std::vector<std::string> kNames = {"CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"};
  for (const auto& name : kNames) {
    if (!env_value(context, name).empty()) {
      check.configured = true;
      check.detail = "set in the environment (" + name + ")";
      return check;
    }
  }
  check.how_to_fix =
      "create a token with Zone:DNS:Edit at https://dash.cloudflare.com/profile/api-tokens and "
      "export CLOUDFLARE_API_TOKEN or add it to " +
      (inputs.env_file.empty() ? std::string(".env") : inputs.env_file.string()) + " (mode 0600)";
  std::error_code ec;
  if (inputs.env_file.empty() || !fs::is_regular_file(inputs.env_file, ec)) {
    check.detail =
        "not set in the environment" +
        (inputs.env_file.empty() ? std::string()
                                 : " and " + inputs.env_file.string() + " does not exist");
    return check;
  }
  std::ifstream in(inputs.env_file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    check.detail = "cannot read " + inputs.env_file.string();
    return check;
  }
  try {
    const auto values = orchestrator::parse_dotenv(text.str(), inputs.env_file.string());
    for (const auto& name : kNames) {
      if (auto it = values.find(name); it != values.end() && !it->second.empty()) {
        check.configured = true;
        check.detail = "set in " + inputs.env_file.string() + " (" + name + ")";
        check.how_to_fix.clear();
        return check;
      }
    }
    check.detail = "set neither in the environment nor in " + inputs.env_file.string();
  } catch (const Error& e) {
    // The parser's message names the file, line and key, never a value.
    check.detail = "cannot parse the dotenv file: " + e.message();
  }
  return check;
}

CredentialCheck cloudflared_login(const Context& context) {
  CredentialCheck check{"tunnel", "cloudflared login", false, {}, {}};
  fs::path cert;
  if (const std::string origin = env_value(context, "TUNNEL_ORIGIN_CERT"); !origin.empty()) {
    cert = origin;
  } else if (const fs::path home = home_dir(context); !home.empty()) {
    cert = home / ".cloudflared" / "cert.pem";
  }
  std::error_code ec;
  if (!cert.empty() && fs::is_regular_file(cert, ec)) {
    check.configured = true;
    check.detail = "origin certificate " + cert.string();
  } else {
    check.detail = cert.empty() ? "HOME is not set" : "no origin certificate at " + cert.string();
    check.how_to_fix = "cloudflared tunnel login";
  }
  return check;
}

// "Logged in to github.com account octocat (keyring)" (gh ≥ 2.40) or "… as octocat (…)".
std::string github_account(const std::string& text) {
  for (const std::string_view marker : {" account ", " as "}) {
    const auto login = text.find("Logged in to ");
    if (login == std::string::npos) return {};
    const auto at = text.find(marker, login);
    if (at == std::string::npos) continue;
    const auto start = at + marker.size();
    const auto end = text.find_first_of(" \n(", start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  return {};
}

CredentialCheck github_cli(Context& context, const CredentialInputs& inputs) {
  CredentialCheck check{"ci", "GitHub CLI authentication", false, {}, {}};
  const auto gh = inputs.installed("gh");
  if (!gh) {
    check.detail = "gh is not installed";
    check.how_to_fix = "install gh, then run: gh auth login";
    return check;
  }
  try {
    const auto result = run_quietly(context, {gh->string(), "auth", "status"}, inputs.timeout);
    if (result.ok()) {
      check.configured = true;
      const std::string account = github_account(result.out + "\n" + result.err);
      check.detail = account.empty() ? "logged in" : "logged in as " + account;
      return check;
    }
    check.detail = result.timed_out ? "`gh auth status` did not answer" : "not logged in";
  } catch (const Error& e) {
    check.detail = e.message();
  }
  check.how_to_fix = "gh auth login";
  return check;
}

CredentialCheck tailscale_state(Context& context, const std::filesystem::path& tailscale,
                                std::chrono::milliseconds timeout) {
  CredentialCheck check{"mesh", "Tailscale", false, {}, {}};
  try {
    const auto result = run_quietly(context, {tailscale.string(), "status", "--json"}, timeout);
    const boost::json::value doc = core::parse_json_or_null(result.out);
    const std::string state =
        doc.is_object() ? core::string_field(doc.get_object(), "BackendState") : std::string();
    if (state == "Running") {
      check.configured = true;
      check.detail = "connected (BackendState Running)";
      return check;
    }
    if (!state.empty()) {
      check.detail = "BackendState " + state;
    } else if (result.timed_out) {
      check.detail = "`tailscale status` did not answer";
    } else {
      check.detail = "tailscaled is not reachable";
    }
  } catch (const Error& e) {
    check.detail = e.message();
  }
  check.how_to_fix = "start tailscaled and run: tailscale up";
  return check;
}

CredentialCheck kubeconfig(const Context& context) {
  CredentialCheck check{"bridge", "kubeconfig", false, {}, {}};
  std::vector<fs::path> files;
  if (const std::string list = env_value(context, "KUBECONFIG"); !list.empty()) {
    std::string_view rest = list;
    while (true) {
      const auto colon = rest.find(':');
      if (const auto part = rest.substr(0, colon); !part.empty()) files.emplace_back(part);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  } else if (const fs::path home = home_dir(context); !home.empty()) {
    files.push_back(home / ".kube" / "config");
  }
  bool any_file = false;
  for (const auto& file : files) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) continue;
    any_file = true;
    try {
      const YAML::Node doc = YAML::LoadFile(file.string());
      // kubectl takes current-context from the first file that sets it.
      if (doc.IsMap() && doc["current-context"] && doc["current-context"].IsScalar()) {
        const auto name = doc["current-context"].as<std::string>();
        if (!name.empty()) {
          check.configured = true;
          check.detail = "current context '" + name + "' (" + file.string() + ")";
          return check;
        }
      }
    } catch (const YAML::Exception& e) {
      check.detail = "cannot parse " + file.string() + ": " + e.msg;
      check.how_to_fix = "fix or regenerate the kubeconfig";
      return check;
    }
  }
  if (any_file) {
    check.detail = "no current-context is set";
    check.how_to_fix = "kubectl config use-context <name>";
  } else {
    check.detail = files.empty() ? "HOME is not set" : "no kubeconfig at " + files.front().string();
    check.how_to_fix = "get a kubeconfig from your cluster provider and set KUBECONFIG";
  }
  return check;
}

}  // namespace

std::vector<CredentialCheck> check_credentials(Context& context, const CredentialInputs& inputs) {
  std::vector<CredentialCheck> checks;
  if (wanted(inputs, "tunnel")) {
    checks.push_back(cloudflare_api_token(context, inputs));
    checks.push_back(cloudflared_login(context));
  }
  if (wanted(inputs, "mesh")) {
    if (const auto tailscale = inputs.installed("tailscale")) {
      checks.push_back(tailscale_state(context, *tailscale, inputs.timeout));
    }
  }
  if (wanted(inputs, "bridge")) checks.push_back(kubeconfig(context));
  if (wanted(inputs, "ci")) checks.push_back(github_cli(context, inputs));
  return checks;
}

}  // namespace devx::doctor
