#pragma once
// The provider adapters (one file each); make_provider() in provider.cpp picks one.
#include <memory>
#include <string>
#include <string_view>

#include "vm/provider.hpp"

namespace devx::vm {

std::unique_ptr<Provider> make_podman_provider();
std::unique_ptr<Provider> make_lima_provider(std::string_view platform);
std::unique_ptr<Provider> make_colima_provider(std::string_view platform);
std::unique_ptr<Provider> make_docker_desktop_provider();
std::unique_ptr<Provider> make_orbstack_provider();
std::unique_ptr<Provider> make_host_provider(std::string engine);

// Whole GiB for tools that take GiB (rounded up, at least 1), and a GiB string that keeps a
// fraction ("1.5") for those that accept one.
int whole_gib(int memory_mb);
std::string gib_text(int memory_mb);

}  // namespace devx::vm
