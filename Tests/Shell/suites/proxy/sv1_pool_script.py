"""A scripted Stratum V1 pool with odd but legal traffic, behind `sv2 proxy --upstream stratum+tcp://...`, and an Sv2
device (sv2noise.py, an independent Noise implementation) in front of the proxy that checks what each Sv1 event
becomes in Sv2.

Usage: sv1_pool_script.py SV2_BINARY PROXY_LOG

Starts the pool on a free port, runs `SV2_BINARY proxy --upstream stratum+tcp://127.0.0.1:PORT` (log in PROXY_LOG),
connects the device and goes through the script; prints one "ok: ..." line per step and exits 0, or names the
first step that went wrong and exits 1.

The pool answers with ids as strings, mining.configure with version rolling, subscribe with a 4-byte extranonce2;
sends set_difficulty before and between jobs; answers five submits with true, errors 21, 22, 23 and false; changes
the extranonce with mining.set_extranonce mid-session; finally sends client.reconnect and drops the connection, and
serves the proxy's next connection.
"""
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402

COINB1 = bytes.fromhex("01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1003ab0102")
COINB2 = bytes.fromhex("ffffffff0100f2052a01000000015100000000")
BRANCH = [bytes(range(32)), bytes(range(32, 64))]
STRATUM_PREVHASH = "".join("%08x" % word for word in range(0x11111111, 0x11111119))
NTIME, NBITS, VERSION = 0x6553F100, 0x207FFFFF, 0x20000000
DIFFICULTY_EASY, DIFFICULTY_HARDER = 1e-10, 1e-9
USER = "worker.1"


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def merkle_root(extranonce1, extranonce2):
    root = sha256d(COINB1 + extranonce1 + extranonce2 + COINB2)
    for step in BRANCH:
        root = sha256d(root + step)
    return root


def internal_prevhash():
    raw = bytes.fromhex(STRATUM_PREVHASH)
    return b"".join(raw[i:i + 4][::-1] for i in range(0, 32, 4))


class Pool:
    """The Sv1 side: one connection at a time, scripted by how many shares it has answered."""

    def __init__(self):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.port = self.server.getsockname()[1]
        self.submits = []
        self.methods = []
        self.connections = 0
        self.problems = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            sock, _ = self.server.accept()
            self.connections += 1
            try:
                self.session(sock, self.connections)
            except (OSError, ValueError) as error:
                self.problems.append("pool connection %d: %s" % (self.connections, error))
            sock.close()

    def session(self, sock, number):
        stream = sock.makefile("rwb")

        def send(obj):
            stream.write(json.dumps(obj).encode() + b"\n")
            stream.flush()

        def notify(job, clean):
            send({"id": None, "method": "mining.notify", "params": [
                job, STRATUM_PREVHASH, COINB1.hex(), COINB2.hex(), [step.hex() for step in BRANCH],
                "%08x" % VERSION, "%08x" % NBITS, "%08x" % NTIME, clean]})

        for line in stream:
            request = json.loads(line)
            method, params, ident = request.get("method"), request.get("params"), request.get("id")
            self.methods.append(method)
            answer_id = str(ident)  # odd but legal: the id comes back as a string
            if method == "mining.configure":
                send({"id": answer_id, "result": {"version-rolling": True, "version-rolling.mask": "1fffe000"}, "error": None})
            elif method == "mining.subscribe":
                send({"id": answer_id, "result": [[["mining.notify", "s%d" % number]], "e1e2e3e4", 4], "error": None})
            elif method == "mining.authorize":
                if params[0] != USER:
                    self.problems.append("authorized as %r, not %r" % (params[0], USER))
                send({"id": answer_id, "result": True, "error": None})
                send({"id": None, "method": "mining.set_difficulty", "params": [DIFFICULTY_EASY]})
                notify("j1" if number == 1 else "j4", True)
            elif method in ("mining.suggest_difficulty", "mining.extranonce.subscribe"):
                send({"id": answer_id, "result": True, "error": None})
            elif method == "mining.submit":
                self.submits.append(params)
                count = len(self.submits)
                results = {2: [21, "Job not found", None], 3: [22, "Duplicate share", None], 4: [23, "Low difficulty share", None]}
                if count in results:
                    send({"id": answer_id, "result": None, "error": results[count]})
                elif count == 5:
                    send({"id": answer_id, "result": False, "error": None})
                    send({"id": None, "method": "mining.set_difficulty", "params": [DIFFICULTY_HARDER]})
                    notify("j2", False)
                    send({"id": None, "method": "mining.set_extranonce", "params": ["f1f2f3f4", 4]})
                    notify("j3", True)
                else:
                    send({"id": answer_id, "result": True, "error": None})
                if count == 6:
                    send({"id": None, "method": "client.reconnect", "params": ["127.0.0.1", self.port, 0]})
                    return
            else:
                send({"id": answer_id, "result": None, "error": [20, "unknown method", None]})


