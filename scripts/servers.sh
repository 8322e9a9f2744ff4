#!/usr/bin/env bash
# Starts and stops the servers the tests need, on loopback ports, each with its
# own data directory and log under $ROLECALL_TEST_DIR (target/test-servers).
#
#   scripts/servers.sh start    start every server in SERVERS, wait until ready
#   scripts/servers.sh stop     stop them (idempotent; safe if start failed)
#   scripts/servers.sh status   show which are running
#   scripts/servers.sh stop-one NAME / start-one NAME   one server (fault tests)
#
# `make test` sets a trap that runs `stop` before it runs `start`, so servers
# are stopped whatever the tests do. Servers tell the tests where they are by
# `export_env NAME VALUE`, which writes $ROLECALL_TEST_DIR/env; `make test`
# sources that file before running cargo test.
#
# To add a server X (ZooKeeper, InfluxDB, VictoriaMetrics, ...):
#   1. install it in scripts/install-deps.sh,
#   2. write start_X (port_free X PORT; spawn X CMD...; wait_port X PORT SECS;
#      export_env VAR VALUE)
#      and stop_X (stop_pidfile X),
#   3. add X to SERVERS.
# Example:
#   start_zookeeper() {
#     spawn zookeeper /usr/share/zookeeper/bin/zkServer.sh start-foreground "$(datadir zookeeper)/zoo.cfg"
#     wait_port zookeeper 21810 30
#     export_env ROLECALL_ZK 127.0.0.1:21810
#   }
#   stop_zookeeper() { stop_pidfile zookeeper; }
#
# The foundation needs no external server: SERVERS is empty.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROLECALL_TEST_DIR="${ROLECALL_TEST_DIR:-$root/target/test-servers}"
env_file="$ROLECALL_TEST_DIR/env"

SERVERS=()
SERVERS+=(zookeeper)  # issue 4: standalone + 3-server ensemble

# --- metrics (issue 5): InfluxDB 1.x and VictoriaMetrics (InfluxDB v2 write API) ---
SERVERS+=(influxdb victoria)
# InfluxDB 1.6 on 127.0.0.1:18086 (HTTP) and 127.0.0.1:18088 (its RPC port);
# every other listener (graphite, collectd, opentsdb, udp, ifql) is off.
start_influxdb() {
  local d; d="$(datadir influxdb)"
  cat >"$d/influxdb.conf" <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:18088"
[meta]
  dir = "$d/meta"
  logging-enabled = false
[data]
  dir = "$d/data"
  wal-dir = "$d/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:18086"
  log-enabled = false
  pprof-enabled = false
[ifql]
  enabled = false
CONF
  port_free influxdb 18086 || return 1
  spawn influxdb influxd run -config "$d/influxdb.conf"
  wait_port influxdb 18086 30
  export_env ROLECALL_INFLUXDB_V1 http://127.0.0.1:18086
}
stop_influxdb() { stop_pidfile influxdb; }
# VictoriaMetrics on 127.0.0.1:18428: accepts InfluxDB's /api/v2/write and
# /write, read back through /api/v1/export.
start_victoria() {
  local d; d="$(datadir victoria)"
  port_free victoria 18428 || return 1
  spawn victoria victoria-metrics -httpListenAddr=127.0.0.1:18428 \
    -storageDataPath="$d/data" -retentionPeriod=100y -loggerLevel=WARN
  wait_port victoria 18428 30
  export_env ROLECALL_INFLUX_V2 http://127.0.0.1:18428
}
stop_victoria() { stop_pidfile victoria; }
# --- end metrics ---

# --- helpers for start_X / stop_X -----------------------------------------

# datadir NAME: creates and prints NAME's data directory.
datadir() { mkdir -p "$ROLECALL_TEST_DIR/$1" && echo "$ROLECALL_TEST_DIR/$1"; }

# spawn NAME CMD...: runs CMD in the background, in its own process group
# (setsid) and in NAME's data directory; output to NAME.log, pid in NAME.pid.
spawn() {
  local name="$1" dir; shift
  dir="$(datadir "$name")"
  (cd "$dir" && exec setsid "$@") >"$ROLECALL_TEST_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$ROLECALL_TEST_DIR/$name.pid"
}

