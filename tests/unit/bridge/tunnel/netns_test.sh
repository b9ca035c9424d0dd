#!/usr/bin/env bash
# The agent in a network namespace standing in for its pod: from the "cluster" side (the host end
# of a veth pair) the listen port accepts and the control port is refused; inside the namespace
# the control port answers on loopback, which is what `kubectl port-forward` reaches.
#   netns_test.sh PATH_TO_devx-bridge-agent
# Exit 77 (skipped) without root or without working `ip netns`.
set -euo pipefail
AGENT="$1"
SKIP=77
if [[ "$(id -u)" -ne 0 ]]; then
  echo "SKIP: the netns test needs root (ip netns, veth)"
  exit "$SKIP"
fi

NS="devx-bridge-test-$$"
VETH_HOST="dxbh$$"
VETH_NS="dxbn$$"
HOST_IP=10.231.0.1
POD_IP=10.231.0.2
LISTEN=18080
CONTROL=14200
HEALTH=14201
AGENT_PID=""
LOG="$(mktemp)"

cleanup() {
  if [[ -n "$AGENT_PID" ]]; then
    kill -TERM "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  ip link del "$VETH_HOST" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT

if ! ip netns add "$NS" 2>/dev/null; then
  echo "SKIP: 'ip netns add' failed (no CAP_SYS_ADMIN here?)"
  exit "$SKIP"
fi
if ! ip link add "$VETH_HOST" type veth peer name "$VETH_NS" 2>/dev/null; then
  echo "SKIP: cannot create a veth pair"
  exit "$SKIP"
fi
ip link set "$VETH_NS" netns "$NS"
ip addr add "$HOST_IP/30" dev "$VETH_HOST"
ip link set "$VETH_HOST" up
ip netns exec "$NS" ip addr add "$POD_IP/30" dev "$VETH_NS"
ip netns exec "$NS" ip link set "$VETH_NS" up
ip netns exec "$NS" ip link set lo up

DEVX_BRIDGE_TOKEN="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  ip netns exec "$NS" "$AGENT" --port="8080:$LISTEN" --control-port="$CONTROL" \
  --health-port="$HEALTH" --grace=1h 2>"$LOG" &
AGENT_PID=$!

# Prints "open", "refused" or "other: <error>" for a TCP connect to $1:$2 (run in $3 if given).
probe() {
  local prefix=()
  [[ $# -ge 3 ]] && prefix=(ip netns exec "$3")
  local out
  if out="$("${prefix[@]}" timeout 5 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1)"; then
    echo open
  elif [[ "$out" == *"Connection refused"* ]]; then
    echo refused
  else
    echo "other: $out"
  fi
}

for _ in $(seq 1 200); do
  [[ "$(probe "$POD_IP" "$LISTEN")" == open ]] && break
  kill -0 "$AGENT_PID" 2>/dev/null || { echo "FAIL: the agent exited"; cat "$LOG"; exit 1; }
  sleep 0.05
done

fail=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "ok: $1"
  else
    echo "FAIL: $1: expected $2, got $3"
    fail=1
  fi
}
check "cluster side reaches the listen port $POD_IP:$LISTEN" open "$(probe "$POD_IP" "$LISTEN")"
check "cluster side is refused on the control port $POD_IP:$CONTROL" refused \
  "$(probe "$POD_IP" "$CONTROL")"
check "cluster side reaches the health port $POD_IP:$HEALTH" open "$(probe "$POD_IP" "$HEALTH")"
check "inside the pod, 127.0.0.1:$CONTROL answers" open "$(probe 127.0.0.1 "$CONTROL" "$NS")"

if [[ "$fail" -ne 0 ]]; then
  cat "$LOG"
  exit 1
fi
