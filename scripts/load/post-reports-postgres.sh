#!/usr/bin/env bash
# Load test on PostgreSQL: wrk against POST /api/v1/reports on a release build with a fresh database, then kill -9
# and check that every acknowledged (201) report is stored and that `attest log verify` passes.
#   scripts/load/post-reports-postgres.sh ADMIN_URL [CONNECTIONS] [SECONDS] [PROCESSES] [BINARY]
#   e.g. scripts/postgres.sh start /tmp/pg && scripts/load/post-reports-postgres.sh postgres://postgres@127.0.0.1:5433/postgres 64 20 2
# PROCESSES servers (default 1) share the database, each on its own port with its own wrk (CONNECTIONS split
# between them); with two or more, the first is killed with -9 halfway through the run and the others go on
# (KILL=0: no kill).
# Build first: swift build -c release --product attest
set -euo pipefail
cd "$(dirname "$0")/../.."
admin=$1
connections=${2:-64}
seconds=${3:-20}
processes=${4:-1}
binary=${5:-.build/release/attest}
database=attest_load_$$
url=${admin%/*}/$database
psql -q "$admin" -c "CREATE DATABASE $database"
data=$(mktemp -d /tmp/attest-load-pg.XXXXXX)
export ATTEST_DATA_DIR=$data ATTEST_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning DATABASE_URL=$url
cleanup() {
    for pid in "${pids[@]:-}"; do kill -9 "$pid" 2>/dev/null || true; done
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $database" || true
    rm -rf "$data"
}
trap cleanup EXIT
# The first server creates the schema and keys; the others start after it.
pids=()
ports=()
for index in $(seq 1 "$processes"); do
    port=$((18100 + index))
    "$binary" serve --port $port >"$data/server-$index.log" 2>&1 &
    pids+=($!)
    ports+=($port)
    for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
done
per=$((connections / processes))
outputs=()
wrks=()
for index in $(seq 0 $((processes - 1))); do
    out=$data/wrk-$index.txt
    outputs+=("$out")
    wrk -t1 -c"$per" -d"${seconds}s" --timeout 10s --latency -s scripts/load/post-report.lua \
        "http://127.0.0.1:${ports[$index]}/api/v1/reports" >"$out" 2>&1 &
    wrks+=($!)
done
if [ "$processes" -gt 1 ] && [ "${KILL:-1}" = 1 ]; then
    sleep $((seconds / 2))
    kill -9 "${pids[0]}"
    echo "killed server 1 (pid ${pids[0]}) with -9 after $((seconds / 2)) s"
fi
for pid in "${wrks[@]}"; do wait "$pid" || true; done
acknowledged=0
for index in $(seq 0 $((processes - 1))); do
    echo "server $((index + 1)):"
    grep -E "Requests/sec|^requests|^p50|Latency Distribution" -A0 "${outputs[$index]}" | sed 's/^/  /'
    # Acknowledged = requests answered 2xx (all 201 here): requests minus non-2xx answers and read errors.
    count=$(awk '/^requests / {gsub(",", "", $2); requests=$2} /non-2xx/ {non2xx=$NF} /read [0-9]+/ {for (i=1;i<=NF;i++) if ($i=="read") read=$(i+1)} END {print requests - non2xx - read}' "${outputs[$index]}")
    acknowledged=$((acknowledged + count))
done
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
stored=$(psql -tA "$url" -c "SELECT count(*) FROM reports")
echo "acknowledged (201): $acknowledged in ${seconds} s = $((acknowledged / seconds))/s; stored after kill -9: $stored"
"$binary" log verify >"$data/verify.txt" 2>&1 && verified=yes || verified=no
tail -3 "$data/verify.txt"
echo "attest log verify passed: $verified"
[ "$acknowledged" -le "$stored" ] && [ "$verified" = yes ]
