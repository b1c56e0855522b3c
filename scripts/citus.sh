#!/usr/bin/env bash
# Starts a throwaway Citus cluster on 127.0.0.1 (a coordinator and two workers)
# for the tests and prints the coordinator's URL.
#
#   eval "$(scripts/citus.sh start DIR)"   # exports FIELDTALK_CITUS_URL, FIELDTALK_CITUS_DIR
#   scripts/citus.sh stop DIR
#   scripts/citus.sh build                 # only build and install Citus
#   scripts/citus.sh add-worker DIR worker3 # start one more worker and register it
#   scripts/citus.sh node-stop DIR worker1 # stop one node (fault tests)
#   scripts/citus.sh node-start DIR worker1 # and start it again, on its port
#
# Citus 13.2.2 is built from the source archive in ../shared/citus next to the
# repository (override with FIELDTALK_CITUS_SRC=DIR holding citus-13.2.2.tar.gz
# and pg15-have-createdb-privilege.patch) and installed into PostgreSQL 15,
# once: the build (about 4 minutes on 2 cores) is skipped when the installed
# citus.so is already 13.2.2. Missing build dependencies are installed with
# apt-get (root only). Each node is an initdb cluster in DIR (trust auth, fsync
# off: it is thrown away) listening on a free loopback port with
# shared_preload_libraries=citus; the workers are registered with the
# coordinator. The ports are written to DIR/ports (coordinator first).
set -euo pipefail

citus_version=13.2.2
pg_major=${FIELDTALK_CITUS_PG:-15}
bin=/usr/lib/postgresql/$pg_major/bin
repo=$(cd "$(dirname "$0")/.." && pwd)
src=${FIELDTALK_CITUS_SRC:-$repo/../shared/citus}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

installed() {
  local so
  so=$("$bin/pg_config" --pkglibdir 2>/dev/null)/citus.so
  [ -f "$so" ] && grep -qa "Citus $citus_version " "$so"
}

deps() {
  local pkgs=(postgresql-$pg_major postgresql-server-dev-$pg_major libcurl4-openssl-dev liblz4-dev libzstd-dev
    libssl-dev libkrb5-dev make gcc) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    echo "citus.sh: missing packages ${missing[*]}; install them (sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "citus.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

build() {
  deps
  installed && return
  local tarball=$src/citus-$citus_version.tar.gz
  if [ ! -f "$tarball" ]; then
    echo "citus.sh: $tarball not found (set FIELDTALK_CITUS_SRC)" >&2
    exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "citus.sh: Citus $citus_version is not installed and installing it needs root" >&2
    exit 1
  fi
  local work; work=$(mktemp -d /tmp/citus-build.XXXXXX)
  echo "citus.sh: building Citus $citus_version in $work (about 4 minutes)" >&2
  (
    cd "$work"
    tar xzf "$tarball"
    patch -s -p1 <"$src/pg15-have-createdb-privilege.patch"
    cd "citus-$citus_version"
    PG_CONFIG=$bin/pg_config ./configure --without-libcurl >build.log 2>&1
    make -j"$(nproc)" >>build.log 2>&1
    make install >>build.log 2>&1
  ) || { echo "citus.sh: build failed; see $work/citus-$citus_version/build.log" >&2; exit 1; }
  rm -rf "$work"
  installed || { echo "citus.sh: installed citus.so is not $citus_version" >&2; exit 1; }
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null || { echo "$port"; return; }
  done
  echo "citus.sh: no free port" >&2
  exit 1
}

# opts PORT DIR: the server options of every node.
opts() {
  echo "-p $1 -k $2 -c listen_addresses=127.0.0.1 -c shared_preload_libraries=citus -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
}

# node DIR NAME: initdb and start one node of the cluster in DIR/NAME on a
# free port, which it prints. A port taken between the check and the start
# (other servers start on this machine too) is retried with another.
node() {
  local dir=$1 name=$2 port
  as_pg "$bin/initdb" -D "$dir/$name" -U postgres -A trust --no-sync -E UTF8 --locale=C >/dev/null
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$bin/pg_ctl" -D "$dir/$name" -l "$dir/$name.log" -w -t 60 start -o "$(opts "$port" "$dir")" >/dev/null 2>&1; then
      as_pg "$bin/psql" -qAtX -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c 'CREATE EXTENSION IF NOT EXISTS citus' >/dev/null
      echo "$port" >"$dir/$name.port"
      echo "$port"
      return
    fi
  done
  echo "citus.sh: $name did not start; see $dir/$name.log" >&2
  exit 1
}

sql() {
  as_pg "$bin/psql" -qAtX -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$2" >/dev/null
}

start() {
  local dir=$1
  build
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  local coord w1 w2
  coord=$(node "$dir" coordinator)
  w1=$(node "$dir" worker1)
  w2=$(node "$dir" worker2)
  sql "$coord" "SELECT citus_set_coordinator_host('127.0.0.1', $coord)"
  sql "$coord" "SELECT citus_add_node('127.0.0.1', $w1)"
  sql "$coord" "SELECT citus_add_node('127.0.0.1', $w2)"
  echo "$coord $w1 $w2" >"$dir/ports"
  echo "export FIELDTALK_CITUS_DIR=$dir"
  echo "export FIELDTALK_CITUS_URL='postgres://postgres@127.0.0.1:$coord/postgres?sslmode=disable'"
}

stop() {
  local dir=$1 name
  for name in worker2 worker1 coordinator; do
    if [ -f "$dir/$name/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/$name" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$dir"
}

add_worker() {
  local dir=$1 name=$2 port
  port=$(node "$dir" "$name")
  sql "$(cat "$dir/coordinator.port")" "SELECT citus_add_node('127.0.0.1', $port)"
  echo "$port"
}

node_stop() {
  as_pg "$bin/pg_ctl" -D "$1/$2" -m fast -w stop >/dev/null
}

node_start() {
  as_pg "$bin/pg_ctl" -D "$1/$2" -l "$1/$2.log" -w -t 60 start -o "$(opts "$(cat "$1/$2.port")" "$1")" >/dev/null
}

case "${1:-}" in
  start) start "${2:?usage: citus.sh start DIR}" ;;
  stop) stop "${2:?usage: citus.sh stop DIR}" ;;
  build) build ;;
  add-worker) add_worker "${2:?usage: citus.sh add-worker DIR NAME}" "${3:?usage: citus.sh add-worker DIR NAME}" ;;
  node-stop) node_stop "${2:?usage: citus.sh node-stop DIR NAME}" "${3:?usage: citus.sh node-stop DIR NAME}" ;;
  node-start) node_start "${2:?usage: citus.sh node-start DIR NAME}" "${3:?usage: citus.sh node-start DIR NAME}" ;;
  *) echo "usage: citus.sh start|stop DIR | build | add-worker|node-stop|node-start DIR NAME" >&2; exit 2 ;;
esac
