# `devx tunnel|webhook|mail|mesh|sites` through the CLI (pytest) against the fake Cloudflare API
# and the fake cloudflared (tests/fakes), with real loopback HTTP and SMTP traffic. Serial: the
# services bind ports and the tunnel connectors are processes of their own.
# Included from tests/e2e/CMakeLists.txt, after Python was found.
add_test(NAME e2e_cli_net
  COMMAND ${Python_EXECUTABLE} -m pytest -q -p no:cacheprovider
    ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_net.py)
set_tests_properties(e2e_cli_net PROPERTIES
  ENVIRONMENT "DEVX_BIN=$<TARGET_FILE:devx-cli>"
  TIMEOUT 600
  RUN_SERIAL TRUE
  LABELS "e2e;net")
