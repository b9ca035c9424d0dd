{
  # Compiles the SWIG-generated wrapper (build/swig/devx_wrap.cxx, written by scripts/build.js)
  # and links libdevx. scripts/build.js records how to reach libdevx in build/devx-link.json;
  # scripts/gyp-flags.js reads it back here.
  "targets": [
    {
      "target_name": "devx_native",
      "sources": ["build/swig/devx_wrap.cxx"],
      "include_dirs": ["<!@(node scripts/gyp-flags.js include_dirs)"],
      "defines": ["<!@(node scripts/gyp-flags.js defines)"],
      "libraries": ["<!@(node scripts/gyp-flags.js libraries)"],
      "ldflags": ["<!@(node scripts/gyp-flags.js ldflags)"],
      "cflags_cc": ["-Wno-unused-parameter", "-Wno-unused-function", "-Wno-cast-function-type"]
    }
  ]
}
