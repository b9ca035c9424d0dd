# DEVX_SANITIZE: "" | "address;undefined" | "thread". Applied to every target in the build.
set(DEVX_SANITIZE "" CACHE STRING "Sanitizers to build with (address;undefined or thread)")
if(DEVX_SANITIZE)
  string(REPLACE ";" "," _devx_san "${DEVX_SANITIZE}")
  add_compile_options(-fsanitize=${_devx_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_devx_san})
  # Sanitizer instrumentation makes GCC's -Wmaybe-uninitialized report false positives inside
  # the standard library (std::function in <regex>), which -Werror would turn into failures.
  # Likewise -Wmismatched-new-delete on Asio coroutine frames (GCC 12 inlines Asio's
  # aligned_alloc-based frame allocator and then matches the wrong delete against it).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized -Wno-mismatched-new-delete)
  endif()
endif()
