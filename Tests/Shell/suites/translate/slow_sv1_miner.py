#!/usr/bin/env python3
"""A Stratum V1 miner that hashes at a fixed, slow rate (used by test_translate_slow_miner_and_outage.sh).

    slow_sv1_miner.py PORT --rate HASHES_PER_SECOND --seconds N

Subscribes and authorizes, follows mining.set_difficulty and mining.notify, hashes the current job at RATE
hashes a second (SHA256d of the 80-byte header, nonces counting up) and submits every hash that meets the current
difficulty. Prints one line per answer, with the seconds since authorization:

    share 3 at 1.52 s: accepted
    share 4 at 1.90 s: error 20 Pool unreachable: the share cannot be credited

and exits 0 after N seconds.
"""
import argparse
import hashlib
import json
import select
import socket
import struct
import time

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("--rate", type=float, default=5.0)
parser.add_argument("--seconds", type=float, default=30.0)
args = parser.parse_args()

DIFFICULTY_1 = 0xFFFF << 208


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def swap_words(data):
    """Sv1's prevhash: each 4-byte word of the internal byte order reversed."""
    return b"".join(data[i:i + 4][::-1] for i in range(0, len(data), 4))


sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
sock.setblocking(False)
buffered = b""


def send(message):
    sock.sendall(json.dumps(message).encode() + b"\n")


def messages(timeout):
    """The complete lines that arrive within `timeout` seconds, parsed."""
    global buffered
    ready, _, _ = select.select([sock], [], [], timeout)
    if ready:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("FAILED: the translator closed the connection")
        buffered += chunk
    lines = buffered.split(b"\n")
    buffered = lines.pop()
    return [json.loads(line) for line in lines if line.strip()]


send({"id": 1, "method": "mining.subscribe", "params": ["slow-miner/1.0"]})
send({"id": 2, "method": "mining.authorize", "params": ["farm.slow", "x"]})
extranonce1 = b""
extranonce2_size = 4
difficulty = 1.0
job = None
nonce = 0
pending = {}
next_id = 10
start = time.monotonic()


def handle(message):
    global extranonce1, extranonce2_size, difficulty, job, nonce
    if message.get("id") == 1:
        result = message["result"]
        extranonce1 = bytes.fromhex(result[1])
        extranonce2_size = result[2]
    elif message.get("method") == "mining.set_difficulty":
        difficulty = float(message["params"][0])
    elif message.get("method") == "mining.notify":
        params = message["params"]
        job = {"id": params[0], "prevhash": swap_words(bytes.fromhex(params[1])), "coinb1": bytes.fromhex(params[2]),
               "coinb2": bytes.fromhex(params[3]), "branch": [bytes.fromhex(b) for b in params[4]],
               "version": int(params[5], 16), "nbits": int(params[6], 16), "ntime": int(params[7], 16)}
        nonce = 0
    elif message.get("id") in pending:
        number = pending.pop(message["id"])
        elapsed = time.monotonic() - start
        if message.get("result") is True:
            print(f"share {number} at {elapsed:.2f} s: accepted", flush=True)
        else:
            error = message.get("error") or [None, "no error given"]
            print(f"share {number} at {elapsed:.2f} s: error {error[0]} {error[1]}", flush=True)


extranonce2 = b"\x00" * 4
shares = 0
while time.monotonic() - start < args.seconds:
    for message in messages(1.0 / args.rate):
        handle(message)
    if job is None or not extranonce1:
        continue
    extranonce2 = b"\x00" * extranonce2_size
    root = sha256d(job["coinb1"] + extranonce1 + extranonce2 + job["coinb2"])
    for branch in job["branch"]:
        root = sha256d(root + branch)
    header = (struct.pack("<I", job["version"]) + job["prevhash"] + root
              + struct.pack("<III", job["ntime"], job["nbits"], nonce))
    value = int.from_bytes(sha256d(header), "little")
    if value <= DIFFICULTY_1 / difficulty:
        shares += 1
        pending[next_id] = shares
        send({"id": next_id, "method": "mining.submit",
              "params": ["farm.slow", job["id"], extranonce2.hex(), f"{job['ntime']:08x}", f"{nonce:08x}"]})
        next_id += 1
    nonce += 1
