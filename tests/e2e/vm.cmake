# The dev VM through the CLI against the fake VM tools (tests/fakes: podman machine, limactl,
# colima, orb, docker, a minimal cloudflared) and the tests of those fakes themselves. The VMs'
# insides are real podman containers (fakevm-*, from the offline busybox image); the tests that
# need them skip with the reason where podman cannot run containers. Serial: they run podman.
# Included from tests/e2e/CMakeLists.txt (after Python and DEVX_BUILD_CLI are known).
add_test(NAME e2e_cli_vm
  COMMAND ${Python_EXECUTABLE} -m pytest -q -p no:cacheprovider
    ${CMAKE_CURRENT_SOURCE_DIR}/test_fakes_vm.py
    ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_vm.py)
set_tests_properties(e2e_cli_vm PROPERTIES
  ENVIRONMENT "DEVX_BIN=$<TARGET_FILE:devx-cli>;CONTAINERS_CONF=${PROJECT_SOURCE_DIR}/tests/images/containers.conf"
  TIMEOUT 900
  RUN_SERIAL TRUE
  LABELS "e2e;vm")
