#include "commands/net_common.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace devx::cli {

namespace json = boost::json;

std::string serve_in_foreground(Cli& cli, Output& out, devx::Operation op, std::string_view label,
                                std::string_view stopped,
                                std::function<std::string(const devx::Event&)> on_state,
                                bool stream) {
  const bool json_lines = stream && out.json() && !out.options().dry_run;
  try {
    std::string result =
        run_in_foreground(cli, out, std::move(op), label, json_lines, std::move(on_state));
    if (out.options().dry_run) {
      print_plan(out, json::parse(result));
    } else if (json_lines) {
      std::cout << result << '\n' << std::flush;
    } else if (out.json()) {
      out.document(json::parse(result));
    }
    return result;
  } catch (const devx::Error& e) {
    if (e.code() == devx::ErrorCode::cancelled && cli.cancel->signal() != 0) {
      out.status(std::string(stopped));
      return {};
    }
    throw;
  }
}

void show_document(Output& out, const std::string& document,
                   const std::function<void(const json::value&)>& human) {
  const json::value doc = json::parse(document);
  if (out.json()) {
    out.document(doc);
    return;
  }
  human(doc);
}

void show_result(Output& out, const std::string& document,
                 const std::function<void(const json::value&)>& human) {
  const json::value doc = json::parse(document);
  const auto* dry = doc.is_object() ? doc.as_object().if_contains("dry_run") : nullptr;
  if (dry != nullptr && dry->is_bool() && dry->get_bool()) {
    print_plan(out, doc);
    return;
  }
  if (out.json()) {
    out.document(doc);
    return;
  }
  human(doc);
}

std::string with_confirmation(Output& out, bool dry_run,
                              const std::function<std::string(bool assume_yes)>& call) {
  bool assume_yes = out.options().yes;
  for (int round = 0;; ++round) {
    try {
      return call(assume_yes);
    } catch (const devx::Error& e) {
      if (e.code() != devx::ErrorCode::prompt_required || assume_yes || round > 0) throw;
      if (!error_details(e).contains("confirm")) throw;
      if (!dry_run && !confirm_library_prompt(out, e)) throw;
      assume_yes = true;
    }
  }
}

void add_env_file_flag(CLI::App& command, std::vector<std::string>& files) {
  command.add_option("--env-file", files,
                     "dotenv FILE searched for CLOUDFLARE_API_TOKEN after the environment "
                     "(repeatable; default: ./.env when it exists)");
}

devx::CloudflareSettings cloudflare_settings(const std::vector<std::string>& env_files) {
  devx::CloudflareSettings settings;
  settings.env_sources = env_files;
  std::error_code ec;
  if (env_files.empty() && std::filesystem::is_regular_file(".env", ec)) {
    settings.env_sources.push_back(std::filesystem::absolute(".env", ec).string());
  }
  for (auto& file : settings.env_sources) {
    if (file.find("://") == std::string::npos) file = std::filesystem::absolute(file, ec).string();
  }
  return settings;
}

std::string basic_auth_secret(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("DEVX_BASIC_AUTH");
  return env == nullptr ? std::string() : std::string(env);
}

std::string cell(const json::value& object, std::string_view key) {
  if (!object.is_object()) return "-";
  const auto* value = object.as_object().if_contains(key);
  if (value == nullptr || value->is_null()) return "-";
  if (value->is_string()) return value->as_string().empty() ? "-" : std::string(value->as_string());
  if (value->is_bool()) return value->get_bool() ? "yes" : "no";
  return json::serialize(*value);
}

}  // namespace devx::cli
