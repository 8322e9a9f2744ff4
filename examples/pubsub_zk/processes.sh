# What pa3.sh and pa4.sh share (sourced, not run): the rolecall binary, the
# ZooKeeper address, the logs folder, starting apps in the background,
# waiting for a log line, and killing whatever is left on exit.
#
# The sourcing script sets `name` (for messages), `ini` (its config.ini) and
# `default_port`; afterwards `common` holds the flags every app takes,
# `client` those of publishers, subscribers and brokers.
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
top="$(cd "$here/../.." && pwd)"
rolecall="${ROLECALL:-$(command -v rolecall || true)}"
for b in "$top/target/release/rolecall" "$top/target/debug/rolecall"; do
  [ -n "$rolecall" ] || { [ -x "$b" ] && rolecall="$b"; }
done
[ -n "$rolecall" ] || { echo "$name: no rolecall binary (make build, or set ROLECALL)" >&2; exit 2; }
zk="${ROLECALL_ZK:-127.0.0.1:2181}"
port="${PORT:-$default_port}"
logs="${LOGS:-$(mktemp -d)}"
mkdir -p "$logs"
common=(-c "$here/$ini" -z "$zk" --zk-root "/rolecall/${name%.sh}-$$")
client=("${common[@]}" --pause-ms 200)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
# start NAME ARGS…: `rolecall pubsub ARGS…` in the background, logging to NAME.log; its pid in $pid_NAME.
start() { local n="$1"; shift; "$rolecall" pubsub "$@" >"$logs/$n.log" 2>&1 & pids+=($!); eval "pid_$n=$!"; }
# wait_log NAME TEXT: waits up to 90 s for TEXT in NAME's log (slow on a loaded machine).
wait_log() {
  for _ in $(seq 900); do grep -q "$2" "$logs/$1.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "$name: '$2' never appeared in $logs/$1.log" >&2; exit 1
}
# kill9 NAME: kill -9 the app, quietly.
kill9() { local pid; eval "pid=\$pid_$1"; { kill -9 "$pid"; wait "$pid"; } 2>/dev/null || true; }
echo "logs in $logs"
