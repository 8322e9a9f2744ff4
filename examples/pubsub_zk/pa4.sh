#!/usr/bin/env bash
# The course's PA4 on one machine, as separate processes coordinated by
# ZooKeeper (Direct dissemination, pa4.ini):
#
#  * ownership strength: p1 (strength 10) and p2 (strength 5) both publish
#    weather; sub1 takes only p1's, until p1 is killed with SIGKILL, then p2's;
#  * history: p3 keeps the last 10 humidity samples and p4 the last 30 light
#    ones; sub2 joins late asking for 5 humidity samples and gets them before
#    the live data; sub3 asks for 20 of each: p3's humidity is refused
#    (20 > 10, both sides log it), p4's light is served.
#
#   ROLECALL_ZK=127.0.0.1:2181 examples/pubsub_zk/pa4.sh
#
# Environment as pa3.sh: ROLECALL, ROLECALL_ZK, PORT (default 35600), LOGS.
set -euo pipefail
name=pa4.sh ini=pa4.ini default_port=35600
. "$(dirname "$0")/processes.sh"
start disc discovery "${common[@]}" -p $port -P 4 -S 1
# Publisher ports two apart: each serves its history at its port + 1.
start p1 publisher "${client[@]}" -n p1 -p $((port+10)) --topics weather --strength 10 -f 10 -i 200
start p2 publisher "${client[@]}" -n p2 -p $((port+12)) --topics weather --strength 5 -f 10 -i 200
start p3 publisher "${client[@]}" -n p3 -p $((port+14)) --topics humidity --history 10 -f 10 -i 200
start p4 publisher "${client[@]}" -n p4 -p $((port+16)) --topics light --history 30 -f 10 -i 200
start sub1 subscriber "${client[@]}" -n sub1 --topics weather --stop-after 150 --idle-timeout-ms 8000
wait_log p3 "publisher DISSEMINATE"
sleep 3
# Late joiners: 30 publications of each topic have gone by.
start sub2 subscriber "${client[@]}" -n sub2 --topics humidity --history 5 --stop-after 60 --idle-timeout-ms 8000
start sub3 subscriber "${client[@]}" -n sub3 --topics humidity,light --history 20 --stop-after 60 --idle-timeout-ms 8000
sleep 2
echo "kill -9 the owner of weather (p1, strength 10)"; kill9 p1
wait_log sub1 "owner of weather: p2"
wait "$pid_sub1" "$pid_sub2" "$pid_sub3" || true
cd "$logs" && grep "owner of\|history\|COMPLETED" sub*.log p3.log p4.log |
  sed -e 's|^\([^.]*\)\.log:[^ ]* *[A-Z]* |\1: |' -e 's| actor=[a-z]*$||'
