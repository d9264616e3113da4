#!/usr/bin/env python3
"""GET /report latency while exiftool works on five hostile files (issue 14, item 2).

Starts Attest on a fresh data directory, uploads by tus, at once, three 8 MB JPEGs made of empty comment segments
and two PNGs whose compressed text chunk inflates to 300 MB, then measures GET /report with wrk while the
extractions run, and prints how each extraction ended and the server's peak resident memory.

Usage: scripts/load/exiftool-pressure.py [BINARY] [SECONDS]   (default .build/release/attest, 20 s)
"""
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/attest"
seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def comment_bomb(seed):
    return b"\xff\xd8" + b"\xff\xfe\x00\x02" * (2_000_000 + seed) + b"\xff\xd9"


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def text_bomb(seed):
    compressor = zlib.compressobj(9)
    block = b"A" * (1 << 20)
    packed = b"".join(compressor.compress(block) for _ in range(300)) + compressor.flush()
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    image = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    return (b"\x89PNG\r\n\x1a\n" + header + chunk(b"zTXt", b"Comment\x00\x00" + packed)
            + chunk(b"tEXt", b"Seed\x00" + bytes([seed])) + image + chunk(b"IEND", b""))


def upload(port, body, results):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(body))})
    response = connection.getresponse()
    response.read()
    location = response.getheader("Location")
    started = time.monotonic()
    connection.request("PATCH", location, body=body, headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    response = connection.getresponse()
    response.read()
    results.append((response.status, round(time.monotonic() - started, 2)))


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
data = tempfile.mkdtemp(prefix="attest-exif-")
env = dict(os.environ, ATTEST_DATA_DIR=data, ATTEST_RATE_LIMIT_PER_MINUTE="0", LOG_LEVEL="warning")
server = subprocess.Popen([binary, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
try:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    files = [comment_bomb(0), text_bomb(1), comment_bomb(1), text_bomb(2), comment_bomb(2)]
    print("files:", [len(f) for f in files], "bytes")
    results = []
    threads = [threading.Thread(target=upload, args=(port, body, results)) for body in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("uploads (status, seconds):", results)
    peak = rss(server.pid)
    wrk = subprocess.Popen(["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/report"],
                           stdout=subprocess.PIPE, text=True)
    while wrk.poll() is None:
        peak = max(peak, rss(server.pid))
        time.sleep(0.2)
    print(wrk.stdout.read())
    deadline = time.monotonic() + 200
    outcomes = []
    while time.monotonic() < deadline:
        outcomes = []
        for root, _, names in os.walk(os.path.join(data, "evidence")):
            for name in names:
                if name.endswith(".metadata.json"):
                    with open(os.path.join(root, name)) as f:
                        document = json.load(f)
                    outcomes.append((document.get("Attest:Extraction"), os.path.getsize(os.path.join(root, name))))
        if len(outcomes) == len(files):
            break
        time.sleep(1)
    print("extractions (outcome, metadata bytes):", outcomes)
    print(f"server peak resident memory: {peak / (1 << 20):.1f} MiB")
finally:
    server.kill()
    server.wait()
