#!/usr/bin/env bash
# The course's PA3 on one machine: two discovery replicas, broker replicas for
# two topic groups, two publishers and two subscribers, all coordinated by
# ZooKeeper; then the primary discovery and the primary broker of group 0 are
# killed with SIGKILL while publications flow. Each line below is also the
# command for one Mininet host (use -a HOST_IP instead of localhost).
#
#   ROLECALL_ZK=127.0.0.1:2181 examples/pubsub_zk/pa3.sh
#
# Environment: ROLECALL (the binary; default: rolecall on PATH, else
# target/release or target/debug), ROLECALL_ZK (ZooKeeper), PORT (first port,
# default 35500), LOGS (where the logs go; default a temp dir).
set -euo pipefail
name=pa3.sh ini=config.ini default_port=35500
. "$(dirname "$0")/processes.sh"
start disc1 discovery "${common[@]}" -p $port -P 2 -S 2 -B 3
wait_log disc1 "discovery PRIMARY"
start disc2 discovery "${common[@]}" -p $((port+1)) -P 2 -S 2 -B 3
start b1 broker "${client[@]}" -n b1 -p $((port+10)) --group 0 --idle-timeout-ms 3000
wait_log b1 "broker PRIMARY"
start b2 broker "${client[@]}" -n b2 -p $((port+11)) --group 0 --idle-timeout-ms 3000
start b3 broker "${client[@]}" -n b3 -p $((port+12)) --group 1 --idle-timeout-ms 3000
start pub1 publisher "${client[@]}" -n pub1 -p $((port+20)) --topics weather,humidity -f 20 -i 300
start pub2 publisher "${client[@]}" -n pub2 -p $((port+21)) --topics weather,light -f 20 -i 300
start sub1 subscriber "${client[@]}" -n sub1 --topics weather,humidity --stop-after 900 --idle-timeout-ms 8000 --results "$logs/sub1.lp"
start sub2 subscriber "${client[@]}" -n sub2 --topics light --stop-after 300 --idle-timeout-ms 8000 --results "$logs/sub2.lp"
wait_log pub1 "publisher DISSEMINATE"
sleep 3
echo "kill -9 the primary discovery (disc1)"; kill9 disc1
wait_log disc2 "discovery PRIMARY"
sleep 2
echo "kill -9 the primary broker of group 0 (b1)"; kill9 b1
wait_log b2 "broker PRIMARY"
wait "$pid_sub1" "$pid_sub2" || true
sleep 4
cd "$logs" && grep "discovery PRIMARY\|again with the new primary\|broker PRIMARY\|broker REPLAY\|COMPLETED\|lost [1-9]" ./*.log |
  sed -e 's|^\./\([^.]*\)\.log:[^ ]* *INFO |\1: |' -e 's| actor=[a-z]*$||'
