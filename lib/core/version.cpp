#include <devx/devx.hpp>
#include <devx/version.hpp>

namespace devx {

std::string_view version() noexcept { return DEVX_VERSION_STRING; }

int abi_version() noexcept { return DEVX_ABI_VERSION; }

}  // namespace devx
