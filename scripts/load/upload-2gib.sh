#!/usr/bin/env bash
# Upload benchmark: one 2 GiB tus upload over loopback against a release build, with the machine's ceiling
# measured in the same run (sequential write with fsync, SHA-256 and SHA-512 on one core), the server's memory
# growth, then twenty concurrent uploads. Everything is bounded in size and time.
#   scripts/load/upload-2gib.sh [GIB] [CONCURRENT] [CONCURRENT_MIB]
# Build first: swift build -c release --product attest
set -euo pipefail
cd "$(dirname "$0")/../.."
gib=${1:-2}
concurrent=${2:-20}
concurrent_mib=${3:-64}
binary=.build/release/attest
port=18092
base="http://127.0.0.1:$port"
work=$(mktemp -d /tmp/attest-upload.XXXXXX)
bytes=$((gib * 1024 * 1024 * 1024))
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== Ceiling (same machine, same filesystem, same run)"
dd_out=$(dd if=/dev/zero of="$work/dd.bin" bs=8M count=$((gib * 128)) conv=fsync 2>&1 | tail -1)
rm -f "$work/dd.bin"
dd_mbs=$(echo "$dd_out" | awk '{for (i=1;i<=NF;i++) if ($i ~ /^[GM]B\/s$/) {v=$(i-1); if ($i=="GB/s") v=v*1000; print v}}')
sha256_mbs=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ {sub("k","",$NF); print $NF/1000}')
sha512_mbs=$(openssl speed -evp sha512 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha512/ {sub("k","",$NF); print $NF/1000}')
ceiling=$(printf '%s\n%s\n%s\n' "$dd_mbs" "$sha256_mbs" "$sha512_mbs" | sort -n | head -1)
echo "dd conv=fsync: $dd_mbs MB/s; openssl sha256: $sha256_mbs MB/s; sha512: $sha512_mbs MB/s; ceiling: $ceiling MB/s"

echo "== The file: JPEG signature + $gib GiB of random bytes"
{ printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00'; head -c $((bytes - 11)) /dev/urandom; } >"$work/big.jpg"
expected=$(sha256sum "$work/big.jpg" | cut -d' ' -f1)

ATTEST_DATA_DIR="$work/data" ATTEST_RATE_LIMIT_PER_MINUTE=0 ATTEST_EXIFTOOL=off LOG_LEVEL=warning \
  "$binary" serve --port $port >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/" >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' /proc/$pid/status; }
rss_before=$(rss)

location=$(curl -fsS -D - -o /dev/null -X POST "$base/uploads" -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $bytes" \
  | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
# -T streams the file (curl reads it in pieces); one PATCH carries it all.
read -r code seconds < <(curl -sS -o "$work/patch.out" -w '%{http_code} %{time_total}\n' --max-time 600 -X PATCH \
  -T "$work/big.jpg" -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" \
  -H "Content-Type: application/offset+octet-stream" -H "Expect:" "$base$location")
peak=$(awk '/^VmHWM/ {print $2}' /proc/$pid/status)
stored=$(find "$work/data/evidence/objects" -type f -name "$expected" | wc -l)
mbs=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN {printf "%.0f", b / s / 1e6}')
percent=$(awk -v m="$mbs" -v c="$ceiling" 'BEGIN {printf "%.0f", 100 * m / c}')
echo "== One $gib GiB upload: HTTP $code in $seconds s = $mbs MB/s ($percent% of the $ceiling MB/s ceiling)"
echo "stored under its SHA-256: $stored; server RSS before $((rss_before / 1024)) MiB, peak $((peak / 1024)) MiB," \
  "growth $(((peak - rss_before) / 1024)) MiB"

echo "== $concurrent concurrent uploads of $concurrent_mib MiB"
small=$((concurrent_mib * 1024 * 1024))
for i in $(seq 1 "$concurrent"); do
  { printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00'; head -c $((small - 11)) /dev/urandom; } >"$work/c$i.jpg"
done
start=$(date +%s.%N)
children=()
for i in $(seq 1 "$concurrent"); do
  (
    loc=$(curl -fsS -D - -o /dev/null -X POST "$base/uploads" -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $small" \
      | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
    curl -sS -o /dev/null -w '%{http_code}\n' --max-time 300 -X PATCH -T "$work/c$i.jpg" -H "Tus-Resumable: 1.0.0" \
      -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" -H "Expect:" "$base$loc" \
      >"$work/c$i.status"
  ) &
  children+=($!)
done
wait "${children[@]}" || true
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
ok=$(cat "$work"/c*.status | grep -c '^204$' || true)
errors=$((concurrent - ok))
echo "$ok of $concurrent uploads acknowledged (204), $errors errors, in ${elapsed}s" \
  "($(awk -v n="$concurrent" -v m="$concurrent_mib" -v s="$elapsed" 'BEGIN {printf "%.0f", n * m * 1.048576 / s}') MB/s together)"
echo "server peak RSS after all: $(($(awk '/^VmHWM/ {print $2}' /proc/$pid/status) / 1024)) MiB"
[ "$code" = 204 ] && [ "$stored" = 1 ] && [ "$errors" = 0 ]
