#!/usr/bin/env bash
# Starts a throwaway PgBouncer in transaction mode on 127.0.0.1, in front of
# the test PostgreSQL, and prints its URL.
#
#   eval "$(scripts/pg.sh start DIR1)"         # FIELDTALK_POSTGRES_URL: the server behind it
#   eval "$(scripts/pgbouncer.sh start DIR2)"  # exports FIELDTALK_PGBOUNCER_URL, FIELDTALK_PGBOUNCER_DIR
#   scripts/pgbouncer.sh stop DIR2
#
# It installs Debian's pgbouncer package with apt-get when it is missing
# (root only; apt may be locked by another install for a while: it retries).
# Every database of the server is reachable through it under its own name
# (a fallback "*" entry), as the server's user postgres without a password
# (auth_type trust), with pool_mode=transaction: each transaction gets
# whichever server connection is free, so no named prepared statement,
# session setting or LISTEN outlives a transaction. PgBouncer refuses to run
# as root; it runs as postgres then.
set -euo pipefail

run_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  command -v pgbouncer >/dev/null 2>&1 && return 0
  [ -x /usr/sbin/pgbouncer ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "pgbouncer.sh: no pgbouncer found; install Debian's pgbouncer package (sudo apt-get install -y pgbouncer)" >&2
    exit 1
  fi
  echo "pgbouncer.sh: installing PgBouncer from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  local i
  for i in $(seq 1 30); do
    if apt-get install -y -qq --no-install-recommends pgbouncer >&2 2>/dev/null; then return 0; fi
    # The package lists may be missing, or another apt-get holds the lock.
    apt-get update -qq >&2 2>/dev/null || true
    echo "pgbouncer.sh: apt-get failed (locked?); retrying in 10 s ($i/30)" >&2
    sleep 10
  done
  echo "pgbouncer.sh: could not install pgbouncer" >&2
  exit 1
}

start() {
  local dir=$1
  : "${FIELDTALK_POSTGRES_URL:?pgbouncer.sh: set FIELDTALK_POSTGRES_URL to the PostgreSQL to put PgBouncer in front of (scripts/pg.sh start)}"
  install
  local bin; bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  # host and port of the server, from postgres://user@host:port/db?...
  local hostport=${FIELDTALK_POSTGRES_URL#*://}
  hostport=${hostport#*@}
  hostport=${hostport%%/*}
  local pghost=${hostport%:*} pgport=${hostport##*:}
  mkdir -p "$dir"
  local port attempt
  # A port nobody answers on may still be taken (a client's ephemeral
  # port, say): when the bind fails, try another.
  for attempt in 1 2 3 4 5; do
    for _ in $(seq 1 50); do
      port=$(( 20000 + RANDOM % 30000 ))
      (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null || break
    done
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$pghost port=$pgport

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
max_db_connections = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    echo '"postgres" ""' >"$dir/userlist.txt"
    rm -f "$dir/pgbouncer.log"
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
    run_as "$bin" -d -q "$dir/pgbouncer.ini" >&2
    for _ in $(seq 1 100); do
      (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
      grep -q "Address already in use" "$dir/pgbouncer.log" 2>/dev/null && break
      sleep 0.1
    done
    (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    grep -q "Address already in use" "$dir/pgbouncer.log" 2>/dev/null || break
    echo "pgbouncer.sh: port $port is taken; trying another" >&2
    sleep 0.2 # the failed one exits
  done
  local url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  if ! (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "pgbouncer.sh: PgBouncer did not start:" >&2
    cat "$dir/pgbouncer.log" >&2 || true
    exit 1
  fi
  echo "export FIELDTALK_PGBOUNCER_DIR=$dir"
  echo "export FIELDTALK_PGBOUNCER_URL='$url'"
}

stop() {
  local dir=$1
  if [ -f "$dir/pgbouncer.pid" ]; then
    kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -f "$dir/pgbouncer.pid" ] || break
      sleep 0.1
    done
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:?usage: pgbouncer.sh start DIR}" ;;
  stop) stop "${2:?usage: pgbouncer.sh stop DIR}" ;;
  *) echo "usage: pgbouncer.sh start|stop DIR" >&2; exit 2 ;;
esac
