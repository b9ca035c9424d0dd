#pragma once
// `devx nuke`: removes what devx created for one project — its containers and volumes (by label),
// its run state, logs and caches under DEVX_HOME — and, only when asked, build artefacts in the
// project tree and global caches. Nothing that git tracks is ever removed. docs/nuke.md.
#include <devx/context.hpp>
#include <devx/export.hpp>

#include <filesystem>
#include <string>

namespace devx {

struct NukeOptions {
  // The project (its devx.yaml is found walking upwards); empty = the current directory.
  std::filesystem::path project_dir;
  // Also build artefacts and dependency folders in the project tree (node_modules, .venv, dist,
  // build, target, __pycache__ at any depth, …) that git does not track.
  bool artifacts = false;
  // Also global caches (Go module and build caches, devx's own caches in DEVX_HOME/cache).
  bool global_caches = false;
  bool assume_yes = false;  // confirmation granted; else Error(prompt_required) with the plan
};

// {"v":1,"project","project_dir","items":[{"kind":"container"|"volume"|"directory"|"file",
//  "name"?,"path"?,"size_bytes","scope":"project"|"artifact"|"global","reason"}],
//  "total_bytes","protected":[{"path","reason"}]}. Read-only.
DEVX_API std::string nuke_plan(Context& context, const NukeOptions& options);

// Removes the plan's items (dry_run: returns the plan). Result: {"v":1,"removed":[…],
// "failed":[{…,"error"}],"freed_bytes"}; throws Error(command_failed) with that result in its
// details when an item could not be removed.
DEVX_API std::string nuke(Context& context, const NukeOptions& options);

}  // namespace devx