class Device:
    """The Sv2 side: one standard channel through the proxy."""

    def __init__(self, port):
        self.sock = sv2noise.connect(port, timeout=20)
        self.noise = sv2noise.NoiseInitiator(self.sock)
        self.noise.handshake()
        self.noise.send_frame(0, 0x00, sv2noise.setup_connection(vendor="odd-pool-device"))
        self.noise.send_frame(0, 0x10, sv2noise.open_standard_channel(1, USER, nominal_hash_rate=1e9))
        self.channel = None
        self.jobs = {}
        self.current = None
        self.target = None
        self.sequence = 0

    def receive(self):
        """The next message as (type, fields), keeping jobs, prevhash and target current."""
        _, kind, payload = self.noise.receive_frame()
        if kind == 0x11:
            self.channel = struct.unpack_from("<I", payload, 4)[0]
            self.target = int.from_bytes(payload[8:40], "little")
            return "open", {"extranonce_prefix": payload[41:41 + payload[40]]}
        if kind == 0x15:
            channel, job, flag = struct.unpack_from("<IIB", payload)
            offset = 9 + (4 if flag else 0)
            version = struct.unpack_from("<I", payload, offset)[0]
            self.jobs[job] = {"version": version, "root": payload[offset + 4:offset + 36], "future": flag == 0}
            return "job", {"job": job, **self.jobs[job]}
        if kind == 0x20:
            channel, job = struct.unpack_from("<II", payload)
            ntime, nbits = struct.unpack_from("<II", payload, 40)
            self.current = dict(self.jobs[job], job=job, prevhash=payload[8:40], ntime=ntime, nbits=nbits)
            return "prevhash", self.current
        if kind == 0x21:
            self.target = int.from_bytes(payload[4:36], "little")
            return "target", {"target": self.target}
        if kind == 0x1c:
            return "success", {"sequence": struct.unpack_from("<I", payload, 4)[0]}
        if kind == 0x1d:
            sequence = struct.unpack_from("<I", payload, 4)[0]
            return "error", {"sequence": sequence, "code": payload[9:9 + payload[8]].decode()}
        return "other", {"type": kind}

    def expect(self, wanted, step):
        """Receives until a message of kind `wanted` (others are state updates); fails on a timeout."""
        while True:
            kind, fields = self.receive()
            if kind == wanted:
                return fields
            if kind in ("error", "success"):
                raise AssertionError("%s: got %s %s while waiting for %s" % (step, kind, fields, wanted))

    def submit(self, job=None):
        """A share for the current job (or `job`) whose hash meets the channel's target."""
        work = self.current if job is None else dict(self.current, **self.jobs[job], job=job)
        for nonce in range(1_000_000):
            header = struct.pack("<I", work["version"]) + work["prevhash"] + work["root"] + struct.pack("<III", work["ntime"], work["nbits"], nonce)
            if int.from_bytes(sha256d(header), "little") <= self.target:
                break
        self.sequence += 1
        self.noise.send_frame(0x8000, 0x1A, struct.pack("<IIIIII", self.channel, self.sequence, work["job"], nonce, work["ntime"], work["version"]))
        return self.sequence


