"""A deliberately broken Sv2 mining client for `sv2 probe --serve` (written from the spec, with sv2noise's Noise).

Usage: broken_client.py PORT   (the server's certificate is not checked: the probe is what is tested)

Correct: the handshake, SetupConnection (but hardware_version left empty, a SHOULD), an extended channel, shares
whose headers meet the channel's target on the newest job. Wrong on purpose:
  - the second share repeats the first one's sequence number;
  - one share changes a version bit outside the BIP320 mask;
  - one share's ntime is an hour past min_ntime;
  - it ignores Reconnect, submitting a share a second on the old connection until the server closes it.
"""
import hashlib
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


class Client:
    def __init__(self, port):
        self.sock = sv2noise.connect(port)
        self.noise = sv2noise.NoiseInitiator(self.sock)
        self.noise.handshake()
        self.jobs, self.job, self.prev, self.min_ntime, self.nbits, self.target = {}, None, None, 0, 0, 0
        self.reconnected = False
        self.sequence = 0

    def read(self, seconds):
        """Takes in what arrives for `seconds`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                extension, message_type, payload = self.noise.receive_frame()
            except socket.timeout:
                return
            self.sock.settimeout(10)
            self.take(message_type, payload)

    def take(self, message_type, payload):
        if message_type == 0x14:  # OpenExtendedMiningChannel.Success
            self.channel = struct.unpack_from("<I", payload, 4)[0]
            self.target = int.from_bytes(payload[8:40], "little")
            self.size = struct.unpack_from("<H", payload, 40)[0]
            self.prefix = payload[43:43 + payload[42]]
        elif message_type == 0x1F:  # NewExtendedMiningJob
            job_id = struct.unpack_from("<I", payload, 4)[0]
            offset = 8
            has_ntime = payload[offset]
            offset += 1 + (4 if has_ntime else 0)
            version = struct.unpack_from("<I", payload, offset)[0]
            offset += 5
            path_count = payload[offset]
            path = [payload[offset + 1 + 32 * i: offset + 33 + 32 * i] for i in range(path_count)]
            offset += 1 + 32 * path_count
            prefix_length = struct.unpack_from("<H", payload, offset)[0]
            prefix = payload[offset + 2: offset + 2 + prefix_length]
            offset += 2 + prefix_length
            suffix = payload[offset + 2: offset + 2 + struct.unpack_from("<H", payload, offset)[0]]
            self.jobs[job_id] = (version, path, prefix, suffix)
        elif message_type == 0x20:  # SetNewPrevHash
            self.job = struct.unpack_from("<I", payload, 4)[0]
            self.prev = payload[8:40]
            self.min_ntime, self.nbits = struct.unpack_from("<II", payload, 40)
        elif message_type == 0x21:  # SetTarget
            self.target = int.from_bytes(payload[4:36], "little")
        elif message_type == 0x04:  # Reconnect
            self.reconnected = True

    def share(self, sequence=None, version_flip=0, ntime_shift=0):
        """A share meeting the target on the current job, sent; returns its sequence number."""
        version, path, prefix, suffix = self.jobs[self.job]
        version ^= version_flip
        extranonce = b"\x00" * self.size
        root = sha256d(prefix + self.prefix + extranonce + suffix)
        for node in path:
            root = sha256d(root + node)
        ntime = self.min_ntime + ntime_shift
        for nonce in range(1 << 24):
            header = struct.pack("<I", version) + self.prev + root + struct.pack("<III", ntime, self.nbits, nonce)
            if int.from_bytes(sha256d(header), "little") <= self.target:
                break
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        self.noise.send_frame(0, 0x1B, struct.pack("<IIIIII", self.channel, sequence, self.job, nonce, ntime, version)
                              + bytes([len(extranonce)]) + extranonce, channel_message=True)
        return sequence


def main():
    client = Client(int(sys.argv[1]))
    client.noise.send_frame(0, 0x00, bytes([0]) + struct.pack("<HHI", 2, 2, 0) + sv2noise.str0_255("127.0.0.1")
                            + struct.pack("<H", 0) + sv2noise.str0_255("broken-client") + sv2noise.str0_255("")
                            + sv2noise.str0_255("0.1") + sv2noise.str0_255("b1"))
    client.read(1)
    client.noise.send_frame(0, 0x13, struct.pack("<I", 1) + sv2noise.str0_255("broken") + struct.pack("<f", 1000.0)
                            + b"\xff" * 32 + struct.pack("<H", 8))
    client.read(1)
    first = client.share()
    client.read(0.5)
    client.share(sequence=first)  # wrong: the sequence number again
    client.read(0.5)
    client.share(version_flip=0x00000002)  # wrong: a bit outside the BIP320 mask
    client.read(0.5)
    client.share(ntime_shift=3600)  # wrong: an hour past min_ntime
    deadline = time.time() + 20
    while not client.reconnected and time.time() < deadline:
        client.read(0.5)
    if not client.reconnected:
        sys.exit("no Reconnect came")
    try:
        while time.time() < deadline + 20:  # wrong: still here after Reconnect, until the server gives up
            client.read(1)
            client.share()
    except (ConnectionError, OSError, ValueError):
        print("closed by the server")
        return
    sys.exit("the server never closed the connection")


if __name__ == "__main__":
    main()
