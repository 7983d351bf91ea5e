"""Devices that misbehave towards a proxy, each on its own connection, reporting what the proxy did.

Usage: bad_devices.py PORT

1. garbage instead of the Noise handshake: the connection must be closed;
2. the handshake, then bytes that are no encrypted frame: the connection must be closed;
3. the handshake, SetupConnection and a standard channel, then shares for a job that does not exist and for a
   channel that does not exist: each must get SubmitShares.Error, and the connection must stay open (the error
   codes are printed in alphabetical order: a proxy may answer one itself and relay the other);
4. frames of an unknown extension type (one for the connection, one channel message): the connection must stay and
   answer the next request.
Prints one line per case: "garbage: closed", "bad frame: closed", "bad shares: CODE, CODE, still open",
"unknown extensions: still open".
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402

SUBMIT_SHARES_STANDARD, SUBMIT_SHARES_ERROR, OPEN_STANDARD_SUCCESS = 0x1a, 0x1d, 0x11


def closed(sock, seconds=2.0):
    """"closed" when the peer closes within `seconds`, else "still open" (jobs may keep arriving meanwhile: on
    regtest a block every few milliseconds)."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(65536):
                return "closed"
    except socket.timeout:
        pass
    except ConnectionError:
        return "closed"
    return "still open"


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

    sock, noise, channel = device(port, "bad.shares")
    noise.send_frame(0x8000, SUBMIT_SHARES_STANDARD, share(channel, 1, 0xFFFFFF))
    noise.send_frame(0x8000, SUBMIT_SHARES_STANDARD, share(channel + 1000, 2, 1))
    codes = []
    while len(codes) < 2:
        _, message_type, payload = noise.receive_frame()
        if message_type == SUBMIT_SHARES_ERROR:
            codes.append(payload[9:9 + payload[8]].decode())
    sock.settimeout(1)
    print("bad shares: %s, %s" % (", ".join(sorted(codes)), closed(sock)))

    # Spec 3.4: unknown extension types are discarded by an endpoint; a proxy forwards the channel messages among them.
    sock, noise, channel = device(port, "unknown.extensions")
    noise.send_frame(0x4242, 0x00, b"ignore me")
    noise.send_frame(0xC242, 0x01, struct.pack("<I", channel) + b"forward me")
    noise.send_frame(0, 0x10, sv2noise.open_standard_channel(2, "unknown.extensions"))
    while True:
        _, message_type, payload = noise.receive_frame()
        if message_type == OPEN_STANDARD_SUCCESS and struct.unpack("<I", payload[:4])[0] == 2:
            break
    print("unknown extensions: still open")


def device(port, user):
    """A connection set up with one standard channel as `user`: (socket, Noise state, channel id)."""
    sock = sv2noise.connect(port)
    noise = sv2noise.NoiseInitiator(sock)
    noise.handshake()
    noise.send_frame(0, 0x00, sv2noise.setup_connection(vendor="bad-device"))
    noise.send_frame(0, 0x10, sv2noise.open_standard_channel(1, user))
    while True:
        _, message_type, payload = noise.receive_frame()
        if message_type == OPEN_STANDARD_SUCCESS:
            return sock, noise, struct.unpack("<I", payload[4:8])[0]


if __name__ == "__main__":
    main()
