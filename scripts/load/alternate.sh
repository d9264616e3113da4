#!/usr/bin/env bash
# A/B load test: runs wrk against POST /api/v1/reports on each given binary in turn, ROUNDS times, each on a
# fresh SQLite data directory. This VM's speed drifts by ±20 % over minutes, so two builds are only compared
# run by run, alternated (docs/benchmarks.md).
#   scripts/load/alternate.sh ROUNDS SECONDS BINARY...
#   e.g. cp .build/release/attest /tmp/attest-before; (change, rebuild); scripts/load/alternate.sh 4 10 /tmp/attest-before .build/release/attest
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=$1
seconds=$2
shift 2
port=18092
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for _ in $(seq 1 "$rounds"); do
    for binary in "$@"; do
        data=$(mktemp -d /tmp/attest-alternate.XXXXXX)
        ATTEST_DATA_DIR=$data ATTEST_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning "$binary" serve --port $port \
            >"$data/server.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
        before=$(cpu_ticks $pid)
        output=$(wrk -t2 -c64 -d"${seconds}s" --latency -s scripts/load/post-report.lua \
            "http://127.0.0.1:$port/api/v1/reports")
        after=$(cpu_ticks $pid)
        requests=$(echo "$output" | awk '/^requests / {gsub(",", "", $2); print $2}')
        result=$(echo "$output" | grep -E "^Requests/sec|^p50" | tr '\n' ' ')
        # The server's CPU time (user + system) per request: steadier than throughput on this VM.
        cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
            'BEGIN {printf "%.0f", t / hz * 1e6 / n}')
        echo "$binary: $result server CPU ${cpu} us/request"
        kill $pid
        wait $pid 2>/dev/null || true
        rm -rf "$data"
    done
done
