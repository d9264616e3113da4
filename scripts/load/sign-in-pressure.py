#!/usr/bin/env python3
"""GET /report latency while 16 clients replay staff sign-in attempts (issue 14, item 3).

Starts a build of Attest on a fresh data directory, takes one CSRF pair from /staff/sign-in and has 16 threads
POST wrong passwords with it as fast as they are answered (unknown e-mails: each costs a bcrypt decoy), while
wrk measures GET /report. Prints wrk's latency distribution and how the sign-in attempts were answered.

Usage: scripts/load/sign-in-pressure.py [BINARY] [SECONDS] [ATTACKERS]   (default .build/release/attest, 20 s, 16)
ATTACKERS=0 measures the page alone. Settings come from the environment (e.g. ATTEST_STAFF_SIGN_IN_PER_MINUTE).
"""
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/attest"
seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
attackers = int(sys.argv[3]) if len(sys.argv) > 3 else 16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
data = tempfile.mkdtemp(prefix="attest-signin-")
env = dict(os.environ, ATTEST_DATA_DIR=data, LOG_LEVEL="warning")
server = subprocess.Popen([binary, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
try:
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/staff/sign-in")
            page = connection.getresponse()
            body = page.read().decode()
            cookie = page.getheader("Set-Cookie").split(";")[0]
            break
        except OSError:
            time.sleep(0.2)
    token = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    statuses = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds + 2

    def attacker(number):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        count = 0
        while time.monotonic() < stop:
            form = urllib.parse.urlencode({"csrf": token, "email": f"nobody{number}-{count}@example.org",
                                           "password": "wrong password guess"})
            try:
                connection.request("POST", "/staff/sign-in", body=form, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
                response = connection.getresponse()
                response.read()
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except OSError:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            count += 1

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(attackers)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    result = subprocess.run(["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/report"],
                            capture_output=True, text=True)
    print(result.stdout)
    for thread in threads:
        thread.join()
    print("sign-in attempts by status:", dict(sorted(statuses.items())))
finally:
    server.kill()
    server.wait()
