#pragma once
// The one resolver of provider and VM name that every VM function uses (include/devx/vm.hpp).
#include <devx/context.hpp>
#include <devx/vm.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vm/provider.hpp"

namespace devx::vm {

struct ResolvedVm {
  VmTarget target;
  std::string platform;  // "linux" | "darwin"
  std::unique_ptr<Provider> provider;
};

ResolvedVm resolve(Context& context, const VmOptions& options);

// "linux" | "darwin" from uname, or `requested` validated.
std::string resolve_platform(std::string_view requested);

// The VM name alone (option → $DEVX_VM_NAME → vm/current → "<user>-dev-machine"); `source` gets
// where it came from.
std::string resolve_vm_name(Context& context, const VmOptions& options, std::string* source);

// "<USER>-dev-machine" with USER from the context env made into a DNS label.
std::string default_vm_name(const Context& context);

// Error(invalid_argument) unless `name` is a DNS label (1-63 of [a-z0-9-], no leading or
// trailing '-'); `origin` says where the name came from.
void validate_vm_name(std::string_view name, std::string_view origin);

// A PATH lookup through the context's environment.
std::optional<std::string> find_in_path(const Context& context, std::string_view binary);

}  // namespace devx::vm
