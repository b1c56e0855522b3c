#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 for the tests and prints its URL.
#
#   eval "$(scripts/pg.sh start DIR)"   # exports FIELDTALK_POSTGRES_URL, FIELDTALK_PG_DIR
#   scripts/pg.sh stop DIR
#
# It uses the newest server under /usr/lib/postgresql, installing Debian's
# postgresql package with apt-get when there is none (root only). The cluster
# lives in DIR (initdb, trust auth, fsync off: it is thrown away) and listens
# on a free port on loopback only.
set -euo pipefail

pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local dir=$1
  local bin; bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "pg.sh: no PostgreSQL server found; install Debian's postgresql package (sudo apt-get install -y postgresql)" >&2
      exit 1
    fi
    echo "pg.sh: installing PostgreSQL from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bin=$(pg_bindir)
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >/dev/null
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null || break
  done
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
  echo "export FIELDTALK_PG_DIR=$dir"
  echo "export FIELDTALK_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
}

stop() {
  local dir=$1
  local bin; bin=$(pg_bindir)
  if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:?usage: pg.sh start DIR}" ;;
  stop) stop "${2:?usage: pg.sh stop DIR}" ;;
  *) echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac
