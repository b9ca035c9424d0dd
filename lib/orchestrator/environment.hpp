#pragma once
// Environment formulas of `devx up` (docs/orchestration.md, "Environment"): dotenv files, secret
// sources through their CLIs, and the variables a dependency publishes to its dependents.
#include <devx/config.hpp>
#include <devx/context.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devx::orchestrator {

using EnvMap = std::map<std::string, std::string>;
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

// Replaces ${NAME} (and $NAME) with lookup(NAME), or "" when unknown. "\$" and "$$" are a literal
// $.
std::string expand_variables(std::string_view text, const Lookup& lookup);

// Parses dotenv text: KEY=VALUE lines, optional `export `, '#' comments (whole line, or after
// whitespace in an unquoted value), single quotes (literal), double quotes (escapes n t " and a
// backslash and ${VAR} expansion, may span lines), unquoted values (trimmed, ${VAR} expansion).
// Variables expand against earlier keys of the same text, then `outer`. Throws
// Error(config_invalid) naming `origin` and the line of a malformed entry.
EnvMap parse_dotenv(std::string_view text, std::string_view origin, const Lookup& outer = {});

// NAME upper-cased, every character outside [A-Z0-9_] replaced by '_' ("my-api.v2" → "MY_API_V2").
std::string env_name(std::string_view node);

// Reads one environment source URI (file://, 1password://, op://, bitwarden://, bw://, gcp://,
// or a plain path). Secret managers run through ctx.commands(); their output is dotenv text.
// Values are never logged. Throws Error naming the URI (never the values).
EnvMap read_env_source(Context& context, std::string_view uri, const EnvMap& base);

// The argv the adapter runs for a secret-manager URI (no secrets in it), for plans and tests;
// nullopt for file sources. Throws Error(invalid_argument) for a malformed URI.
std::optional<std::vector<std::string>> env_source_command(std::string_view uri,
                                                           const EnvMap& base);

// The engine URL of a database as seen from the host (DATABASE_URL / REDIS_URL / …).
std::string database_url(const Database& database, int port);
// "DATABASE_URL" (postgres, mysql), "REDIS_URL", "MONGO_URL".
std::string database_url_variable(DatabaseEngine engine);

}  // namespace devx::orchestrator
