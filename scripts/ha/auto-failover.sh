#!/usr/bin/env bash
# A local PostgreSQL primary with one synchronous standby, promoted by pg_auto_failover (Debian's
# postgresql-15-auto-failover: a monitor node and one `pg_autoctl` keeper per PostgreSQL node), for failover
# drills (docs/failover.md). The same commands as cluster.sh, so that a drill can use either; here `promote`
# does not promote: it waits until the monitor has promoted the standby and it accepts writes.
#
#   scripts/ha/auto-failover.sh up DIR [NODE1_PORT] [NODE2_PORT] [MONITOR_PORT]   (default 56001 56002 56000)
#   scripts/ha/auto-failover.sh kill-primary DIR   kill the primary's keeper, then pg_ctl stop -m immediate
#   scripts/ha/auto-failover.sh promote DIR        wait until a standby is promoted and accepts writes
#   scripts/ha/auto-failover.sh status DIR         pg_autoctl show state
#   scripts/ha/auto-failover.sh down DIR           stop every keeper and node, delete DIR
#
# The monitor checks health every second and gives up on a node after 5 s (pg_auto_failover's defaults are
# 5 s and 20 s), so that a drill is short. It keeps its default primary_demote_timeout of 30 s: before it
# lets the promoted standby take writes, it waits that long for the old primary's keeper to demote it (a
# fence against two primaries); a dead node's keeper never answers, so writes resume about 35 s after the
# kill. Set PRIMARY_DEMOTE_TIMEOUT_MS to change it, knowing that below the keeper's own network-partition
# timeout (20 s) an isolated old primary may still take writes. Authentication is `trust` on 127.0.0.1.
# Run as root, the PostgreSQL commands run as the `postgres` user (initdb refuses root).
set -euo pipefail

command=${1:?usage: auto-failover.sh up|kill-primary|promote|status|down DIR [NODE1_PORT] [NODE2_PORT] [MONITOR_PORT]}
dir=${2:?the cluster directory is required}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
command -v pg_autoctl >/dev/null || { echo 'pg_autoctl is missing: apt-get install postgresql-15-auto-failover' >&2; exit 1; }

# Every file of pg_autoctl (configuration, state, pid files) stays under DIR, not in the user's home.
as_postgres() {
  local env=(env "PATH=$bin:$PATH" "XDG_CONFIG_HOME=$dir/xdg/config" "XDG_DATA_HOME=$dir/xdg/data"
    "XDG_RUNTIME_DIR=$dir/xdg/run")
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "${env[@]}" "$@"; else "${env[@]}" "$@"; fi
}

port_of() { cat "$dir/$1.port"; }
psql_at() { as_postgres psql -h 127.0.0.1 -p "$1" -U postgres -Atc "$2" 2>/dev/null; }
monitor_state_of() {
  as_postgres psql -h 127.0.0.1 -p "$(port_of monitor)" -U postgres -d pg_auto_failover -Atc \
    "SELECT reportedstate FROM pgautofailover.node WHERE nodename = '$1'" 2>/dev/null || true
}

# Runs `pg_autoctl run` for NODE as the leader of a session of its own, so that kill-primary and down can
# end the keeper with every process it started: its supervisor would restart a postgres killed alone.
start_keeper() {
  as_postgres setsid pg_autoctl run --pgdata "$dir/$1" >>"$dir/$1.keeper.log" 2>&1 &
}

# Kills NODE's keeper session (the keeper, its services and the postgres they run) with SIGKILL.
stop_keeper() {
  local session
  for session in $(pgrep -f "pg_autoctl run --pgdata $dir/$1\$" || true); do
    pkill -9 -s "$session" 2>/dev/null || true
  done
}

# The node (node1 or node2) that is a primary now: up, out of recovery.
primary_node() {
  for node in node1 node2; do
    [ "$(psql_at "$(port_of "$node")" 'SELECT NOT pg_is_in_recovery()')" = t ] && { echo "$node"; return 0; }
  done
  return 1
}

