// devx version: the version of the loaded libdevx, its C ABI version and the CLI's own.
#include <devx/devx.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <string>

#include "commands/commands.hpp"

namespace devx::cli {

void add_version_command(CLI::App& app, Cli& cli) {
  auto* cmd = app.add_subcommand("version", "Show the devx version");
  cmd->callback([&cli] {
    cli.action = [](Output& out) {
      if (out.json()) {
        boost::json::object doc;
        doc["v"] = 1;
        doc["version"] = devx::version();
        doc["abi_version"] = devx::abi_version();
        doc["cli_version"] = DEVX_VERSION_STRING;
        out.document(doc);
      } else {
        std::string line = "devx " + std::string(devx::version()) + " (abi " +
                           std::to_string(devx::abi_version()) + ")";
        // The CLI was built against DEVX_VERSION_STRING; say so when another libdevx is loaded.
        if (devx::version() != DEVX_VERSION_STRING) line += " [cli " DEVX_VERSION_STRING "]";
        out.result(line);
      }
      return 0;
    };
  });
}

}  // namespace devx::cli
