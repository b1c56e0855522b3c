#!/usr/bin/env bash
# The whole test suite: go vet, then go test -race over every package, on
# SQLite and on a throwaway PostgreSQL started here (and stopped on exit).
# Extra arguments go to go test (e.g. scripts/test.sh -run Inbox ./store/...).
#
# Set FIELDTALK_POSTGRES_URL to use a server you already run instead.
# With CI=true a PostgreSQL that cannot start fails the run; the tests never
# skip PostgreSQL there. The same holds for the Citus cluster below
# (FIELDTALK_CITUS_URL), the PgBouncer (FIELDTALK_PGBOUNCER_URL), and for
# Chromium, for the web app's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Cleanups of the blocks below, run in reverse order on exit.
cleanups=()
cleanup() {
  local i
  for (( i=${#cleanups[@]}-1; i>=0; i-- )); do eval "${cleanups[i]}" || true; done
}
trap cleanup EXIT

# start_server NAME SCRIPT VAR: unless VAR is set already, start a throwaway
# server with scripts/SCRIPT.sh (stopped on exit) and take in the variables
# it prints. Under CI=true one that does not start fails the run.
start_server() {
  local name=$1 script=$2 var=$3 dir out t0
  [ -z "${!var:-}" ] || return 0
  dir=$(mktemp -d "/tmp/fieldtalk-$script.XXXXXX")
  cleanups+=("scripts/$script.sh stop '$dir'")
  t0=$(date +%s%N)
  if out=$(scripts/$script.sh start "$dir"); then
    eval "$out"
    echo "$name started in $(( ($(date +%s%N) - t0) / 1000000 )) ms on ${!var}"
  elif [ "${CI:-}" = true ]; then
    echo "test.sh: $name did not start; CI requires it" >&2
    exit 1
  else
    echo "test.sh: $name did not start; its tests will be skipped" >&2
  fi
}

# Installs first, servers after: building Citus installs PostgreSQL's
# server headers with apt-get, which can upgrade the server packages under a
# PostgreSQL already running (it could then no longer load its own modules).
# Chromium, for the web app's browser tests (examples/server/web): Debian's
# chromium package, installed with apt-get when it is missing and we are root.
# Without it those tests skip, except under CI=true, where they fail.
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing Chromium from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium >&2
  elif [ "${CI:-}" = true ]; then
    echo "test.sh: no chromium and not root to install it; CI requires the browser tests" >&2
    exit 1
  else
    echo "test.sh: no chromium; the browser tests will be skipped" >&2
  fi
fi

# --- Citus: a coordinator and two workers (scripts/citus.sh), for the
# suites that must hold on a sharded PostgreSQL: storetest, the outbox,
# pgbus and the example server's end-to-end tests (testdb.Citus,
# testdb.CitusDSN). The first run builds Citus 13.2.2 from ../shared/citus
# (about 4 minutes on 2 cores; FIELDTALK_CITUS_SRC overrides the place);
# later runs only start the cluster. Set FIELDTALK_CITUS_URL to use a
# cluster you already run instead.
start_server Citus citus FIELDTALK_CITUS_URL
# --- end of Citus

start_server PostgreSQL pg FIELDTALK_POSTGRES_URL

# --- PgBouncer in transaction mode in front of that PostgreSQL
# (scripts/pgbouncer.sh; Debian's pgbouncer, installed with apt-get when
# missing), for the suites that must hold behind a pooler (testdb.PgBouncer:
# storetest, the outbox). Set FIELDTALK_PGBOUNCER_URL to use one you run.
if [ -n "${FIELDTALK_POSTGRES_URL:-}" ]; then
  start_server PgBouncer pgbouncer FIELDTALK_PGBOUNCER_URL
elif [ "${CI:-}" = true ]; then
  echo "test.sh: no PostgreSQL for PgBouncer to front; CI requires it" >&2
  exit 1
fi

# The race detector instruments every package, except the C library that
# modernc.org/sqlite is transpiled from (modernc.org/sqlite/lib) and the C
# runtime it runs on (modernc.org/libc, modernc.org/memory): instrumented,
# they made each SQLite statement about 12 times slower (60 s of CPU
# against 5 s for the store's SQLite differential test), the largest cost
# of the whole run, for code that is C, not ours (a cgo SQLite is never
# instrumented either). Their caller modernc.org/sqlite,
# the driver that copies our values in and out, stays instrumented, so a
# race on them is still seen. Checkptr, which -race turns on, is off for
# all of modernc.org: its unsafe pointer arithmetic is the point of it.
# go vet takes the same flags, so it type-checks from the packages the
# tests compile instead of compiling everything a second time.
race=(-race
  -gcflags='modernc.org/...=-d=checkptr=0'
  -gcflags='modernc.org/sqlite/lib=-d=checkptr=0 -race=false'
  -gcflags='modernc.org/libc/...=-d=checkptr=0 -race=false'
  -gcflags='modernc.org/memory=-d=checkptr=0 -race=false')
go vet "${race[@]}" ./...
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
go test "${race[@]}" -count=1 -timeout 30m "${args[@]}"

# Fuzz the example server's JSON API for a fixed time (FuzzAPI in
# examples/server/host: any route, method and field, NUL, invalid UTF-8,
# huge numbers; no 5xx, no panic, a 4xx leaves the database unchanged).
# The main run above already replayed its seed corpus
# (examples/server/host/testdata/fuzz/FuzzAPI); an input that fails is
# written there, to be kept as a regression. Only on a whole-suite run.
if [ $# -eq 0 ]; then
  go test -run '^$' -fuzz '^FuzzAPI$' -fuzztime "${FIELDTALK_FUZZTIME:-20s}" ./examples/server/host/
fi
