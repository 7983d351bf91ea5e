#!/usr/bin/env python3
"""Reads a role's monitoring server for the shell tests (test_monitoring_*.sh).

    monitoring.py metrics URL            the /metrics samples, parsed by prometheus_client, as JSON lines
                                         {"name": ..., "labels": {...}, "value": ...}
    monitoring.py get URL                the HTTP status, then the body
    monitoring.py raw PORT HEADER_BYTES  a request with a HEADER_BYTES-long header: the status line it gets
    monitoring.py slow PORT COUNT SECONDS  COUNT connections that send half a request line and wait SECONDS
"""
import json
import socket
import sys
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


command = sys.argv[1]
if command == "metrics":
    status, text = fetch(sys.argv[2])
    if status != 200:
        raise SystemExit(f"/metrics answered {status}")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            print(json.dumps({"name": sample.name, "labels": sample.labels, "value": sample.value}))
elif command == "get":
    status, body = fetch(sys.argv[2])
    print(status)
    print(body)
elif command == "raw":
    port, size = int(sys.argv[2]), int(sys.argv[3])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    request = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    try:
        sock.sendall(request)
    except OSError:
        pass
    try:
        print(sock.recv(4096).split(b"\r\n")[0].decode() or "closed")
    except OSError:
        print("closed")
elif command == "slow":
    port, count, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    for sock in sockets:
        sock.sendall(b"GET /api/v1/hea")
    time.sleep(seconds)
    print(f"held {count} half requests for {seconds} s")
else:
    raise SystemExit(f"unknown command {command}")
