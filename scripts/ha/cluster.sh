#!/usr/bin/env bash
# A local PostgreSQL primary with one synchronous streaming standby, from Debian's PostgreSQL binaries,
# for failover drills (docs/failover.md). Every commit the primary acknowledges is also on the standby:
# synchronous_standby_names names it and synchronous_commit is `on` (the WAL is flushed on both).
#
#   scripts/ha/cluster.sh up DIR [PRIMARY_PORT] [STANDBY_PORT]   build and start both (default 55432, 55433)
#   scripts/ha/cluster.sh kill-primary DIR                       pg_ctl stop -m immediate on the primary
#   scripts/ha/cluster.sh promote DIR                            promote the standby to primary
#   scripts/ha/cluster.sh status DIR                             which node is up, which is in recovery
#   scripts/ha/cluster.sh down DIR                               stop both and delete DIR
#
# Run as root, the PostgreSQL commands run as the `postgres` user (initdb refuses root).
set -euo pipefail

command=${1:?usage: cluster.sh up|kill-primary|promote|status|down DIR [PRIMARY_PORT] [STANDBY_PORT]}
dir=${2:?the cluster directory is required}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_of() { cat "$dir/$1.port"; }

start_node() {
  local node=$1 port=$2
  shift 2
  as_postgres "$bin/pg_ctl" -D "$dir/$node" -l "$dir/$node.log" -w -t 60 start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" >/dev/null
}

case "$command" in
up)
  primary_port=${3:-55432}
  standby_port=${4:-55433}
  mkdir -p "$dir"
  chmod 777 "$dir"
  echo "$primary_port" >"$dir/primary.port"
  echo "$standby_port" >"$dir/standby.port"
  as_postgres "$bin/initdb" -D "$dir/primary" --auth=trust -U postgres -E UTF8 >/dev/null
  # Replication connections over 127.0.0.1 are trusted like the rest: a drill, not a deployment.
  echo "host replication postgres 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
  # The synchronous settings go on the primary's command line, not in its configuration files, so that
  # the standby's copy does not inherit them: once promoted and alone, it must not wait for a standby.
  start_node primary "$primary_port" "-c wal_level=replica -c max_wal_senders=4" \
    "-c synchronous_standby_names=standby -c synchronous_commit=on"
  as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/standby" \
    -R -X stream -c fast -d "application_name=standby"
  start_node standby "$standby_port" "-c hot_standby=on"
  as_postgres "$bin/createdb" -h 127.0.0.1 -p "$primary_port" -U postgres bank
  # Wait until the standby streams synchronously, else the first commits would wait or not be on it.
  for _ in $(seq 1 100); do
    state=$(as_postgres "$bin/psql" -h 127.0.0.1 -p "$primary_port" -U postgres -Atc \
      "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")
    [ "$state" = sync ] && break
    sleep 0.1
  done
  [ "$state" = sync ] || { echo "the standby is not synchronous ($state)" >&2; exit 1; }
  echo "postgres://postgres@127.0.0.1:$primary_port,127.0.0.1:$standby_port/bank?target_session_attrs=read-write"
  ;;
kill-primary)
  as_postgres "$bin/pg_ctl" -D "$dir/primary" -m immediate stop >/dev/null
  ;;
promote)
  as_postgres "$bin/pg_ctl" -D "$dir/standby" -w -t 60 promote >/dev/null
  ;;
status)
  for node in primary standby; do
    if as_postgres "$bin/pg_isready" -q -h 127.0.0.1 -p "$(port_of $node)"; then
      recovery=$(as_postgres "$bin/psql" -h 127.0.0.1 -p "$(port_of $node)" -U postgres -Atc \
        "SELECT pg_is_in_recovery()")
      echo "$node port $(port_of $node): up, in recovery: $recovery"
    else
      echo "$node port $(port_of $node): down"
    fi
  done
  ;;
down)
  for node in standby primary; do
    [ -d "$dir/$node" ] && as_postgres "$bin/pg_ctl" -D "$dir/$node" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  ;;
*)
  echo "unknown command $command" >&2
  exit 2
  ;;
esac