# True when NODE takes a write (pg_auto_failover keeps a promoted node read-only until it is fenced).
takes_writes() {
  [ "$(psql_at "$(port_of "$1")" \
    "SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off'")" = t ]
}

case "$command" in
up)
  mkdir -p "$dir/xdg"
  chmod 777 "$dir" "$dir/xdg"
  echo "${3:-56001}" >"$dir/node1.port"
  echo "${4:-56002}" >"$dir/node2.port"
  echo "${5:-56000}" >"$dir/monitor.port"
  as_postgres pg_autoctl create monitor --pgdata "$dir/monitor" --pgport "$(port_of monitor)" \
    --hostname 127.0.0.1 --auth trust --no-ssl >"$dir/monitor.create.log" 2>&1
  start_keeper monitor
  for _ in $(seq 1 100); do
    psql_at "$(port_of monitor)" 'SELECT 1' >/dev/null && break
    sleep 0.2
  done
  as_postgres psql -h 127.0.0.1 -p "$(port_of monitor)" -U postgres -d pg_auto_failover -q \
    -c 'ALTER SYSTEM SET pgautofailover.health_check_period = 1000' \
    -c 'ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 5000' \
    -c "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = ${PRIMARY_DEMOTE_TIMEOUT_MS:-30000}" \
    -c 'SELECT pg_reload_conf()' >/dev/null
  monitor="postgres://autoctl_node@127.0.0.1:$(port_of monitor)/pg_auto_failover?sslmode=disable"
  # One after the other: the first registers as the primary, the second clones it as its standby.
  for node in node1 node2; do
    as_postgres pg_autoctl create postgres --pgdata "$dir/$node" --pgport "$(port_of $node)" \
      --hostname 127.0.0.1 --auth trust --no-ssl --monitor "$monitor" --name "$node" \
      >"$dir/$node.create.log" 2>&1
    start_keeper "$node"
    for _ in $(seq 1 300); do
      state=$(monitor_state_of "$node")
      case "$node:$state" in node1:single | node1:primary | node2:secondary) break ;; esac
      sleep 0.2
    done
  done
  # Synchronous: the primary names its standby (pg_auto_failover sets `ANY 1 (...)` once it streams).
  for _ in $(seq 1 300); do
    names=$(psql_at "$(port_of node1)" 'SHOW synchronous_standby_names' || true)
    [ -n "$names" ] && takes_writes node1 && break
    sleep 0.2
  done
  [ -n "$names" ] || { echo 'the standby did not become synchronous' >&2; exit 1; }
  as_postgres createdb -h 127.0.0.1 -p "$(port_of node1)" -U postgres bank
  echo "postgres://postgres@127.0.0.1:$(port_of node1),127.0.0.1:$(port_of node2)/bank?target_session_attrs=read-write"
  ;;
kill-primary)
  node=$(primary_node) || { echo 'no primary is up' >&2; exit 1; }
  echo "$node" >"$dir/killed"
  stop_keeper "$node"
  as_postgres pg_ctl -D "$dir/$node" -m immediate stop >/dev/null 2>&1 || true
  ;;
promote)
  # The monitor decides; this only waits (at most 120 s) for the other node to take writes.
  killed=$(cat "$dir/killed" 2>/dev/null || echo none)
  for _ in $(seq 1 600); do
    for node in node1 node2; do
      [ "$node" != "$killed" ] && takes_writes "$node" && exit 0
    done
    sleep 0.2
  done
  echo 'no standby was promoted within 120 s' >&2
  exit 1
  ;;
status)
  as_postgres pg_autoctl show state --pgdata "$dir/monitor"
  ;;
down)
  for node in node2 node1 monitor; do
    stop_keeper "$node"
    [ -d "$dir/$node" ] && as_postgres pg_ctl -D "$dir/$node" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  ;;
*)
  echo "unknown command $command" >&2
  exit 2
  ;;
esac
