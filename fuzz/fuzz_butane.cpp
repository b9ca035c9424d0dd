// libFuzzer target for the Butane compiler: arbitrary bytes as a Butane document, compiled with
// and without strict mode. A bad document may only end in a devx::Error; a good one must produce
// an Ignition document the replay reader accepts (remote sources aside).
#include <devx/error.hpp>
#include <devx/ignition.hpp>

#include "vm/ignition/ignition_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool strict : {false, true}) {
    devx::ButaneOptions options;
    options.source_name = "fuzz.bu";
    options.strict = strict;
    options.pretty = !strict;
    try {
      const devx::ButaneOutput output = devx::compile_butane(text, options);
      if (output.ignition.empty() || output.ignition.back() != '\n') __builtin_trap();
      try {
        (void)devx::ignition::read_ignition(output.ignition);
      } catch (const devx::Error& e) {
        // Remote sources and config references cannot be replayed; anything else we wrote, we
        // must be able to read.
        if (e.code() != devx::ErrorCode::unsupported) __builtin_trap();
      }
    } catch (const devx::Error& e) {
      if (e.message().empty()) __builtin_trap();
    }
  }
  return 0;
}
