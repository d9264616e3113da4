#!/usr/bin/env python3
"""Resumable uploads with the standard Python tus client (PyPI tuspy), across a crash.
Usage: tus_resume.py ATTEST_BINARY
Starts Attest on a fresh data directory (SQLite unless DATABASE_URL is set). Twenty clients upload at once with
tuspy (sha1 checksums on every chunk); part-way through, the server is killed with SIGKILL. After a restart every
client resumes from the offset the server reports, which must be at least the offset it had acknowledged; every
file completes, is attached to a report through the API, and the receipt's SHA-256 must equal the file's."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from tusclient import client as tus

BINARY = sys.argv[1]
PORT = 18091
BASE = f"http://127.0.0.1:{PORT}"
CLIENTS = 20
SIZE = 6 * 1024 * 1024 + 12345
CHUNK = 1024 * 1024


def start(data_dir):
    env = dict(os.environ, ATTEST_DATA_DIR=data_dir, ATTEST_RATE_LIMIT_PER_MINUTE="0", LOG_LEVEL="warning")
    process = subprocess.Popen([BINARY, "serve", "--port", str(PORT)], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(data_dir, "server.log"), "ab"))
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{BASE}/api/v1/openapi.json", timeout=1)
            return process
        except Exception:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def sample(directory, number):
    """A JPEG-typed file: the JPEG signature, then random bytes (distinct per client)."""
    path = os.path.join(directory, f"evidence-{number}.jpg")
    with open(path, "wb") as file:
        file.write(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(SIZE - 11))
    return path


def post_json(path, body):
    request = urllib.request.Request(f"{BASE}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)


def main():
    data_dir = tempfile.mkdtemp(prefix="attest-tus-")
    files_dir = tempfile.mkdtemp(prefix="attest-tus-files-")
    paths = [sample(files_dir, number) for number in range(CLIENTS)]
    server = start(data_dir)
    client = tus.TusClient(f"{BASE}/uploads")
    acknowledged = {}
    urls = {}
    lock = threading.Lock()
    stop = threading.Event()

    def upload(path):
        uploader = client.uploader(path, chunk_size=CHUNK, upload_checksum=True,
                                   metadata={"filename": os.path.basename(path)})
        uploader.set_url(uploader.create_url())  # tus creation, before any byte
        with lock:
            urls[path] = uploader.url
        while not stop.is_set() and uploader.offset < uploader.get_file_size():
            try:
                uploader.upload_chunk()
            except Exception:
                return  # the server is being killed
            with lock:
                acknowledged[path] = uploader.offset

    threads = [threading.Thread(target=upload, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    # Kill while chunks are in flight: once about a third of all bytes were acknowledged.
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            done = sum(acknowledged.values())
        if done >= CLIENTS * SIZE // 3:
            break
        time.sleep(0.02)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in threads:
        thread.join()
    print(f"tus: killed the server with {sum(acknowledged.values())} of {CLIENTS * SIZE} bytes acknowledged")

    server = start(data_dir)
    failures = 0
    try:
        resumed = 0
        uploads = {}
        for path in paths:
            uploader = client.uploader(path, url=urls[path], chunk_size=CHUNK, upload_checksum=True)
            if uploader.offset < acknowledged.get(path, 0):
                print(f"LOST {path}: the server reports {uploader.offset}, it had acknowledged {acknowledged[path]}")
                failures += 1
            if 0 < uploader.offset < SIZE:
                resumed += 1
            uploader.upload()
            uploads[path] = urls[path].rsplit("/", 1)[-1]
        for path, upload_id in uploads.items():
            body = {"occurredAt": {"from": "2026-11-20T14:30:00-06:00"}, "narrative": "Upload crash test.",
                    "uploads": [upload_id]}
            status, receipt = post_json("/api/v1/reports", body)
            with open(path, "rb") as file:
                expected = hashlib.sha256(file.read()).hexdigest()
            got = receipt["evidence"][0]["sha256"] if status == 201 and receipt["evidence"] else None
            if got != expected:
                print(f"MISMATCH {path}: {got} != {expected}")
                failures += 1
        print(f"tus: {resumed} uploads resumed mid-file after the restart; {len(uploads)} completed and attached; "
              f"{failures} failures")
    finally:
        server.terminate()
        server.wait()
    return 1 if failures or resumed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
