// vm teardown: removes the named VM and what its record says was made for it (the mesh node,
// the tunnel, its DNS records). Every step runs even when an earlier one failed; each failure is
// in the result and makes the call fail, and the record keeps what could not be removed so a
// second teardown can finish the job.
#include <devx/error.hpp>
#include <devx/vm.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "vm/lifecycle.hpp"
#include "vm/plan.hpp"
#include "vm/vm_record.hpp"

namespace devx {
namespace {

namespace json = boost::json;

struct Outcome {
  json::array steps;
  int failed = 0;
  void add(std::string step, bool ok, std::string detail) {
    steps.push_back(json::object{{"step", std::move(step)}, {"ok", ok}, {"detail", detail}});
    if (!ok) ++failed;
  }
};

std::string describe(const CommandResult& result) {
  std::string text = result.err.empty() ? result.out : result.err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > 300) text = text.substr(text.size() - 300);
  return "exit " + std::to_string(result.exit_code) + (text.empty() ? "" : ": " + text);
}

std::string cloudflare_base(const Context& context) {
  const auto it = context.env().find("DEVX_CLOUDFLARE_API_URL");
  std::string base = it != context.env().end() && !it->second.empty()
                         ? it->second
                         : "https://api.cloudflare.com/client/v4";
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

// The first error message of a Cloudflare v4 envelope, or "".
std::string cloudflare_message(std::string_view body) {
  const auto doc = core::parse_json_or_null(body);
  if (const auto* o = doc.if_object()) {
    if (const auto* errors = o->if_contains("errors"); errors && errors->is_array()) {
      for (const auto& e : errors->as_array())
        if (e.is_object()) return core::string_field(e.as_object(), "message");
    }
  }
  return {};
}

void delete_dns_record(Context& context, vm::Plan& plan, const json::object& a, Outcome& outcome,
                       json::array& remaining) {
  const auto zone = core::string_field(a, "zone_id");
  const auto id = core::string_field(a, "record_id");
  const auto name = core::string_field(a, "name");
  const std::string step = "delete DNS record " + (name.empty() ? id : name);
  const auto url = cloudflare_base(context) + "/zones/" + zone + "/dns_records/" + id;
  plan.note("http", step, {{"method", "DELETE"}, {"url", url}});
  if (plan.dry_run()) return;
  const auto token = context.env().find("CLOUDFLARE_API_TOKEN");
  if (zone.empty() || token == context.env().end() || token->second.empty()) {
    outcome.add(step, false,
                zone.empty() ? "the record has no zone id"
                             : "CLOUDFLARE_API_TOKEN is not set; set it and run teardown again");
    remaining.push_back(a);
    return;
  }
  HttpRequest request;
  request.method = "DELETE";
  request.url = url;
  request.headers = {{"Authorization", "Bearer " + token->second}};
  try {
    const auto response = context.http().send(request);
    // 404: somebody removed it already — the goal is reached.
    if ((response.status >= 200 && response.status < 300) || response.status == 404) {
      outcome.add(step, true, response.status == 404 ? "already gone" : "deleted");
      return;
    }
    const auto message = cloudflare_message(response.body);
    outcome.add(
        step, false,
        "HTTP " + std::to_string(response.status) + (message.empty() ? "" : ": " + message));
  } catch (const Error& e) {
    outcome.add(step, false, e.message());
  }
  remaining.push_back(a);
}

}  // namespace

std::string vm_teardown(Context& context, const VmTeardownOptions& options) {
  const auto r = vm::resolve(context, options.vm);
  const auto& t = r.target;
  const auto& p = *r.provider;
  const auto state = p.inspect(context, t.name);
  auto record = vm::load_record(context, t.name);
  const bool vm_exists = p.creates_vm() && state.exists;
  if (!vm_exists && !record) throw vm::vm_not_found(context, r);

  json::array attachments;
  if (record && !options.keep_attachments) {
    if (const auto* list = record->if_contains("attachments"); list && list->is_array())
      attachments = list->as_array();
  }
  const auto describe_plan = [&](vm::Plan& plan) {
    Outcome outcome;
    json::array remaining;
    for (const auto& value : attachments) {
      if (!value.is_object()) continue;
      const auto& a = value.as_object();
      if (core::string_field(a, "kind") != "mesh") continue;
      const auto node = core::string_field(a, "node");
      const std::string step = "log mesh node " + node + " out";
      // The node can only log itself out, so this runs before the VM goes.
      if (!state.running()) {
        outcome.add(
            step, false,
            "the VM is not running; remove node " + node + " in the Tailscale admin console");
        remaining.push_back(a);
        continue;
      }
      // The dev machine config runs tailscaled in the container devx-tailscaled.
      std::vector<std::string> logout = {t.runtime, "exec", "devx-tailscaled", "tailscale",
                                         "logout"};
      if (p.creates_vm()) logout = p.transport(t.name).wrap(logout, true);
      const auto result = plan.try_command(step, logout);
      outcome.add(step, result.ok(), result.ok() ? "logged out" : describe(result));
      if (!result.ok()) remaining.push_back(a);
    }
    bool vm_removed = !vm_exists;
    if (vm_exists) {
      const auto result = plan.try_command("remove VM " + t.name, p.remove_argv(t.name));
      vm_removed = result.ok();
      outcome.add("remove VM " + t.name, result.ok(), result.ok() ? "removed" : describe(result));
    }
    for (const auto& value : attachments) {
      if (!value.is_object()) continue;
      const auto& a = value.as_object();
      const auto kind = core::string_field(a, "kind");
      if (kind == "tunnel") {
        const auto id = core::string_field(a, "id");
        const std::string step = "delete tunnel " + id;
        const auto result = plan.try_command(step, {"cloudflared", "tunnel", "delete", "-f", id});
        outcome.add(step, result.ok(), result.ok() ? "deleted" : describe(result));
        if (!result.ok()) remaining.push_back(a);
      } else if (kind == "dns") {
        delete_dns_record(context, plan, a, outcome, remaining);
      }
    }
    const auto path = (context.home() / vm::record_key(t.name)).string();
    if (plan.dry_run()) {
      if (record) plan.note("state", "delete the VM record", {{"path", path}});
    } else if (record) {
      if (vm_removed && remaining.empty()) {
        vm::forget_record(context, t.name);
      } else {
        (*record)["attachments"] = remaining;
        if (vm_removed) (*record)["vm_removed"] = true;
        vm::save_record(context, *record);
      }
    }
    return outcome;
  };

  // A dry run changes nothing, so it needs no confirmation.
  if (!options.vm.assume_yes && !context.dry_run()) {
    vm::Plan preview(context, "vm.teardown", t.name, t.provider, true);
    describe_plan(preview);
    throw Error(
        ErrorCode::prompt_required,
        "removing " + t.provider + " VM '" + t.name + "' needs confirmation",
        "pass -y (assume_yes) to remove it",
        core::to_json_string(json::object{
            {"confirm", "Remove VM '" + t.name + "' (" + t.provider + ")" +
                            (attachments.empty() ? std::string()
                                                 : " and its tunnel, DNS records and mesh node") +
                            "? This deletes everything inside it."},
            {"plan", preview.document()}}));
  }
  vm::Plan plan(context, "vm.teardown", t.name, t.provider, context.dry_run());
  auto outcome = describe_plan(plan);
  const int failed = outcome.failed;
  auto doc = plan.document({{"steps", std::move(outcome.steps)}, {"failed", failed}});
  if (failed > 0 && !context.dry_run())
    throw Error(
        ErrorCode::command_failed,
        "teardown of VM '" + t.name + "' left " + std::to_string(failed) + " step(s) undone",
        "see details.steps; fix the cause and run teardown again (the record keeps what "
        "is left)",
        core::to_json_string(doc));
  return core::to_json_string(doc);
}

}  // namespace devx
