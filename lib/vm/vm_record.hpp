#pragma once
// The record `vm init` keeps of each VM: DEVX_HOME/vm/<name>.json (0600), and DEVX_HOME/vm/current
// naming the VM init made last (the name resolver's third choice).
//   {"v":1,"name","provider","runtime","created_at","cpus","memory_mb","disk_gb",
//    "ignition":"at-creation"|"replayed"|"not-applicable",
//    "attachments":[{"kind":"tunnel","id","name","hostname"},
//                   {"kind":"dns","zone_id","record_id","name"},
//                   {"kind":"mesh","node","hostname"}]}
// Teardown removes what the attachments name; other domains (tunnel, mesh) add theirs with
// record_attachment().
#include <devx/context.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace devx::vm {

std::string record_key(std::string_view name);

// The record, or nullopt when there is none (or it is not a v1 record of this name).
std::optional<boost::json::object> load_record(Context& context, std::string_view name);

void save_record(Context& context, const boost::json::object& record);

// Adds `attachment` (an object with "kind") to the VM's record, replacing an attachment of the
// same kind and identity (tunnel id, dns record_id, mesh node). Error(not_found) when the VM has
// no record; Error(invalid_argument) for an attachment without a known kind or identity.
void record_attachment(Context& context, std::string_view name,
                       const boost::json::object& attachment);

// Removes the record, and vm/current when it names this VM.
void forget_record(Context& context, std::string_view name);

void set_current(Context& context, std::string_view name);

}  // namespace devx::vm
