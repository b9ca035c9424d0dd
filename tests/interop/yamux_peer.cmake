# Builds tests/interop/yamux_peer (the hashicorp/yamux peer) into the build tree as the target
# `yamux_peer`, in GOPATH mode from Debian's golang-go and golang-github-hashicorp-yamux-dev (no
# module proxy needed). Sets DEVX_YAMUX_PEER to the binary's path, or to "" when Go or the yamux
# sources are missing. Included by tests/interop and bench; the first one defines the target.

# Debian's Go first: that is what CI has after scripts/setup.
find_program(DEVX_GO go PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DEVX_GO)
  find_program(DEVX_GO go)
endif()
set(DEVX_GOCODE /usr/share/gocode CACHE PATH "GOPATH entry holding github.com/hashicorp/yamux")

if(NOT DEVX_GO OR NOT EXISTS ${DEVX_GOCODE}/src/github.com/hashicorp/yamux/session.go)
  set(DEVX_YAMUX_PEER "")
  get_property(_devx_told GLOBAL PROPERTY DEVX_YAMUX_PEER_MISSING_TOLD)
  if(NOT _devx_told)
    set_property(GLOBAL PROPERTY DEVX_YAMUX_PEER_MISSING_TOLD TRUE)
    message(STATUS "yamux interop peer not built (needs golang-go and "
                   "golang-github-hashicorp-yamux-dev): interop tests skip, yamux_bench omits Go")
  endif()
  return()
endif()

set(DEVX_YAMUX_PEER ${PROJECT_BINARY_DIR}/yamux_peer)
if(NOT TARGET yamux_peer)
  # GOCACHE in the build tree because HOME may be read-only; GOFLAGS cleared so a developer's
  # -mod=… cannot break GOPATH mode; no cgo, so no C toolchain or libc coupling.
  add_custom_command(
    OUTPUT ${DEVX_YAMUX_PEER}
    COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${DEVX_GOCODE}
            GOCACHE=${PROJECT_BINARY_DIR}/gocache GOFLAGS= CGO_ENABLED=0
            ${DEVX_GO} build -o ${DEVX_YAMUX_PEER} .
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/yamux_peer
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/yamux_peer/main.go
    COMMENT "Building the hashicorp/yamux interop peer (Go, GOPATH mode)"
    VERBATIM)
  add_custom_target(yamux_peer ALL DEPENDS ${DEVX_YAMUX_PEER})
endif()