# port_free NAME PORT: fails, saying so, when something already listens on
# 127.0.0.1:PORT: the server would fail to bind while wait_port saw the other
# process's port open, and the tests would talk to that process instead.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
    echo "servers: cannot start $1: 127.0.0.1:$2 is already in use (a server left by an earlier run? scripts/servers.sh stop; or see ss -ltnp 'sport = :$2')" >&2
    return 1
  fi
}

# wait_port NAME PORT SECONDS: waits until 127.0.0.1:PORT accepts connections;
# fails (showing the server's log) if it does not, or if the server died.
wait_port() {
  local name="$1" port="$2" secs="$3" pid
  pid="$(cat "$ROLECALL_TEST_DIR/$name.pid")"
  for ((i = 0; i < secs * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! alive "$pid"; then break; fi
    sleep 0.1
  done
  echo "servers: $name did not listen on 127.0.0.1:$port; its log:" >&2
  tail -n 50 "$ROLECALL_TEST_DIR/$name.log" >&2 || true
  return 1
}

# alive PID: whether PID runs. A process that has exited but that nobody has
# reaped yet (a zombie: in a container without an init, orphans are reaped
# late or never) counts as stopped, although `kill -0` still finds it.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

# stop_pidfile NAME: TERM, then KILL after 10 s, the process group in NAME.pid.
stop_pidfile() {
  local name="$1" pidfile="$ROLECALL_TEST_DIR/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    echo "servers: $name did not stop on TERM; killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# export_env NAME VALUE: tells the tests (make test sources $env_file).
export_env() { printf 'export %s=%q\n' "$1" "$2" >>"$env_file"; }

# --- ZooKeeper (issue 4) ----------------------------------------------------
# A standalone server on 127.0.0.1:21810 (`zookeeper`) and a 3-server ensemble
# (`zk-ens1..3`, client ports 21821-21823, quorum/election ports 21831-21836),
# each started as Debian's QuorumPeerMain with its own zoo.cfg, dataDir, myid
# and log dir. tickTime 500 ms: sessions may time out between 1 s and 10 s.
# Tests stop and restart one of them with
#   scripts/servers.sh zk-kill NAME      (SIGKILL, like a crash)
#   scripts/servers.sh zk-start NAME     (start again on the same data, wait)
# ROLECALL_ZK_CTL names this script; ROLECALL_ZK_DIR its ROLECALL_TEST_DIR.
ZK_CP="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"

# zk_config NAME CLIENT_PORT MYID: writes NAME's zoo.cfg (MYID 0: standalone).
zk_config() {
  local name="$1" port="$2" myid="$3" dir
  dir="$(datadir "$name")"
  mkdir -p "$dir/data" "$dir/logs"
  {
    echo "tickTime=500"
    echo "initLimit=20"
    echo "syncLimit=10"
    echo "dataDir=$dir/data"
    echo "clientPort=$port"
    echo "clientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=srvr,ruok,stat"
    echo "maxClientCnxns=0"
    if [ "$myid" != 0 ]; then
      local m
      for m in 1 2 3; do
        echo "server.$m=127.0.0.1:$((21829 + 2 * m)):$((21830 + 2 * m))"
      done
    fi
  } >"$dir/zoo.cfg"
  if [ "$myid" != 0 ]; then echo "$myid" >"$dir/data/myid"; fi
}

# zk_spawn NAME PORT: starts NAME from its zoo.cfg and waits for PORT.
zk_spawn() {
  local name="$1" port="$2" dir
  dir="$(datadir "$name")"
  command -v java >/dev/null || { echo "servers: java not found (scripts/install-deps.sh installs zookeeper)" >&2; return 1; }
  [ -f /usr/share/java/zookeeper.jar ] || { echo "servers: /usr/share/java/zookeeper.jar missing (apt-get install zookeeper)" >&2; return 1; }
  port_free "$name" "$port" || return 1
  spawn "$name" java -Xmx256m -Dzookeeper.log.dir="$dir/logs" -Dzookeeper.admin.enableServer=false \
    -cp "$ZK_CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg"
  wait_port "$name" "$port" 60
}

zk_port() {
  case "$1" in
    zookeeper) echo 21810 ;;
    zk-ens1) echo 21821 ;;
    zk-ens2) echo 21822 ;;
    zk-ens3) echo 21823 ;;
    *) echo "servers: unknown ZooKeeper server '$1' (zookeeper, zk-ens1, zk-ens2, zk-ens3)" >&2; return 1 ;;
  esac
}

