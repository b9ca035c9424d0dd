// libFuzzer target for the devx.yaml loader: arbitrary bytes as the root file's text. The loader
// must never crash, hang or throw for a bad configuration (problems are diagnostics); a project
// that loads must render to JSON.
#include <devx/config.hpp>
#include <devx/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  devx::LoadOptions options;
  options.user = "fuzz";  // no dependence on the environment
  try {
    const devx::LoadResult result = devx::load_project_from_string(text, "/tmp/fuzz/devx.yaml",
                                                                   options);
    if (result.ok()) {
      const std::string json = devx::project_to_json(*result.project);
      if (json.empty()) __builtin_trap();
    } else {
      // A failed load explains itself.
      if (result.diagnostics.empty()) __builtin_trap();
      const std::string json = devx::diagnostics_to_json(result.diagnostics);
      if (json.empty()) __builtin_trap();
    }
  } catch (const devx::Error&) {
    // Documented: config_not_found (for example an include of a missing path) may be thrown.
  }
  return 0;
}
