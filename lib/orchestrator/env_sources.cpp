// Environment sources: dotenv files and the secret managers' CLIs. One adapter per tool: it builds
// the argv (references only; secret values never travel in argv) and reads the value from stdout.
#include <devx/error.hpp>

#include <fstream>
#include <sstream>

#include "orchestrator/environment.hpp"

namespace devx::orchestrator {
namespace {

struct SourceUri {
  std::string scheme;  // file | 1password | bitwarden | gcp
  std::string rest;
};

SourceUri split_uri(std::string_view uri) {
  const auto sep = uri.find("://");
  if (sep == std::string_view::npos) return {"file", std::string(uri)};
  std::string scheme(uri.substr(0, sep));
  std::string rest(uri.substr(sep + 3));
  if (scheme == "op") scheme = "1password";
  if (scheme == "bw") scheme = "bitwarden";
  return {scheme, rest};
}

[[noreturn]] void bad_uri(std::string_view uri, const std::string& why) {
  throw Error(ErrorCode::invalid_argument, "environment source '" + std::string(uri) + "': " + why);
}

// gcp://SECRET, gcp://projects/P/secrets/S, gcp://projects/P/secrets/S/versions/V.
std::vector<std::string> gcloud_argv(std::string_view uri, const std::string& rest,
                                     const EnvMap& base) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(rest);
  while (std::getline(in, part, '/')) {
    if (!part.empty()) parts.push_back(part);
  }
  std::string project;
  std::string secret;
  std::string version = "latest";
  if (parts.size() == 1) {
    secret = parts[0];
    if (auto it = base.find("CLOUDSDK_CORE_PROJECT"); it != base.end()) project = it->second;
  } else if ((parts.size() == 4 || parts.size() == 6) && parts[0] == "projects" &&
             parts[2] == "secrets" && (parts.size() == 4 || parts[4] == "versions")) {
    project = parts[1];
    secret = parts[3];
    if (parts.size() == 6) version = parts[5];
  } else {
    bad_uri(uri, "expected gcp://SECRET or gcp://projects/P/secrets/S[/versions/V]");
  }
  std::vector<std::string> argv{"gcloud", "secrets", "versions",
                                "access", version,   "--secret=" + secret};
  if (!project.empty()) argv.push_back("--project=" + project);
  return argv;
}

}  // namespace

std::optional<std::vector<std::string>> env_source_command(std::string_view uri,
                                                           const EnvMap& base) {
  const SourceUri parsed = split_uri(uri);
  if (parsed.scheme == "file") return std::nullopt;
  if (parsed.rest.empty()) bad_uri(uri, "nothing after the scheme");
  if (parsed.scheme == "1password")
    return std::vector<std::string>{"op", "read", "op://" + parsed.rest};
  if (parsed.scheme == "bitwarden")
    return std::vector<std::string>{"bw", "get", "notes", parsed.rest};
  if (parsed.scheme == "gcp") return gcloud_argv(uri, parsed.rest, base);
  bad_uri(uri, "unsupported scheme '" + parsed.scheme +
                   "' (file://, 1password://, bitwarden://, gcp:// are supported)");
}

EnvMap read_env_source(Context& context, std::string_view uri, const EnvMap& base) {
  const Lookup outer = [&](std::string_view name) -> std::optional<std::string> {
    if (auto it = base.find(std::string(name)); it != base.end()) return it->second;
    return std::nullopt;
  };
  auto argv = env_source_command(uri, base);
  if (!argv) {
    const std::string path = split_uri(uri).rest;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw Error(ErrorCode::not_found, "environment file not found: " + path,
                  "create it or remove it from `env`/`env_file` in devx.yaml");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_dotenv(text.str(), path, outer);
  }
  CommandSpec spec;
  spec.argv = *argv;
  spec.env = base;  // BW_SESSION, OP_SERVICE_ACCOUNT_TOKEN, CLOUDSDK_* … reach the tool
  spec.timeout = std::chrono::seconds(60);
  const CommandResult result = context.commands().run(spec);
  if (!result.ok()) {
    // stderr of these tools names the reference, never the value.
    std::string err = result.err.substr(0, 500);
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    throw Error(
        ErrorCode::command_failed,
        "failed fetching \"" + std::string(uri) + "\": '" + argv->front() + "' exited with " +
            std::to_string(result.signal != 0 ? 128 + result.signal : result.exit_code) +
            (err.empty() ? "" : ": " + err),
        argv->front() == "bw" ? "unlock Bitwarden first (export BW_SESSION=$(bw unlock --raw))"
                              : "check that you are signed in to " + argv->front());
  }
  return parse_dotenv(result.out, uri, outer);
}

std::string database_url_variable(DatabaseEngine engine) {
  switch (engine) {
    case DatabaseEngine::postgres:
    case DatabaseEngine::mysql:
      return "DATABASE_URL";
    case DatabaseEngine::redis:
      return "REDIS_URL";
    case DatabaseEngine::mongo:
      return "MONGO_URL";
  }
  return "DATABASE_URL";
}

// Credentials every database runtime provisions (runtime.hpp, DatabaseCredentials).
std::string database_url(const Database& database, int port) {
  const std::string hostport = "127.0.0.1:" + std::to_string(port);
  switch (database.engine) {
    case DatabaseEngine::postgres:
      return "postgres://devx:devx@" + hostport + "/devx?sslmode=disable";
    case DatabaseEngine::mysql:
      return "mysql://devx:devx@" + hostport + "/devx";
    case DatabaseEngine::redis:
      return "redis://" + hostport + "/0";
    case DatabaseEngine::mongo:
      return "mongodb://" + hostport + "/devx";
  }
  return {};
}

}  // namespace devx::orchestrator
