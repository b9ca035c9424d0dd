# Warnings for code we own; third-party headers are included as SYSTEM.
function(devx_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wnull-dereference -Wimplicit-fallthrough)
  # GCC 12 reports false positives at -O2 that would fail optimised builds of correct code:
  # -Wrestrict inside std::string operator+ (GCC bug 105329), -Wdangling-pointer inside
  # yaml-cpp 0.7's node/impl.h, and -Wnull-dereference inside libstdc++ (std::function,
  # shared_ptr) once inlined into our code.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-dangling-pointer
                                             -Wno-null-dereference)
  endif()
  if(DEVX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(devx_set_c_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(DEVX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
