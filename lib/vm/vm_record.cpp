#include "vm/vm_record.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>

#include "core/json.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

// The field that identifies an attachment of each kind.
std::string identity_field(std::string_view kind) {
  if (kind == "tunnel") return "id";
  if (kind == "dns") return "record_id";
  if (kind == "mesh") return "node";
  return {};
}

}  // namespace

std::string record_key(std::string_view name) { return "vm/" + std::string(name) + ".json"; }

std::optional<json::object> load_record(Context& context, std::string_view name) {
  const auto text = context.state().read(record_key(name));
  if (!text) return std::nullopt;
  auto doc = core::parse_json_or_null(*text);
  auto* record = doc.if_object();
  if (record == nullptr || core::int_field(*record, "v") != 1 ||
      core::string_field(*record, "name") != name)
    return std::nullopt;
  return std::move(*record);
}

void save_record(Context& context, const json::object& record) {
  context.state().write(record_key(core::string_field(record, "name")),
                        core::to_json_string(record), FileAccess::private_);
}

void record_attachment(Context& context, std::string_view name, const json::object& attachment) {
  const auto kind = core::string_field(attachment, "kind");
  const auto field = identity_field(kind);
  if (field.empty() || core::string_field(attachment, field).empty())
    throw Error(ErrorCode::invalid_argument,
                "a VM attachment needs kind tunnel (with id), dns (with record_id) or mesh (with "
                "node)");
  bool found = false;
  context.state().update(
      record_key(name),
      [&](std::optional<std::string> current) -> std::optional<std::string> {
        if (!current) return std::nullopt;
        auto doc = core::parse_json_or_null(*current);
        auto* record = doc.if_object();
        if (record == nullptr) return current;
        found = true;
        auto& list = (*record)["attachments"];
        if (!list.is_array()) list = json::array{};
        auto& attachments = list.as_array();
        const auto id = core::string_field(attachment, field);
        json::array kept;
        for (const auto& a : attachments) {
          const bool same = a.is_object() && core::string_field(a.as_object(), "kind") == kind &&
                            core::string_field(a.as_object(), field) == id;
          if (!same) kept.push_back(a);
        }
        kept.push_back(attachment);
        attachments = std::move(kept);
        return core::to_json_string(*record);
      },
      FileAccess::private_);
  if (!found)
    throw Error(ErrorCode::not_found, "no VM record for '" + std::string(name) + "'",
                "create the VM with `devx vm init` first");
}

void forget_record(Context& context, std::string_view name) {
  context.state().remove(record_key(name));
  if (auto current = context.state().read("vm/current")) {
    std::string recorded = *current;
    while (!recorded.empty() && (recorded.back() == '\n' || recorded.back() == ' '))
      recorded.pop_back();
    if (recorded == name) context.state().remove("vm/current");
  }
}

void set_current(Context& context, std::string_view name) {
  context.state().write("vm/current", std::string(name) + "\n", FileAccess::shared);
}

}  // namespace devx::vm
