#pragma once
// --provider and --name, which select the dev VM the same way for `devx vm` and `devx mesh`.
#include <devx/vm.hpp>

#include <string>

#include "output.hpp"

namespace devx::cli {

struct VmFlags {
  std::string provider;
  std::string name;
};

// The library's options for the VM the flags select; -y is the answer to its confirmations.
inline devx::VmOptions vm_options(const Output& out, const VmFlags& flags) {
  devx::VmOptions options;
  options.provider = flags.provider;
  options.name = flags.name;
  options.assume_yes = out.options().yes;
  return options;
}

}  // namespace devx::cli
