#!/usr/bin/env bash
# The whole test suite: go vet, then go test -race over every package, on
# SQLite and on a throwaway PostgreSQL started here (and stopped on exit).
# Extra arguments go to go test (e.g. scripts/test.sh -run Inbox ./store/...).
#
# Set FIELDTALK_POSTGRES_URL to use a server you already run instead.
# With CI=true a PostgreSQL that cannot start fails the run; the tests never
# skip PostgreSQL there. Likewise Chromium, for the web app's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${FIELDTALK_POSTGRES_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/fieldtalk-pg.XXXXXX)
  trap 'scripts/pg.sh stop "$pgdir"' EXIT
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

go vet ./...
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
go test -race -count=1 -timeout 20m "${args[@]}"
