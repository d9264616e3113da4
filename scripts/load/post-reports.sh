#!/usr/bin/env bash
# Load test: wrk against POST /api/v1/reports on a release build, then kill -9 and check that every
# acknowledged (201) report is still there after a restart.
#   scripts/load/post-reports.sh [CONNECTIONS] [SECONDS] [SYNCHRONOUS]
# Build first: swift build -c release --product attest
set -euo pipefail
cd "$(dirname "$0")/../.."
connections=${1:-64}
seconds=${2:-30}
synchronous=${3:-full}
binary=.build/release/attest
port=18091
data=$(mktemp -d /tmp/attest-load.XXXXXX)
export ATTEST_DATA_DIR=$data ATTEST_RATE_LIMIT_PER_MINUTE=0 ATTEST_SQLITE_SYNCHRONOUS=$synchronous LOG_LEVEL=warning
"$binary" serve --port $port >"$data/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
out=$(wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s --latency -s scripts/load/post-report.lua "http://127.0.0.1:$port/api/v1/reports")
echo "$out"
# Acknowledged = completed requests that got a 2xx (all 201 here): wrk's request count minus non-2xx answers
# and read errors (a request whose answer was not read is not counted as acknowledged).
acknowledged=$(echo "$out" | awk '/^requests / {gsub(",", "", $2); requests=$2} /non-2xx/ {non2xx=$NF} /read [0-9]+/ {for (i=1;i<=NF;i++) if ($i=="read") read=$(i+1)} END {print requests - non2xx - read}')
kill -9 $pid
wait $pid 2>/dev/null || true
"$binary" serve --port $port >>"$data/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from reports').fetchone()[0])" "$data/attest.sqlite")
kill $pid; wait $pid 2>/dev/null || true
echo "acknowledged (201): ${acknowledged:-0}; stored after kill -9 and restart: $stored"
rm -rf "$data"
[ "${acknowledged:-0}" -le "$stored" ]