# zk_ready PORT SECONDS: waits until the server answers `srvr` with a mode
# (a quorum member answers only once it has joined the ensemble).
zk_ready() {
  local port="$1" secs="$2" out t
  for ((t = 0; t < secs * 10; t++)); do
    out="$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'srvr' >&3 && timeout 2 cat <&3) 2>/dev/null || true)"
    if [[ "$out" == *"Mode: "* ]]; then return 0; fi
    sleep 0.1
  done
  echo "servers: ZooKeeper on $port is not serving after ${secs}s" >&2
  return 1
}

start_zookeeper() {
  local m
  zk_config zookeeper 21810 0
  zk_spawn zookeeper 21810
  for m in 1 2 3; do
    zk_config "zk-ens$m" $((21820 + m)) "$m"
    zk_spawn "zk-ens$m" $((21820 + m))
  done
  zk_ready 21810 60
  for m in 1 2 3; do zk_ready $((21820 + m)) 90; done
  export_env ROLECALL_ZK 127.0.0.1:21810
  export_env ROLECALL_ZK_ENSEMBLE 127.0.0.1:21821,127.0.0.1:21822,127.0.0.1:21823
  export_env ROLECALL_ZK_CTL "$root/scripts/servers.sh"
  export_env ROLECALL_ZK_DIR "$ROLECALL_TEST_DIR"
}

stop_zookeeper() {
  local z status=0
  for z in zookeeper zk-ens1 zk-ens2 zk-ens3; do stop_pidfile "$z" || status=1; done
  return $status
}

zk_kill() {
  local name="$1" pidfile pid t
  zk_port "$name" >/dev/null
  pidfile="$ROLECALL_TEST_DIR/$name.pid"
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for ((t = 0; t < 100; t++)); do alive "$pid" || break; sleep 0.05; done
  rm -f "$pidfile"
}

zk_start_one() {
  local name="$1" port
  port="$(zk_port "$name")"
  zk_spawn "$name" "$port"
  zk_ready "$port" 90
}

# --- commands ------------------------------------------------------------

start_all() {
  mkdir -p "$ROLECALL_TEST_DIR"
  : >"$env_file"
  for s in "${SERVERS[@]}"; do "start_$s"; done
  echo "test servers: ${SERVERS[*]:-none needed}"
}

stop_all() {
  local status=0
  for s in "${SERVERS[@]}"; do "stop_$s" || status=1; done
  rm -f "$env_file"
  return $status
}

status_all() {
  for s in "${SERVERS[@]}"; do
    local pidfile="$ROLECALL_TEST_DIR/$s.pid"
    if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
      echo "$s: running (pid $(cat "$pidfile"))"
    else
      echo "$s: stopped"
    fi
  done
  [ ${#SERVERS[@]} -gt 0 ] || echo "no test servers configured"
}

case "${1:-}" in
  start) start_all ;;
  stop) stop_all ;;
  status) status_all ;;
  zk-kill) zk_kill "${2:?zk-kill NAME}" ;;
  zk-start) zk_start_one "${2:?zk-start NAME}" ;;
  start-one) mkdir -p "$ROLECALL_TEST_DIR"; "start_${2:?usage: $0 start-one NAME}" ;;  # restart one server (fault tests)
  stop-one) "stop_${2:?usage: $0 stop-one NAME}" ;;
  *) echo "usage: $0 start|stop|status|start-one NAME|stop-one NAME|zk-kill NAME|zk-start NAME" >&2; exit 2 ;;
esac
