#pragma once
// `limactl list --json` and `colima list --json` print one JSON object per machine per line, with
// the same keys: name, status ("Running" | "Stopped" | …), cpus, and memory and disk in bytes.
#include <devx/context.hpp>

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "vm/provider.hpp"

namespace devx::vm {

// Runs the listing; Error(command_failed) when it fails. Lines that are not objects are skipped.
std::vector<boost::json::object> list_json_lines(Context& context,
                                                 const std::vector<std::string>& argv,
                                                 std::string_view what);

// The state of machine `vm` in a listing ("not-created" when absent).
MachineState machine_state_in(const std::vector<boost::json::object>& listing,
                              const std::string& vm);

std::vector<std::string> machine_names_in(const std::vector<boost::json::object>& listing);

}  // namespace devx::vm
