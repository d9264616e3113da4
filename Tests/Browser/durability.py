#!/usr/bin/env python3
"""Crash test: every report the server acknowledged (201) survives kill -9 and a restart.
Usage: durability.py ATTEST_BINARY [SECONDS]
Starts Attest on a fresh data directory (SQLite unless DATABASE_URL is set), submits reports from 16 threads,
kills the server with SIGKILL while requests are in flight, restarts it, and reads back every acknowledged
report with its follow-up code."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BINARY = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
PORT = 18090
BASE = f"http://127.0.0.1:{PORT}"
BODY = json.dumps({"occurredAt": {"from": "2026-11-20T14:30:00-06:00"}, "narrative": "Crash test report.",
                   "categories": ["vehicle"], "contact": {"phone": "+1 312 555 0100"}}).encode()


def start(data_dir):
    env = dict(os.environ, ATTEST_DATA_DIR=data_dir, ATTEST_RATE_LIMIT_PER_MINUTE="0", LOG_LEVEL="warning")
    process = subprocess.Popen([BINARY, "serve", "--port", str(PORT)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{BASE}/api/v1/openapi.json", timeout=1)
            return process
        except Exception:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def main():
    data_dir = tempfile.mkdtemp(prefix="attest-crash-")
    server = start(data_dir)
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def submit():
        while not stop.is_set():
            request = urllib.request.Request(f"{BASE}/api/v1/reports", data=BODY,
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 201:
                        receipt = json.load(response)
                        with lock:
                            acknowledged.append((receipt["reference"], receipt["followUpCode"]))
            except Exception:
                pass  # the server is being killed; unacknowledged requests may be lost

    threads = [threading.Thread(target=submit) for _ in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    server.send_signal(signal.SIGKILL)  # while requests are in flight
    server.wait()
    stop.set()
    for thread in threads:
        thread.join()
    server = start(data_dir)
    passed = failed = 0
    try:
        for reference, code in acknowledged:
            request = urllib.request.Request(f"{BASE}/api/v1/reports/{reference}",
                                             headers={"Authorization": f"Bearer {code}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    ok = response.status == 200 and json.load(response)["reference"] == reference
            except urllib.error.HTTPError:
                ok = False
            if ok:
                passed += 1
            else:
                failed += 1
                print(f"LOST {reference}")
    finally:
        server.terminate()
        server.wait()
    print(f"durability: {len(acknowledged)} reports acknowledged before kill -9; "
          f"{passed} read back after restart, {failed} lost")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
