#!/usr/bin/env python3
"""Misbehaving Sv1 clients against `sv2 translate` (used by test_translate_bad_clients.sh).

    bad_clients.py PORT

Prints one line per check ("ok: ...") and exits 1 at the first one that fails.
"""
import json
import socket
import sys
import time

PORT = int(sys.argv[1])


def connect():
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=20)
    return sock, sock.makefile("rb")


def send(sock, text):
    sock.sendall(text.encode() + b"\n")


def answer(reader, wanted_id):
    """The response to `wanted_id`, skipping notifications."""
    while True:
        line = reader.readline()
        if not line:
            raise SystemExit(f"FAILED: connection closed while waiting for the answer to {wanted_id!r}")
        message = json.loads(line)
        if message.get("method") is None and message.get("id") == wanted_id:
            return message


def notifications(reader, method, count, seconds):
    found = []
    deadline = time.time() + seconds
    while len(found) < count and time.time() < deadline:
        line = reader.readline()
        if not line:
            break
        message = json.loads(line)
        if message.get("method") == method:
            found.append(message["params"])
    return found


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}", flush=True)


# Malformed JSON is answered with an error, and the connection keeps working.
sock, reader = connect()
send(sock, '{"id": 1, "method": "mining.subscribe", "params": [')
garbage = json.loads(reader.readline())
check(garbage.get("error") is not None, "malformed JSON gets a JSON-RPC error")
send(sock, '{"id": "two", "method": "mining.subscribe", "params": []}')
check(answer(reader, "two").get("result") is not None, "the connection still answers after malformed JSON")

# A flood of subscribes is answered, each one.
for number in range(300):
    send(sock, json.dumps({"id": 1000 + number, "method": "mining.subscribe", "params": ["flood"]}))
answered = sum(1 for number in range(300) if answer(reader, 1000 + number).get("result") is not None)
check(answered == 300, "300 subscribes answered")

# A submit for an unknown job, and an unknown method: errors, not a disconnect.
send(sock, '{"id": 3, "method": "mining.authorize", "params": ["bad.worker", "x"]}')
answer(reader, 3)
send(sock, '{"id": 4, "method": "mining.submit", "params": ["bad.worker", "nosuchjob", "00000000", "6553f100", "00000001"]}')
check(answer(reader, 4)["error"][0] == 21, "a submit for an unknown job gets error 21")
send(sock, '{"id": 5, "method": "mining.get_transactions", "params": []}')
check(answer(reader, 5)["error"] is not None, "an unknown method gets an error")

# A stale share: a job from before the last clean job is unknown.
jobs = notifications(reader, "mining.notify", 1, 20)
check(len(jobs) == 1, "a job arrives")
old = jobs[0][0]
later = [params for params in notifications(reader, "mining.notify", 20, 40) if params[8]]
check(len(later) >= 1, "a clean job follows (the honest miner found a block)")
send(sock, json.dumps({"id": 6, "method": "mining.submit", "params": ["bad.worker", old, "00000000", jobs[0][7], "00000001"]}))
check(answer(reader, 6)["error"][0] == 21, "a stale share gets error 21")
sock.close()

# A 1 MB line: the translator disconnects that client alone.
sock, reader = connect()
try:
    sock.sendall(b'{"id": 7, "method": "' + b"x" * 1_000_000 + b'"}\n')
except OSError:
    pass
try:
    closed = reader.readline() == b""
except ConnectionResetError:
    closed = True  # closed with our unread bytes still queued: the kernel resets instead of a clean end
check(closed, "a 1 MB line ends the connection")
sock.close()
