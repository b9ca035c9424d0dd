#pragma once
// Replays an Ignition config into a running machine through an exec transport, for providers
// that take no Ignition file at creation (Lima, Colima) and for `devx vm apply-ignition`. Each
// file's bytes travel base64-encoded on stdin to a fixed script (never in argv, never through a
// heredoc), which installs them with their mode and owner; every failure surfaces.
#include <boost/json/object.hpp>

#include <string_view>

#include "vm/plan.hpp"
#include "vm/provider.hpp"

namespace devx::vm {

// Applies `ignition_json` (an Ignition 3.x document) through `transport`. Returns
// {"files","directories","links","units","kept":[paths left alone because overwrite=false]}.
// Error(invalid_argument) for a malformed config or a relative path, Error(unsupported) for remote
// sources, Error(command_failed) naming the item whose command failed.
boost::json::object replay_ignition(Plan& plan, const ExecTransport& transport,
                                    std::string_view ignition_json);

}  // namespace devx::vm
