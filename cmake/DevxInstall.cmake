# Install rules for libdevx: the library, its public headers, a relocatable CMake package
# (find_package(devx CONFIG) -> devx::devx) and a relocatable pkg-config file (devx.pc).
# The devx CLI installs itself (tools/devx-cli).
include(CMakePackageConfigHelpers)

set(DEVX_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/devx"
    CACHE STRING "Where devxConfig.cmake is installed, relative to the prefix")
mark_as_advanced(DEVX_INSTALL_CMAKEDIR)

install(TARGETS devx
  EXPORT devxTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT devel
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# Public headers: the C++ API, the generated version header and the C ABI header, all in
# <prefix>/include/devx/.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/devx/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/devx COMPONENT devel
  FILES_MATCHING PATTERN "*.hpp")
install(FILES
    ${PROJECT_BINARY_DIR}/generated/devx/version.hpp
    ${PROJECT_SOURCE_DIR}/capi/include/devx/devx.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/devx COMPONENT devel)

install(EXPORT devxTargets
  NAMESPACE devx::
  FILE devxTargets.cmake
  DESTINATION ${DEVX_INSTALL_CMAKEDIR} COMPONENT devel)

# The shared library keeps its dependencies private: consumers need nothing else. A static
# libdevx carries them in its link interface, so the package must find them first.
if(DEVX_BUILD_SHARED)
  set(DEVX_PACKAGE_STATIC OFF)
else()
  set(DEVX_PACKAGE_STATIC ON)
endif()

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/devxConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/devxConfig.cmake
  INSTALL_DESTINATION ${DEVX_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/package/devxConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
    ${PROJECT_BINARY_DIR}/package/devxConfig.cmake
    ${PROJECT_BINARY_DIR}/package/devxConfigVersion.cmake
  DESTINATION ${DEVX_INSTALL_CMAKEDIR} COMPONENT devel)

# devx.pc locates the prefix from its own directory (${pcfiledir}), so a staged or relocated
# install works without rewriting it.
file(RELATIVE_PATH DEVX_PC_PREFIX_FROM_PCDIR
  "/devx-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/devx-prefix")
string(REGEX REPLACE "/$" "" DEVX_PC_PREFIX_FROM_PCDIR "${DEVX_PC_PREFIX_FROM_PCDIR}")
if(DEVX_PACKAGE_STATIC)
  set(DEVX_PC_REQUIRES_PRIVATE "yaml-cpp, spdlog, fmt, simdjson, libcurl, zlib")
  set(DEVX_PC_LIBS_PRIVATE "-lboost_json -lstdc++ -lm -pthread")
  set(DEVX_PC_CFLAGS_EXTRA " -DDEVX_STATIC")
else()
  set(DEVX_PC_REQUIRES_PRIVATE "")
  set(DEVX_PC_LIBS_PRIVATE "")
  set(DEVX_PC_CFLAGS_EXTRA "")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/devx.pc.in ${PROJECT_BINARY_DIR}/package/devx.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/devx.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT devel)
