# DEVX_SANITIZE: "" | "address;undefined" | "thread". Applied to every target in the build.
set(DEVX_SANITIZE "" CACHE STRING "Sanitizers to build with (address;undefined or thread)")
if(DEVX_SANITIZE)
  string(REPLACE ";" "," _devx_san "${DEVX_SANITIZE}")
  add_compile_options(-fsanitize=${_devx_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_devx_san})
endif()
