"""Devices that misbehave towards a proxy, each on its own connection, reporting what the proxy did.

Usage: bad_devices.py PORT

1. garbage instead of the Noise handshake: the connection must be closed;
2. the handshake, then bytes that are no encrypted frame: the connection must be closed;
3. the handshake, SetupConnection and a standard channel, then shares for a job that does not exist and for a
   channel that does not exist: each must get SubmitShares.Error, and the connection must stay open.
The error codes are printed in alphabetical order (a proxy may answer one itself and relay the other).
Prints one line per case: "garbage: closed", "bad frame: closed", "bad shares: CODE, CODE, still open".
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402

SUBMIT_SHARES_STANDARD, SUBMIT_SHARES_ERROR, OPEN_STANDARD_SUCCESS = 0x1a, 0x1d, 0x11


def closed(sock):
    try:
        while True:
            if not sock.recv(65536):
                return "closed"
    except socket.timeout:
        return "still open"
    except ConnectionError:
        return "closed"


def share(channel, sequence, job):
    return struct.pack("<IIIIII", channel, sequence, job, 0, 0, 0x20000000)


def main():
    port = int(sys.argv[1])
    sock = sv2noise.connect(port)
    sock.sendall(os.urandom(64) + b"GET / HTTP/1.1\r\n\r\n" * 20)
    print("garbage:", closed(sock))

    sock = sv2noise.connect(port)
    sv2noise.NoiseInitiator(sock).handshake()
    sock.sendall(os.urandom(300))
    print("bad frame:", closed(sock))

    sock = sv2noise.connect(port)
    noise = sv2noise.NoiseInitiator(sock)
    noise.handshake()
    noise.send_frame(0, 0x00, sv2noise.setup_connection(vendor="bad-shares"))
    noise.send_frame(0, 0x10, sv2noise.open_standard_channel(1, "bad.shares"))
    channel = None
    while channel is None:
        _, message_type, payload = noise.receive_frame()
        if message_type == OPEN_STANDARD_SUCCESS:
            channel = struct.unpack("<I", payload[4:8])[0]
    noise.send_frame(0x8000, SUBMIT_SHARES_STANDARD, share(channel, 1, 0xFFFFFF))
    noise.send_frame(0x8000, SUBMIT_SHARES_STANDARD, share(channel + 1000, 2, 1))
    codes = []
    while len(codes) < 2:
        _, message_type, payload = noise.receive_frame()
        if message_type == SUBMIT_SHARES_ERROR:
            codes.append(payload[9:9 + payload[8]].decode())
    sock.settimeout(1)
    print("bad shares: %s, %s" % (", ".join(sorted(codes)), closed(sock)))


if __name__ == "__main__":
    main()
