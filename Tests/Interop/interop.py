#!/usr/bin/env python3
"""Interoperability of Attest's custody log with verifiers nobody on the project wrote.

Usage: interop.py ATTEST_BINARY GOVERIFY_BINARY [--two-processes]

Starts Attest on a fresh data directory (SQLite, or PostgreSQL when DATABASE_URL is set), files reports, and
checks with Go's golang.org/x/mod/sumdb (through GOVERIFY_BINARY):
  - the signed checkpoints, inclusion proofs from /log/proof/inclusion for every entry, a consistency proof
    from /log/proof/consistency between two checkpoints, and every hash tile (x/mod rebuilds proofs from them);
  - negative fixtures, each of which must be rejected: an entry bit flipped, a proof element changed, the root
    or size line changed, a checkpoint signed by another key with the same name, CRLF line endings.
Then `attest log export DIR` and PyPI tlog-scales verifies the directory: checkpoint signature, every entry's
inclusion, the consistency between the two checkpoints, and the same negative fixtures.
With --two-processes (PostgreSQL), two Attest processes take reports at once on one database, and
`attest log verify` must pass afterwards.
"""
import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tlog_scales import tiles as tl_tiles
from tlog_scales.backend import LocalBackend
from tlog_scales.reader import TilesReader
from tlog_scales.signing import Vkey
from pathlib import Path

ATTEST, GOVERIFY = sys.argv[1], sys.argv[2]
TWO_PROCESSES = "--two-processes" in sys.argv
PORTS = [18110, 18111]
BODY = {"occurredAt": {"from": "2026-11-20T14:30:00-06:00"}, "narrative": "Interop test report. Agentes sin placa.",
        "categories": ["vehicle"]}
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def environment(data_dir):
    return dict(os.environ, ATTEST_DATA_DIR=data_dir, ATTEST_RATE_LIMIT_PER_MINUTE="0", LOG_LEVEL="warning",
                ATTEST_CHECKPOINT_SECONDS="1", ATTEST_CHECKPOINT_ENTRIES="100000",
                ATTEST_PUBLIC_URL="https://attest.example.org")


