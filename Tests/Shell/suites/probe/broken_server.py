"""A small Sv2 mining server written from the spec for the probe's tests, wrong on purpose in chosen places.

Usage: broken_server.py PORT AUTHORITY_SECRET [--bad-certificate]

Correct: the Noise NX handshake (sv2noise's responder), SetupConnection and its refusals, standard and extended
channels with a future job and SetNewPrevHash, share validation (header hashed with hashlib), UpdateChannel.Error.
Wrong on purpose:
  - every channel gets channel_id 1 (ids reused on one connection);
  - a share for an unknown job is refused with sequence_number 0 instead of the share's;
  - a share above the target is refused as "stale-share" instead of "difficulty-too-low";
  - with --bad-certificate, the certificate is signed by another authority than the one given.
"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402

TARGET = (1 << 248) - 1
NBITS = 0x1D00FFFF
CHANNEL_MESSAGES = {0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x15, 0x1F, 0x20, 0x21}
prefix_counter = [0]
prefix_lock = threading.Lock()


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def string(text):
    return sv2noise.str0_255(text)


class Reader:
    def __init__(self, data):
        self.data, self.offset = data, 0

    def take(self, count):
        chunk = self.data[self.offset:self.offset + count]
        if len(chunk) != count:
            raise ValueError("truncated")
        self.offset += count
        return chunk

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("<H", self.take(2))[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def str0_255(self):
        return self.take(self.u8())


class Connection:
    def __init__(self, sock, authority, bad_certificate):
        signer = os.urandom(32) if bad_certificate else authority
        self.noise = sv2noise.NoiseResponder(sock, signer)
        self.channels = {}

    def send(self, message_type, payload):
        self.noise.send_frame(0, message_type, payload, message_type in CHANNEL_MESSAGES)

    def run(self):
        self.noise.handshake()
        while True:
            extension, message_type, payload = self.noise.receive_frame()
            if extension != 0:
                continue
            handler = {0x00: self.setup, 0x10: self.open_standard, 0x13: self.open_extended,
                       0x1A: self.submit, 0x1B: self.submit, 0x16: self.update}.get(message_type)
            if handler and handler(Reader(payload), message_type) is False:
                return

    def setup(self, reader, _):
        protocol, minimum, maximum = reader.u8(), reader.u16(), reader.u16()
        if protocol != 0 or not minimum <= 2 <= maximum:
            code = "unsupported-protocol" if protocol != 0 else "protocol-version-mismatch"
            self.send(0x02, struct.pack("<I", 0) + string(code))
            return False
        self.send(0x01, struct.pack("<HI", 2, 0))

    def new_channel(self, extended, request_id, extranonce_size):
        channel_id = 1  # wrong on purpose: every channel of the connection gets id 1
        with prefix_lock:
            prefix_counter[0] += 1
            prefix = struct.pack(">I", prefix_counter[0])
        job = {"id": 1, "version": 0x20000000, "prev": os.urandom(32), "ntime": int(time.time())}
        if extended:
            job.update(prefix_bytes=b"\x01\x00\x00\x00\x01" + b"\x00" * 32, suffix=b"\xff\xff\xff\xff\x00\x00\x00\x00")
        else:
            job["root"] = os.urandom(32)
        self.channels[channel_id] = {"extended": extended, "prefix": prefix, "size": extranonce_size, "job": job, "seen": set()}
        return channel_id, prefix, job

    def send_work(self, channel_id, job, extended):
        if extended:
            self.send(0x1F, struct.pack("<IIBIB", channel_id, job["id"], 0, job["version"], 1) + b"\x00"
                      + struct.pack("<H", len(job["prefix_bytes"])) + job["prefix_bytes"]
                      + struct.pack("<H", len(job["suffix"])) + job["suffix"])
        else:
            self.send(0x15, struct.pack("<IIBI", channel_id, job["id"], 0, job["version"]) + job["root"])
        self.send(0x20, struct.pack("<II", channel_id, job["id"]) + job["prev"] + struct.pack("<II", job["ntime"], NBITS))

    def open_standard(self, reader, _):
        request_id = reader.u32()
        channel_id, prefix, job = self.new_channel(False, request_id, 0)
        self.send(0x11, struct.pack("<II", request_id, channel_id) + TARGET.to_bytes(32, "little") + bytes([len(prefix)]) + prefix
                  + struct.pack("<I", 0))
        self.send_work(channel_id, job, False)

    def open_extended(self, reader, _):
        request_id = reader.u32()
        reader.str0_255()
        reader.take(4 + 32)
        minimum = reader.u16()
        if minimum > 28:
            self.send(0x12, struct.pack("<I", request_id) + string("min-extranonce-size-too-large"))
            return
        size = max(minimum, 8)
        channel_id, prefix, job = self.new_channel(True, request_id, size)
        self.send(0x14, struct.pack("<II", request_id, channel_id) + TARGET.to_bytes(32, "little") + struct.pack("<H", size)
                  + bytes([len(prefix)]) + prefix + struct.pack("<I", 0))
        self.send_work(channel_id, job, True)

    def submit(self, reader, message_type):
        channel_id, sequence, job_id, nonce, ntime, version = (reader.u32() for _ in range(6))
        extranonce = reader.take(reader.u8()) if message_type == 0x1B else b""
        channel = self.channels.get(channel_id)
        if channel is None:
            return self.refuse(channel_id, sequence, "invalid-channel-id")
        job = channel["job"]
        if job_id != job["id"]:
            return self.refuse(channel_id, 0, "invalid-job-id")  # wrong on purpose: sequence number not echoed
        if channel["extended"]:
            if len(extranonce) != channel["size"]:
                return self.refuse(channel_id, sequence, "bad-extranonce-size")
            root = sha256d(job["prefix_bytes"] + channel["prefix"] + extranonce + job["suffix"])
        else:
            root = job["root"]
        header = struct.pack("<I", version) + job["prev"] + root + struct.pack("<III", ntime, NBITS, nonce)
        if int.from_bytes(sha256d(header), "little") > TARGET:
            return self.refuse(channel_id, sequence, "stale-share")  # wrong on purpose: it is difficulty-too-low
        self.send(0x1C, struct.pack("<IIIQ", channel_id, sequence, 1, 1))

    def refuse(self, channel_id, sequence, code):
        self.send(0x1D, struct.pack("<II", channel_id, sequence) + string(code))

    def update(self, reader, _):
        channel_id = reader.u32()
        if channel_id not in self.channels:
            self.send(0x17, struct.pack("<I", channel_id) + string("invalid-channel-id"))


def serve(sock, authority, bad_certificate):
    try:
        Connection(sock, authority, bad_certificate).run()
    except Exception:  # a peer that hangs up or sends garbage ends its own connection only
        pass
    finally:
        sock.close()


def main():
    port, authority = int(sys.argv[1]), sv2noise.base58check_decode(sys.argv[2])
    bad_certificate = "--bad-certificate" in sys.argv[3:]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve, args=(sock, authority, bad_certificate), daemon=True).start()


if __name__ == "__main__":
    main()
