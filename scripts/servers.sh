#!/usr/bin/env bash
# Starts and stops the servers the tests need, on private ports, with their own
# data directories under $ROLECALL_TEST_DIR. Each server is one `start_X` /
# `stop_X` pair registered in SERVERS; `make test` calls `servers.sh start`
# before the tests and `servers.sh stop` after them (also when they fail).
#
# The foundation needs no external server: the list is empty. The ZooKeeper,
# InfluxDB and VictoriaMetrics issues add theirs here.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROLECALL_TEST_DIR="${ROLECALL_TEST_DIR:-$root/target/test-servers}"
SERVERS=()

start_all() {
  mkdir -p "$ROLECALL_TEST_DIR"
  for s in "${SERVERS[@]}"; do "start_$s"; done
  echo "test servers: ${SERVERS[*]:-none needed}"
}

stop_all() {
  local status=0
  for s in "${SERVERS[@]}"; do "stop_$s" || status=1; done
  return $status
}

case "${1:-}" in
  start) start_all ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
