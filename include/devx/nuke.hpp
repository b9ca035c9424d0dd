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

// {"v":1,"project","project_dir","run_key","engine":"podman"|"docker"|null,
//  "items":[{"kind":"container"|"volume"|"directory"|"file","name"?,"id"?,"path"?,"size_bytes",
//            "scope":"project"|"artifact"|"global","reason"}],
//  "total_bytes","protected":[{"kind","name"?,"path"?,"reason"}],"notes":[…]}. Read-only.
// Error(conflict) while the project's supervisor or session is alive (run `devx down` first).
DEVX_API std::string nuke_plan(Context& context, const NukeOptions& options);

// Removes the plan's items (dry_run: returns the plan), each re-checked right before it goes (still
// labelled, still untracked …). Result: {"v":1,"project","removed":[…],"failed":[{…,"error"}],
// "skipped":[{…,"skipped_because"}],"freed_bytes"}; throws Error(command_failed) with that result
// in its details when an item could not be removed (the others are still removed).
DEVX_API std::string nuke(Context& context, const NukeOptions& options);

}  // namespace devx
