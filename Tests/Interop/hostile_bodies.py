#!/usr/bin/env python3
"""Hostile form bodies against a real Attest process (issue 14, item 1).

Also sends bodies of 60,000 one-byte HTTP chunks to POST /report and to a tus creation-with-upload: a body stream
of tiny chunks once overflowed the stack (Vapor answered each already-completed future with the next chunk inside
the same call).

Starts `attest serve` on a fresh data directory and, from several clients at once, sends to POST /report:
a 300 MB part-header line, 100,000 empty parts and parts with 8 KB names (about 300 MB in all), each over a raw
socket as fast as the server reads. Meanwhile it keeps asking for GET /report. Passes when every hostile body is
refused (413/400) or cut off, the server's resident memory grows by less than 32 MiB, and every page is answered
within two seconds.

Usage: hostile_bodies.py PATH/TO/attest
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BOUNDARY = "----AttestHostile"
MIB = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def hostile_stream(kind):
    """Yields the body of one hostile request, about 300 MB, in 64 KiB pieces."""
    total = 300 * MIB
    sent = 0
    if kind == "header":
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="'.encode()
        piece = b"a" * 65536
    elif kind == "empty":
        piece = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n'.encode()) * 1000
        total = min(total, len(piece) * 100)  # 100,000 parts
    else:
        name = "n" * 8192
        piece = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\nx\r\n'.encode() * 8
    while sent < total:
        yield piece
        sent += len(piece)


def send_hostile(port, kind, results):
    head = (
        f"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    started = time.monotonic()
    status = None
    sent = 0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(head)
            s.settimeout(5)
            for piece in hostile_stream(kind):
                try:
                    s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                    sent += len(piece)
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    break  # the server stopped reading: what we want
                if time.monotonic() - started > 120:
                    break
            s.settimeout(10)
            try:
                reply = s.recv(4096)
                if reply.startswith(b"HTTP/1.1 "):
                    status = int(reply[9:12])
            except (socket.timeout, ConnectionResetError):
                pass
    except OSError as error:
        results.append((kind, "error", str(error), sent))
        return
    results.append((kind, status, round(time.monotonic() - started, 1), sent))


def send_tiny_chunks(port, path, headers, results):
    """60,000 one-byte chunks (a debug build crashed from 25,000); the server must answer and stay up."""
    body = b"".join(b"1\r\n" + bytes([0x61]) + b"\r\n" for _ in range(60_000)) + b"0\r\n\r\n"
    status = None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=180) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Transfer-Encoding: chunked\r\n\r\n".encode())
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = s.recv(4096)
            if reply.startswith(b"HTTP/1.1 "):
                status = int(reply[9:12])
    except OSError as error:
        status = f"error {error}"
    results.append((path, status))


def main():
    binary = sys.argv[1]
    data = tempfile.mkdtemp(prefix="attest-hostile-")
    port = free_port()
    env = dict(os.environ, ATTEST_DATA_DIR=data, ATTEST_RATE_LIMIT_PER_MINUTE="0", ATTEST_EXIFTOOL="off",
               ATTEST_IDLE_TIMEOUT_SECONDS="10")
    server = subprocess.Popen([binary, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/report", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(20):  # warm up: the pages' templates and caches are loaded before the baseline
            urllib.request.urlopen(base + "/report", timeout=5).read()
        baseline = rss_bytes(server.pid)
        peak = baseline
        results = []
        clients = [threading.Thread(target=send_hostile, args=(port, kind, results))
                   for kind in ["header", "empty", "names", "header", "names", "header"]]
        for client in clients:
            client.start()
        page_times = []
        while any(client.is_alive() for client in clients):
            started = time.monotonic()
            try:
                urllib.request.urlopen(base + "/report", timeout=10).read()
                page_times.append(time.monotonic() - started)
            except OSError as error:
                page_times.append(99.0)
                print("page failed:", error)
            peak = max(peak, rss_bytes(server.pid))
            time.sleep(0.1)
        for client in clients:
            client.join()
        peak = max(peak, rss_bytes(server.pid))
        tiny = []
        send_tiny_chunks(port, "/report", "Content-Type: application/x-www-form-urlencoded\r\n", tiny)
        send_tiny_chunks(port, "/uploads", "Tus-Resumable: 1.0.0\r\nUpload-Length: 60000\r\n"
                         "Content-Type: application/offset+octet-stream\r\n", tiny)
        print(f"one-byte chunks: {tiny}")
        growth = peak - baseline
        print(f"hostile bodies: {results}")
        print(f"resident memory {baseline / MIB:.1f} MiB -> peak {peak / MIB:.1f} MiB (growth {growth / MIB:.1f} MiB)")
        print(f"pages during the attack: {len(page_times)}, slowest {max(page_times):.3f} s")
        refused = [f"{kind}: status {status}, {sent} bytes sent" for kind, status, _, sent in results
                   if status not in (400, 413, None) or sent >= 299 * MIB]
        checks = {
            "memory grew by less than 32 MiB": growth < 32 * MIB,
            "every page answered within 2 s": bool(page_times) and max(page_times) <= 2.0,
            "every hostile body refused early": len(results) == len(clients) and not refused,
            "the server kept running": server.poll() is None,
            "bodies of one-byte chunks answered": all(isinstance(status, int) and status < 500 for _, status in tiny),
        }
        failures = [name for name, ok in checks.items() if not ok] + refused
        print(f"{sum(checks.values())} passed, {len(checks) - sum(checks.values())} failed")
        if failures:
            print("FAILED:", "; ".join(failures))
            sys.exit(1)
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