def main():
    binary, proxy_log = sys.argv[1], sys.argv[2]
    pool = Pool()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    proxy_port = probe.getsockname()[1]
    probe.close()
    log = open(proxy_log, "w")
    proxy = subprocess.Popen([binary, "proxy", "--listen-address", "127.0.0.1:%d" % proxy_port,
                              "--upstream", "stratum+tcp://127.0.0.1:%d" % pool.port], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", proxy_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        run(Device(proxy_port), pool)
    finally:
        proxy.terminate()
        status = proxy.wait(timeout=20)
    if pool.problems:
        raise SystemExit("pool: " + "; ".join(pool.problems))
    if status != 0:
        raise SystemExit("sv2 proxy exited with %d on SIGTERM" % status)
    print("ok: the proxy exited 0")


def run(device, pool):
    device.expect("open", "open the channel")
    job = device.expect("job", "first job")
    current = device.expect("prevhash", "first prevhash")
    assert job["future"], "the first job of a prevhash is a future job"
    assert current["root"] == merkle_root(bytes.fromhex("e1e2e3e4"), b"\x00" * 4), "merkle root for extranonce2 00000000"
    assert current["prevhash"] == internal_prevhash(), "prevhash in internal byte order"
    assert (current["ntime"], current["nbits"], current["version"]) == (NTIME, NBITS, VERSION), "header fields"
    print("ok: mining.notify became NewMiningJob and SetNewPrevHash with the channel's merkle root")
    assert pool.methods[:5] == ["mining.configure", "mining.subscribe", "mining.extranonce.subscribe", "mining.suggest_difficulty",
                                "mining.authorize"], pool.methods
    print("ok: configure, subscribe, extranonce.subscribe, suggest_difficulty, authorize as %s" % USER)

    expected = ["success", "stale-share", "duplicate-share", "difficulty-too-low", "invalid-share"]
    for index, wanted in enumerate(expected):
        sequence = device.submit()
        kind, fields = device.receive()
        while kind not in ("success", "error"):
            kind, fields = device.receive()
        got = "success" if kind == "success" else fields["code"]
        assert fields["sequence"] == sequence and got == wanted, "share %d: wanted %s, got %s %s" % (index + 1, wanted, kind, fields)
    print("ok: the pool's true, errors 21/22/23 and false became Success, stale-share, duplicate-share, difficulty-too-low, invalid-share")
    submitted = pool.submits[0]
    assert submitted[0] == USER and submitted[1] == "j1" and submitted[2] == "00000000" and submitted[3] == "%08x" % NTIME, submitted
    assert len(submitted) == 6 and submitted[5] == "00000000", "version bits sent with version rolling: %s" % submitted
    print("ok: mining.submit carries the user, job, extranonce2, ntime, nonce and version bits")

    target = device.expect("target", "set_difficulty between jobs")
    assert target["target"] < (1 << 256) - 1, "SetTarget after a harder set_difficulty"
    job = device.expect("job", "a job that is not clean")
    assert not job["future"], "a job on the same prevhash without clean_jobs is usable at once"
    future = device.expect("job", "the clean job after set_extranonce")
    current = device.expect("prevhash", "the clean job's SetNewPrevHash")
    assert future["future"] and current["job"] == future["job"], "clean_jobs: a future job and its SetNewPrevHash"
    assert current["root"] == merkle_root(bytes.fromhex("f1f2f3f4"), b"\x00" * 4), "merkle root with the new extranonce1"
    print("ok: set_difficulty became SetTarget; set_extranonce and clean_jobs a new job and SetNewPrevHash")
    sequence = device.submit()
    success = device.expect("success", "a share on the new extranonce")
    assert success["sequence"] == sequence and pool.submits[5][1] == "j3", pool.submits[5]
    print("ok: a share after set_extranonce was accepted")

    job = device.expect("job", "the job of the proxy's next connection")
    current = device.expect("prevhash", "its SetNewPrevHash")
    assert pool.connections == 2, "client.reconnect was not followed"
    sequence = device.submit()
    success = device.expect("success", "a share after the reconnect")
    assert success["sequence"] == sequence and pool.submits[-1][1] == "j4", pool.submits[-1]
    print("ok: client.reconnect followed, the device kept its channel and got a clean job")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        raise SystemExit("FAILED: %s" % error)
