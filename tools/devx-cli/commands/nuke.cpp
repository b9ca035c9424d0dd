// devx nuke [--artifacts] [--global] — removes what devx created for this project (and, when asked,
// untracked build artefacts and global caches): the plan first, then a confirmation (-y), then
// the removal; exit 10 (command_failed) when an item could not be removed. docs/nuke.md.
#include <devx/nuke.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <memory>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/plan_output.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct NukeFlags {
  bool artifacts = false;
  bool global_caches = false;
};

std::uint64_t bytes_of(const json::value& object, std::string_view key) {
  const auto* value = object.is_object() ? object.as_object().if_contains(key) : nullptr;
  if (value == nullptr) return 0;
  if (value->is_uint64()) return value->get_uint64();
  if (value->is_int64() && value->get_int64() > 0)
    return static_cast<std::uint64_t>(value->get_int64());
  if (value->is_double() && value->get_double() > 0) {
    return static_cast<std::uint64_t>(value->get_double());
  }
  return 0;
}

// An item's name as people know it: a container or volume by name, a path relative to the
// project when it lies inside it.
std::string item_label(const json::value& item, const std::string& project_dir) {
  const std::string path = json_text(item, "path");
  if (path.empty()) return json_text(item, "name");
  if (!project_dir.empty()) {
    const auto relative = std::filesystem::path(path).lexically_proximate(project_dir).string();
    if (!relative.empty() && relative.rfind("..", 0) != 0) return relative;
  }
  return path;
}

std::string item_rows(const json::array& items, const std::string& project_dir, bool with_reason) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : items) {
    std::vector<std::string> row{"  " + json_text(item, "kind"), item_label(item, project_dir),
                                 human_size(bytes_of(item, "size_bytes")),
                                 json_text(item, "scope")};
    if (with_reason) row.push_back(json_text(item, "reason"));
    rows.push_back(std::move(row));
  }
  return aligned_columns(rows);
}

std::string plan_text(const json::value& plan) {
  const std::string project_dir = json_text(plan, "project_dir");
  const auto& items = plan.at("items").as_array();
  std::string text = "Project " + json_text(plan, "project") + " (" + project_dir + "):\n";
  if (items.empty()) {
    text += "  nothing to remove\n";
  } else {
    text += item_rows(items, project_dir, true);
    text += "Total: " + human_size(bytes_of(plan, "total_bytes")) + " in " +
            std::to_string(items.size()) + (items.size() == 1 ? " item\n" : " items\n");
  }
  if (const auto* kept = plan.as_object().if_contains("protected");
      kept != nullptr && kept->is_array() && !kept->as_array().empty()) {
    text += "Never removed:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& entry : kept->as_array()) {
      rows.push_back({"  " + item_label(entry, project_dir), json_text(entry, "reason")});
    }
    text += aligned_columns(rows);
  }
  return text;
}

int run_nuke(Output& out, const NukeFlags& flags) {
  auto context = make_context(out.options());
  devx::NukeOptions options;
  options.artifacts = flags.artifacts;
  options.global_caches = flags.global_caches;
  if (out.options().dry_run) {
    // Nothing is removed in a dry run, so no confirmation is needed to see the plan.
    options.assume_yes = true;
    const json::value plan = json::parse(devx::nuke(*context, options));
    if (out.json()) {
      out.document(plan);
    } else {
      out.result(plan_text(plan));
      out.status("dry run: nothing was removed");
    }
    return 0;
  }

  const json::value plan = json::parse(devx::nuke_plan(*context, options));
  const auto& items = plan.at("items").as_array();
  if (items.empty()) {
    if (out.json()) {
      out.document(plan);
    } else {
      out.status(plan_text(plan));
    }
    return 0;
  }
  if (!out.options().yes) out.status(plan_text(plan));
  if (!out.confirm("Remove these " + std::to_string(items.size()) + " item" +
                   (items.size() == 1 ? "" : "s") + " (" +
                   human_size(bytes_of(plan, "total_bytes")) + ")?")) {
    throw devx::Error(devx::ErrorCode::cancelled, "nothing was removed");
  }
  options.assume_yes = true;
  const std::string project_dir = json_text(plan, "project_dir");
  std::string result_json;
  try {
    result_json = devx::nuke(*context, options);
  } catch (const devx::Error& e) {
    // The error's details hold the result: say what went and what stayed before the error.
    const auto details = error_details(e);
    if (!out.json() && e.code() == devx::ErrorCode::command_failed) {
      for (const char* key : {"removed", "failed"}) {
        const auto* list = details.if_contains(key);
        if (list == nullptr || !list->is_array()) continue;
        for (const auto& item : list->as_array()) {
          std::string line = std::string(key) + ": " + item_label(item, project_dir);
          if (const auto error = json_text(item, "error"); !error.empty()) line += " — " + error;
          out.status(line);
        }
      }
    }
    throw;
  }
  const json::value result = json::parse(result_json);
  if (out.json()) {
    out.document(result);
    return 0;
  }
  const auto& removed = result.at("removed").as_array();
  out.result(item_rows(removed, project_dir, false));
  out.status(out.paint(Style::green, "✓") + " removed " + std::to_string(removed.size()) +
             (removed.size() == 1 ? " item" : " items") + ", freed " +
             human_size(bytes_of(result, "freed_bytes")));
  return 0;
}

}  // namespace

void add_nuke_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<NukeFlags>();
  auto* cmd = app.add_subcommand(
      "nuke", "Remove this project's containers, volumes, state and logs (asks first)");
  cmd->add_flag("--artifacts", flags->artifacts,
                "also untracked build and dependency folders (node_modules, .venv, dist, …)");
  cmd->add_flag("--global", flags->global_caches,
                "also global caches (Go module and build caches, devx's own cache)");
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_nuke(out, *flags); }; });
}

}  // namespace devx::cli
