# `devx butane`, `devx vm ignition`, `devx doctor` and `devx nuke` through the CLI (pytest).
# Included from tests/e2e/CMakeLists.txt, after Python was found. doctor runs against shim tools
# on a private PATH; nuke runs in temporary git projects (and asks podman, with the suite's
# CONTAINERS_CONF, for the project's containers).
add_test(NAME e2e_cli_butane
  COMMAND ${Python_EXECUTABLE} -m pytest -q -p no:cacheprovider
    ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_butane.py)
set_tests_properties(e2e_cli_butane PROPERTIES
  ENVIRONMENT "DEVX_BIN=$<TARGET_FILE:devx-cli>"
  TIMEOUT 300
  LABELS "e2e;vm")

add_test(NAME e2e_cli_doctor_nuke
  COMMAND ${Python_EXECUTABLE} -m pytest -q -p no:cacheprovider
    ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_doctor_nuke.py)
set_tests_properties(e2e_cli_doctor_nuke PROPERTIES
  ENVIRONMENT "DEVX_BIN=$<TARGET_FILE:devx-cli>"
  TIMEOUT 300
  LABELS "e2e;vm")