def start(data_dir, port):
    process = subprocess.Popen([ATTEST, "serve", "--port", str(port)], env=environment(data_dir),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/log/checkpoint", timeout=1)
            return process
        except Exception:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read()


def file_reports(port, count):
    for _ in range(count):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/reports", data=json.dumps(BODY).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201


def wait_for_checkpoint(port, size):
    for _ in range(100):
        note = get(port, "/log/checkpoint")
        if int(note.split(b"\n")[1]) >= size:
            return note
        time.sleep(0.1)
    raise SystemExit(f"no checkpoint of size {size}")


def goverify(*args):
    return subprocess.run([GOVERIFY, *args], capture_output=True, text=True)


def write(directory, name, data):
    path = os.path.join(directory, name)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    return path


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def flip_proof(proof_text):
    lines = proof_text.strip().split("\n")
    raw = bytearray(base64.b64decode(lines[0]))
    raw[0] ^= 1
    lines[0] = base64.b64encode(bytes(raw)).decode()
    return "\n".join(lines) + "\n"


def impostor_note(text, name):
    """The checkpoint text signed by a new key with the same name."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    signature = base64.b64encode(key_id + key.sign(text)).decode()
    return text + b"\n" + f"\u2014 {name} {signature}\n".encode()


def tamper_checkpoint(note, line, replacement):
    lines = note.split(b"\n")
    lines[line] = replacement
    return b"\n".join(lines)


def go_checks(port, work):
    vkey_path = write(work, "vkey", get(port, "/log/vkey"))
    old = wait_for_checkpoint(port, 1)
    old_path = write(work, "old.checkpoint", old)
    old_size = int(old.split(b"\n")[1])
    file_reports(port, 300)  # crosses a full tile (256 entries)
    new = wait_for_checkpoint(port, old_size + 300)
    new_path = write(work, "new.checkpoint", new)
    size = int(new.split(b"\n")[1])
    check(goverify("checkpoint", vkey_path, new_path).returncode == 0, f"x/mod opens the checkpoint (size {size})")

    tile_bytes = get(port, "/log/tile/0/000") + get(port, f"/log/tile/0/001.p/{size - 256}")
    leaves = [tile_bytes[i:i + 32] for i in range(0, len(tile_bytes), 32)]
    rejected_inclusion = []
    for index in range(size):
        proof = get(port, f"/log/proof/inclusion?index={index}&size={size}").decode()
        proof_path = write(work, "proof", proof)
        leaf = base64.b64encode(leaves[index]).decode()
        if goverify("inclusion", vkey_path, new_path, str(index), leaf, proof_path).returncode != 0:
            rejected_inclusion.append(index)
    check(not rejected_inclusion, f"x/mod checks the inclusion proof of all {size} entries (rejected: {rejected_inclusion[:5]})")

    consistency = write(work, "consistency", get(port, f"/log/proof/consistency?old={old_size}&new={size}"))
    check(goverify("consistency", vkey_path, old_path, new_path, consistency).returncode == 0,
          f"x/mod checks consistency {old_size} -> {size}")
    result = goverify("tiles", f"http://127.0.0.1:{port}/log", vkey_path, new_path)
    check(result.returncode == 0, f"x/mod reads every tile and proves every entry from them: {result.stdout.strip() or result.stderr.strip()}")

    # Negative fixtures: each must be rejected.
    proof_text = get(port, f"/log/proof/inclusion?index=5&size={size}").decode()
    good = write(work, "good-proof", proof_text)
    leaf5 = base64.b64encode(leaves[5]).decode()
    check(goverify("inclusion", vkey_path, new_path, "5", leaf5, good).returncode == 0, "x/mod accepts the unaltered fixture")
    negative = {
        "a proof element changed": ("inclusion", vkey_path, new_path, "5", leaf5, write(work, "bad-proof", flip_proof(proof_text))),
        "the root line changed": ("checkpoint", vkey_path, write(work, "bad-root", tamper_checkpoint(new, 2, old.split(b"\n")[2]))),
        "the size line changed": ("checkpoint", vkey_path, write(work, "bad-size", tamper_checkpoint(new, 1, str(size + 1).encode()))),
        "another key with the same name": ("checkpoint", vkey_path, write(work, "impostor", impostor_note(
            new.split(b"\n\n")[0] + b"\n", new.split(b"\n")[0].decode()))),
        "CRLF line endings": ("checkpoint", vkey_path, write(work, "crlf", new.replace(b"\n", b"\r\n"))),
    }
    for name, args in negative.items():
        check(goverify(*args).returncode != 0, f"x/mod rejects {name}")
    return old, new, vkey_path, new_path, good, leaves[5]


def go_entry_check(export, vkey_path, new_path, proof_path, leaf5):
    """Entries are not public: with the export's entry bundle, an entry with one bit flipped must not verify."""
    bundle = (Path(export) / "tile/entries/000").read_bytes()
    offset = 0
    for _ in range(5):
        offset += 2 + int.from_bytes(bundle[offset:offset + 2], "big")
    length = int.from_bytes(bundle[offset:offset + 2], "big")
    entry = bytearray(bundle[offset + 2:offset + 2 + length])
    check(leaf_hash(bytes(entry)) == leaf5, "the exported entry 5 hashes to the served leaf hash")
    entry[20] ^= 0x01
    flipped = base64.b64encode(leaf_hash(bytes(entry))).decode()
    check(goverify("inclusion", vkey_path, new_path, "5", flipped, proof_path).returncode != 0,
          "x/mod rejects an entry bit flipped")


def tlog_scales_checks(export, old, vkey_text):
    vkey = Vkey.from_string(vkey_text.strip())

    def verified_checkpoint(directory):
        reader = TilesReader(LocalBackend(Path(directory)))
        raw = (Path(directory) / "checkpoint").read_bytes()
        checkpoint = reader.get_checkpoint()
        # tlog-scales splits lines leniently (CR LF too); a checkpoint must be exactly the bytes it re-serialises.
        if raw != checkpoint.serialize().encode():
            raise ValueError("checkpoint bytes are not canonical")
        checkpoint.verify(vkey)
        if reader.calculate_root_hash() != checkpoint.root_hash:
            raise ValueError("root recomputed from tiles differs")
        return reader, checkpoint

    def verify_all(directory):
        reader, checkpoint = verified_checkpoint(directory)
        for index in range(checkpoint.size):
            entry = reader.get_entry(index)
            reader.get_inclusion_proof(index, checkpoint.size).check(tl_tiles.leaf_hash(entry), checkpoint.root_hash)
        old_size, old_root = int(old.split(b"\n")[1]), base64.b64decode(old.split(b"\n")[2])
        reader.get_consistency_proof(old_size, checkpoint.size).check(old_root, checkpoint.root_hash)
        return checkpoint.size

    def rejects(directory):
        try:
            verify_all(directory)
            return False
        except Exception:
            return True

    try:
        size = verify_all(export)
        check(size == int(old.split(b"\n")[1]) + 300,
              f"tlog-scales verifies the export: checkpoint signature, {size} entries' inclusion, consistency")
    except Exception as error:
        check(False, f"tlog-scales verifies the export: {error!r}")
    cli = subprocess.run([os.path.join(os.path.dirname(sys.executable), "tlog-tiles"), "get-leaf", "--check",
                          export, "-1"], capture_output=True)
    check(cli.returncode == 0 and cli.stdout.startswith(b"{"), "tlog-tiles get-leaf --check reads the last entry")

    def mutated(name, change):
        copy = os.path.join(os.path.dirname(export), name)
        shutil.copytree(export, copy)
        change(Path(copy))
        return copy

    def flip_entry(path):
        bundle = path / "tile/entries/000"
        data = bytearray(bundle.read_bytes())
        data[2 + 10] ^= 0x01  # a bit inside the first entry's JSON
        bundle.write_bytes(bytes(data))

    def change_hash_tile(path):
        tile = path / "tile/0/000"
        data = bytearray(tile.read_bytes())
        data[32 * 7] ^= 0x01  # the leaf hash of entry 7, which other entries' proofs use
        tile.write_bytes(bytes(data))

    def change_line(line, value):
        def change(path):
            note = (path / "checkpoint").read_bytes()
            (path / "checkpoint").write_bytes(tamper_checkpoint(note, line, value))
        return change

    def impostor(path):
        note = (path / "checkpoint").read_bytes()
        (path / "checkpoint").write_bytes(impostor_note(note.split(b"\n\n")[0] + b"\n", note.split(b"\n")[0].decode()))

    def crlf(path):
        note = (path / "checkpoint").read_bytes()
        (path / "checkpoint").write_bytes(note.replace(b"\n", b"\r\n"))

    negative = {
        "an entry bit flipped": flip_entry,
        "a proof element (hash tile) changed": change_hash_tile,
        "the root line changed": change_line(2, old.split(b"\n")[2]),
        "the size line changed": change_line(1, b"7"),
        "another key with the same name": impostor,
        "CRLF line endings": crlf,
    }
    for number, (name, change) in enumerate(negative.items()):
        check(rejects(mutated(f"bad-{number}", change)), f"tlog-scales rejects {name}")


def two_processes(work):
    data = [os.path.join(work, "data-a"), os.path.join(work, "data-b")]
    servers = [start(data[0], PORTS[0])]
    # The second process shares the database and the signing key.
    shutil.copytree(os.path.join(data[0], "keys"), os.path.join(data[1], "keys"))
    servers.append(start(data[1], PORTS[1]))
    try:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: file_reports(PORTS[i % 2], 10), range(32)))
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    result = subprocess.run([ATTEST, "log", "verify"], env=environment(data[0]), capture_output=True, text=True)
    print(result.stdout[-2000:], result.stderr[-2000:])
    check(result.returncode == 0 and "320 record(s)" in result.stdout,
          "two processes took 320 reports at once on one PostgreSQL database; attest log verify passes")


def main():
    work = tempfile.mkdtemp(prefix="attest-interop-")
    try:
        if TWO_PROCESSES:
            two_processes(work)
        else:
            data = os.path.join(work, "data")
            server = start(data, PORTS[0])
            try:
                old, _, vkey_path, new_path, proof_path, leaf5 = go_checks(PORTS[0], work)
            finally:
                server.terminate()
                server.wait()
            export = os.path.join(work, "export")
            result = subprocess.run([ATTEST, "log", "export", export], env=environment(data), capture_output=True, text=True)
            check(result.returncode == 0, f"attest log export: {result.stdout.strip()} {result.stderr.strip()[-500:]}")
            verify = subprocess.run([ATTEST, "log", "verify"], env=environment(data), capture_output=True, text=True)
            check(verify.returncode == 0, f"attest log verify: {verify.stdout.strip()[-300:]}")
            go_entry_check(export, vkey_path, new_path, proof_path, leaf5)
            tlog_scales_checks(export, old, Path(vkey_path).read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        raise SystemExit(f"{len(failures)} interoperability check(s) failed")
    print("all interoperability checks passed")


if __name__ == "__main__":
    main()
