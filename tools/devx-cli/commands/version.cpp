// devx version
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
        out.document(doc);
      } else {
        out.result("devx " + std::string(devx::version()) + " (abi " +
                   std::to_string(devx::abi_version()) + ")");
      }
      return 0;
    };
  });
}

}  // namespace devx::cli
