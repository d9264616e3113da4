#!/usr/bin/env python3
"""Two Attest processes on one PostgreSQL database serve one staff deployment: a session signed in on one is valid
on the other, signing out everywhere on one ends it on both, a TOTP code used on one is refused on the other, and
the custody log (with its staff.signed_in entries) verifies. Usage: DATABASE_URL=… staff_two_processes.py BINARY"""
import base64
import hashlib
import hmac
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

import requests

BINARY = sys.argv[1]
PORTS = (18096, 18097)


def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def csrf(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAIL {message}")


def main():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("SKIP staff_two_processes: needs DATABASE_URL=postgres://… (CI sets it)")
        return 0
    data_dir = tempfile.mkdtemp(prefix="attest-staff-two-")
    env = dict(os.environ, ATTEST_DATA_DIR=data_dir, ATTEST_RATE_LIMIT_PER_MINUTE="0", LOG_LEVEL="warning",
               ATTEST_PUBLIC_URL=f"http://127.0.0.1:{PORTS[0]}")
    # The contact/TOTP key and the checkpoint key must be shared: the second process uses the first one's files.
    servers = []
    for port in PORTS:
        servers.append(subprocess.Popen([BINARY, "serve", "--port", str(port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(300):
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
    try:
        created = subprocess.run([BINARY, "staff", "create", "--email", "two@city.example", "--name", "Two",
                                  "--role", "supervisor"], env=env, capture_output=True, text=True, check=True)
        link = re.search(r"(http://\S+/staff/setup/[0-9a-f]{64})", created.stdout).group(1)
        a, b = (f"http://127.0.0.1:{port}" for port in PORTS)
        setup = requests.Session()
        page = setup.get(link.replace(f"http://127.0.0.1:{PORTS[0]}", b)).text
        secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page).group(1)
        step = int(time.time() // 30)
        done = setup.post(link.replace(f"http://127.0.0.1:{PORTS[0]}", b), data={
            "csrf": csrf(page), "password": "granite willow harbor 5", "password_again": "granite willow harbor 5",
            "secret": secret, "code": totp(secret, step)})
        check(done.status_code == 200 and "recovery-codes" in done.text, f"setup on process B: {done.status_code}")
        while int(time.time() // 30) <= step:
            time.sleep(0.5)
        step = int(time.time() // 30)

        browser = requests.Session()
        page = browser.get(f"{a}/staff/sign-in").text
        browser.post(f"{a}/staff/sign-in", data={"csrf": csrf(page), "email": "two@city.example",
                                                 "password": "granite willow harbor 5"}, allow_redirects=False)
        page = browser.get(f"{a}/staff/sign-in/verify").text
        code = totp(secret, step)
        signed = browser.post(f"{a}/staff/sign-in/verify", data={"csrf": csrf(page), "code": code},
                              allow_redirects=False)
        check(signed.headers.get("location") == "/staff/home", "signed in on process A")
        home_b = browser.get(f"{b}/staff/home", allow_redirects=False)
        check(home_b.status_code == 200 and "Two" in home_b.text, "the session from A is valid on B")

        replay = requests.Session()
        page = replay.get(f"{b}/staff/sign-in").text
        replay.post(f"{b}/staff/sign-in", data={"csrf": csrf(page), "email": "two@city.example",
                                                "password": "granite willow harbor 5"}, allow_redirects=False)
        page = replay.get(f"{b}/staff/sign-in/verify").text
        refused = replay.post(f"{b}/staff/sign-in/verify", data={"csrf": csrf(page), "code": code},
                              allow_redirects=False)
        check(refused.status_code == 401, f"the code used on A is refused on B: {refused.status_code}")

        out = browser.post(f"{b}/staff/sign-out-everywhere", data={"csrf": csrf(home_b.text)}, allow_redirects=False)
        check(out.status_code == 303, "signed out everywhere on B")
        after = browser.get(f"{a}/staff/home", allow_redirects=False)
        check(after.headers.get("location") == "/staff/sign-in", "the session is gone on A too")

        verify = subprocess.run([BINARY, "log", "verify"], env=env, capture_output=True, text=True)
        check(verify.returncode == 0, f"attest log verify: {verify.stdout}{verify.stderr}")
        print(f"PASS two processes share staff sessions and the custody log; {verify.stdout.strip()}")
        return 0
    finally:
        for server in servers:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
