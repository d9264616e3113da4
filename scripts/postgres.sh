#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL server for tests: 127.0.0.1:5433, trust auth, database `attest_test`.
#   scripts/postgres.sh start [DIR]   (prints the DATABASE_URL)
#   scripts/postgres.sh stop [DIR]
# Needs Debian's postgresql package and root (it runs the server as the postgres user).
# max_connections=1000: the test suite runs a hundred apps at once, each with its pool and its committer's connection.
set -euo pipefail
action=${1:?start or stop}
dir=${2:-/tmp/attest-pg}
port=${ATTEST_PG_PORT:-5433}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
case "$action" in
  start)
    if [ ! -s "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      chown postgres:postgres "$dir"
      runuser -u postgres -- "$bin/initdb" -D "$dir" --auth=trust -U postgres >/dev/null
    fi
    if ! runuser -u postgres -- "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      runuser -u postgres -- "$bin/pg_ctl" -D "$dir" -w -l "$dir/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=1000 -c fsync=on" start >/dev/null
    fi
    runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres attest_test 2>/dev/null || true
    echo "postgres://postgres@127.0.0.1:$port/attest_test"
    ;;
  stop)
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir" -w stop -m fast >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
