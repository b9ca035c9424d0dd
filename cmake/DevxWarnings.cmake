# Warnings for code we own; third-party headers are included as SYSTEM.
function(devx_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wnull-dereference -Wimplicit-fallthrough)
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
