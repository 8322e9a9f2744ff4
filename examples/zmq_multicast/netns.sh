#!/usr/bin/env bash
# Two emulated hosts for the multicast example: network namespaces PREFIX-a
# (10.77.0.1) and PREFIX-b (10.77.0.2), joined by the bridge PREFIX-br, with a
# multicast route. Needs root and iproute2 (and iptables when the host's
# FORWARD policy drops bridged traffic, as Docker's does).
#
#   examples/zmq_multicast/netns.sh up [PREFIX]     (default PREFIX: rcmc)
#   examples/zmq_multicast/netns.sh down [PREFIX]
set -euo pipefail
p="${2:-rcmc}"
command -v ip >/dev/null 2>&1 \
  || { echo "netns.sh: iproute2's ip is not installed (apt-get install iproute2)" >&2; exit 1; }
case "${1:-}" in
  up)
    ip link add "$p-br" type bridge
    ip link set "$p-br" type bridge mcast_snooping 0
    ip link set "$p-br" up
    if command -v iptables >/dev/null 2>&1; then
      iptables -I FORWARD -i "$p-br" -o "$p-br" -j ACCEPT 2>/dev/null || true
    fi
    i=1
    for h in a b; do
      ip netns add "$p-$h"
      ip link add "$p-$h" type veth peer name "$p-${h}p"
      ip link set "$p-$h" netns "$p-$h"
      ip link set "$p-${h}p" master "$p-br"
      ip link set "$p-${h}p" up
      ip netns exec "$p-$h" ip addr add "10.77.0.$i/24" dev "$p-$h"
      ip netns exec "$p-$h" ip link set "$p-$h" up
      ip netns exec "$p-$h" ip link set lo up
      ip netns exec "$p-$h" ip route add 224.0.0.0/4 dev "$p-$h"
      i=$((i + 1))
    done
    ;;
  down)
    for h in a b; do ip netns del "$p-$h" 2>/dev/null || true; done
    ip link del "$p-br" 2>/dev/null || true
    if command -v iptables >/dev/null 2>&1; then
      iptables -D FORWARD -i "$p-br" -o "$p-br" -j ACCEPT 2>/dev/null || true
    fi
    ;;
  *) echo "usage: $0 up|down [PREFIX]" >&2; exit 2 ;;
esac
