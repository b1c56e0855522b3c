#!/usr/bin/env bash
# The whole test suite: go vet, then go test -race over every package, on
# SQLite and on a throwaway PostgreSQL started here (and stopped on exit).
# Extra arguments go to go test (e.g. scripts/test.sh -run Inbox ./store/...).
#
# Set FIELDTALK_POSTGRES_URL to use a server you already run instead.
# With CI=true a PostgreSQL that cannot start fails the run; the tests never
# skip PostgreSQL there. The same holds for the Citus cluster below
# (FIELDTALK_CITUS_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

# Cleanups of the blocks below, run in reverse order on exit.
cleanups=()
cleanup() {
  local i
  for (( i=${#cleanups[@]}-1; i>=0; i-- )); do eval "${cleanups[i]}" || true; done
}
trap cleanup EXIT

if [ -z "${FIELDTALK_POSTGRES_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/fieldtalk-pg.XXXXXX)
  cleanups+=('scripts/pg.sh stop "$pgdir"')
  t0=$(date +%s%N)
  if out=$(scripts/pg.sh start "$pgdir"); then
    eval "$out"
    echo "PostgreSQL started in $(( ($(date +%s%N) - t0) / 1000000 )) ms on $FIELDTALK_POSTGRES_URL"
  elif [ "${CI:-}" = true ]; then
    echo "test.sh: PostgreSQL did not start; CI requires it" >&2
    exit 1
  else
    echo "test.sh: PostgreSQL did not start; its tests will be skipped" >&2
  fi
fi

# --- Citus: a coordinator and two workers (scripts/citus.sh), for the
# suites that must hold on a sharded PostgreSQL: storetest, the outbox,
# pgbus and the example server's end-to-end tests (testdb.Citus,
# testdb.CitusDSN). The first run builds Citus 13.2.2 from ../shared/citus
# (about 4 minutes on 2 cores; FIELDTALK_CITUS_SRC overrides the place);
# later runs only start the cluster. Set FIELDTALK_CITUS_URL to use a
# cluster you already run instead.
if [ -z "${FIELDTALK_CITUS_URL:-}" ]; then
  citusdir=$(mktemp -d /tmp/fieldtalk-citus.XXXXXX)
  cleanups+=('scripts/citus.sh stop "$citusdir"')
  t0=$(date +%s%N)
  if out=$(scripts/citus.sh start "$citusdir"); then
    eval "$out"
    echo "Citus started in $(( ($(date +%s%N) - t0) / 1000000 )) ms on $FIELDTALK_CITUS_URL"
  elif [ "${CI:-}" = true ]; then
    echo "test.sh: Citus did not start; CI requires it" >&2
    exit 1
  else
    echo "test.sh: Citus did not start; its tests will be skipped" >&2
  fi
fi
# --- end of Citus

go vet ./...
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
go test -race -count=1 -timeout 20m "${args[@]}"
