"""A job declarator client written from spec 6 (with sv2noise's Noise and hashlib), against `sv2 jn` and `sv2 pool`.

Usage: jd_client.py JN_PORT POOL_PORT MINER_RPC_PORT POOL_RPC_PORT TOKEN_KEY_HEX

It builds a job from the miner's own node (getblocktemplate on MINER_RPC_PORT, a node following the pool's chain
with transactions of its own), declares it in full-template mode, answers ProvideMissingTransactions, sets it on
an extended channel of the pool with the declared-job token, finds a block with hashlib, submits it as a share and
pushes it to the declarator, which must put it on the pool's node (POOL_RPC_PORT). Then coinbase-only mode: the
allocation token straight to SetCustomMiningJob and a share on it. Then refusals on the same connections, each
answered with its error code while the connection goes on. Prints one line per step; exits 1 on the first surprise.
"""
import hashlib
import hmac
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402
from noderpc import rpc  # noqa: E402


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def compact_size(n):
    if n < 0xFD:
        return bytes([n])
    return b"\xfd" + struct.pack("<H", n) if n <= 0xFFFF else b"\xfe" + struct.pack("<I", n)


def b0_64k(data):
    return struct.pack("<H", len(data)) + data


def b0_255(data):
    return bytes([len(data)]) + data


def height_push(height):
    data = height.to_bytes((height.bit_length() + 8) // 8, "little")  # minimal, with room for the sign bit
    while len(data) > 1 and data[-1] == 0 and not data[-2] & 0x80:
        data = data[:-1]
    return bytes([len(data)]) + data


def merkle_path(txids):
    """The coinbase's branch (spec 5.3.16) over the other transactions' txids (internal byte order)."""
    path, level = [], [b"\x00" * 32] + txids
    while len(level) > 1:
        path.append(level[1])
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return path


def fail(message):
    print("FAIL " + message)
    sys.exit(1)


class Peer:
    """A Noise connection that reads frames until one of the wanted types, skipping the rest."""

    def __init__(self, port, protocol, flags):
        self.noise = sv2noise.NoiseInitiator(sv2noise.connect(port))
        self.noise.handshake()
        self.send(0x00, sv2noise.setup_connection(protocol=protocol, flags=flags, port=port))
        self.expect(0x01, "SetupConnection.Success")

    def send(self, message_type, payload, channel=False):
        self.noise.send_frame(0, message_type, payload, channel)

    def expect(self, wanted, what, seconds=15):
        wanted = wanted if isinstance(wanted, tuple) else (wanted,)
        deadline = time.time() + seconds
        while time.time() < deadline:
            _, message_type, payload = self.noise.receive_frame()
            if message_type in wanted:
                return message_type, payload
            self.take(message_type, payload)
        fail("no " + what)

    def take(self, message_type, payload):
        pass


class Pool(Peer):
    def __init__(self, port):
        self.tip = None
        super().__init__(port, 0, 0x2)  # REQUIRES_WORK_SELECTION
        self.send(0x13, struct.pack("<I", 1) + b0_255(b"alice") + struct.pack("<f", 0.01) + b"\xff" * 32 + struct.pack("<H", 8))
        _, payload = self.expect(0x14, "OpenExtendedMiningChannel.Success")
        self.channel = struct.unpack_from("<I", payload, 4)[0]
        self.rollable = struct.unpack_from("<H", payload, 40)[0]
        self.prefix = payload[43:43 + payload[42]]
        self.sequence = 0
        while self.tip is None:
            self.take(*self.expect(0x20, "SetNewPrevHash"))

    def take(self, message_type, payload):
        if message_type == 0x20:
            self.tip = payload[8:40]

    def set_job(self, request_id, token, job, prev_hash=None):
        self.send(0x22, struct.pack("<II", self.channel, request_id) + b0_255(token) + struct.pack("<I", job["version"])
                  + (prev_hash or job["prev_hash"]) + struct.pack("<III", job["ntime"], job["nbits"], 2) + b0_255(job["height_push"])
                  + struct.pack("<I", 0xFFFFFFFF) + b0_64k(job["outputs"]) + struct.pack("<I", 0)
                  + bytes([len(job["path"])]) + b"".join(job["path"]), channel=True)
        message_type, payload = self.expect((0x23, 0x24), "SetCustomMiningJob answer")
        if message_type == 0x24:
            return None, payload[9:9 + payload[8]].decode()
        return struct.unpack_from("<I", payload, 8)[0], None

    def share(self, job_id, nonce, job, rolled):
        self.sequence += 1
        self.send(0x1B, struct.pack("<IIIIII", self.channel, self.sequence, job_id, nonce, job["ntime"], job["version"]) + b0_255(rolled), channel=True)
        message_type, payload = self.expect((0x1C, 0x1D), "SubmitShares answer")
        return message_type == 0x1C


def template_job(miner_rpc, pool, payout_outputs, height_offset=0, pay_pool=True):
    """A job from the miner's node's template (waiting up to 20 s for one with transactions): coinbase paying its
    value to the pool's payout output."""
    for _ in range(100):
        template = rpc(miner_rpc, "getblocktemplate", [{"rules": ["segwit"]}])
        if template["transactions"]:
            break
        time.sleep(0.2)
    else:
        fail("the miner's node has no transactions")
    count = payout_outputs[0]
    payout_script = payout_outputs[1 + 8 + 1:]
    assert count == 1 and len(payout_script) == payout_outputs[9]
    script = payout_script if pay_pool else b"\x51"
    outputs = [struct.pack("<Q", template["coinbasevalue"]) + compact_size(len(script)) + script]
    commitment = bytes.fromhex(template["default_witness_commitment"])
    outputs.append(struct.pack("<Q", 0) + compact_size(len(commitment)) + commitment)
    outputs_field = compact_size(len(outputs)) + b"".join(outputs)
    push = height_push(template["height"] + height_offset)
    full = len(pool.prefix) + pool.rollable
    script_length = compact_size(len(push) + full)
    null_input = b"\x01" + b"\x00" * 32 + b"\xff\xff\xff\xff"
    txids = [bytes.fromhex(t["txid"])[::-1] for t in template["transactions"]]
    return {
        "version": 0x20000000,
        "prev_hash": bytes.fromhex(template["previousblockhash"])[::-1],
        "ntime": template["curtime"],
        "nbits": int(template["bits"], 16),
        "height_push": push,
        "outputs": outputs_field,
        "path": merkle_path(txids),
        # DeclareMiningJob keeps the BIP141 fields (6.4.4); the txid is of the stripped coinbase.
        "declared_prefix": struct.pack("<I", 2) + b"\x00\x01" + null_input + script_length + push,
        "declared_suffix": struct.pack("<I", 0xFFFFFFFF) + outputs_field + b"\x01\x20" + b"\x00" * 32 + struct.pack("<I", 0),
        "stripped_prefix": struct.pack("<I", 2) + null_input + script_length + push,
        "stripped_suffix": struct.pack("<I", 0xFFFFFFFF) + outputs_field + struct.pack("<I", 0),
        "transactions": template["transactions"],
        "wtxids": [bytes.fromhex(t["hash"])[::-1] for t in template["transactions"]],
    }


def find_block(job, extranonce):
    """A nonce whose header meets the network target (hashlib)."""
    coinbase_txid = sha256d(job["stripped_prefix"] + extranonce + job["stripped_suffix"])
    root = coinbase_txid
    for step in job["path"]:
        root = sha256d(root + step)
    start = struct.pack("<I", job["version"]) + job["prev_hash"] + root + struct.pack("<II", job["ntime"], job["nbits"])
    exponent, mantissa = job["nbits"] >> 24, job["nbits"] & 0x7FFFFF
    target = mantissa << (8 * (exponent - 3))
    for nonce in range(1 << 24):
        digest = sha256d(start + struct.pack("<I", nonce))
        if int.from_bytes(digest, "little") <= target:
            return nonce, digest[::-1].hex()
    fail("no block found")


class Declarator(Peer):
    def __init__(self, port):
        super().__init__(port, 1, 0x1)  # DECLARE_TX_DATA
        self.next_request = 100

    def allocate(self):
        self.next_request += 1
        self.send(0x50, b0_255(b"alice") + struct.pack("<I", self.next_request))
        _, payload = self.expect(0x51, "AllocateMiningJobToken.Success")
        token = payload[5:5 + payload[4]]
        outputs_length = struct.unpack_from("<H", payload, 5 + len(token))[0]
        return token, payload[7 + len(token):7 + len(token) + outputs_length]

    def declare(self, token, job, provide=None):
        """DeclareMiningJob; answers ProvideMissingTransactions with `provide(positions)` or the template's data.
        Returns (declared token, None, positions asked) or (None, error code, positions asked)."""
        self.next_request += 1
        request = self.next_request
        self.send(0x57, struct.pack("<I", request) + b0_255(token) + struct.pack("<I", job["version"]) + b0_64k(job["declared_prefix"])
                  + b0_64k(job["declared_suffix"]) + struct.pack("<H", len(job["wtxids"])) + b"".join(job["wtxids"]) + b0_64k(b""))
        asked = []
        while True:
            message_type, payload = self.expect((0x55, 0x58, 0x59), "DeclareMiningJob answer")
            if struct.unpack_from("<I", payload, 0)[0] != request:
                fail("an answer for request %d, not %d" % (struct.unpack_from("<I", payload, 0)[0], request))
            if message_type == 0x58:
                return payload[5:5 + payload[4]], None, asked
            if message_type == 0x59:
                return None, payload[5:5 + payload[4]].decode(), asked
            count = struct.unpack_from("<H", payload, 4)[0]
            asked = [struct.unpack_from("<H", payload, 6 + 2 * i)[0] for i in range(count)]
            data = provide(asked) if provide else [bytes.fromhex(job["transactions"][p]["data"]) for p in asked]
            self.send(0x56, struct.pack("<IH", request, len(data)) + b"".join(len(d).to_bytes(3, "little") + d for d in data))

    def push(self, job, extranonce, nonce):
        self.send(0x60, b0_255(extranonce) + job["prev_hash"] + struct.pack("<IIII", nonce, job["ntime"], job["nbits"], job["version"]))


def set_and_mine(pool, request_id, token, job, mode):
    """Sets `job` on the pool with `token`, finds a block on it and submits it as a share: (job id, rolled extranonce,
    nonce, block hash)."""
    job_id, error = pool.set_job(request_id, token, job)
    if error:
        fail("%s SetCustomMiningJob refused: %s" % (mode, error))
    rolled = os.urandom(pool.rollable)
    nonce, block_hash = find_block(job, pool.prefix + rolled)
    if not pool.share(job_id, nonce, job, rolled):
        fail("the %s job's share was refused" % mode)
    return job_id, rolled, nonce, block_hash


def expect_code(what, got, wanted):
    if got != wanted:
        fail("%s: got %r, wanted %r" % (what, got, wanted))
    print("refused %s: %s" % (what, got))


def main():
    jn_port, pool_port, miner_rpc, pool_rpc = (int(a) for a in sys.argv[1:5])
    key = bytes.fromhex(sys.argv[5])
    declarator = Declarator(jn_port)
    pool = Pool(pool_port)
    token, payout_outputs = declarator.allocate()
    print("allocated a token of %d bytes; pool outputs %s" % (len(token), payout_outputs.hex()))

    # Full-template mode: declared, set on the pool, mined, pushed.
    job = template_job(miner_rpc, pool, payout_outputs)
    if job["prev_hash"] != pool.tip:
        fail("the miner's node is not on the pool's tip")
    declared, error, asked = declarator.declare(token, job)
    if error:
        fail("declaration refused: " + error)
    print("declared a job of %d transactions; %d asked with ProvideMissingTransactions" % (len(job["wtxids"]), len(asked)))
    _, rolled, nonce, block_hash = set_and_mine(pool, 1, declared, job, "full-template")
    declarator.push(job, pool.prefix + rolled, nonce)
    for _ in range(100):
        if rpc(pool_rpc, "getbestblockhash") == block_hash:
            break
        time.sleep(0.1)
    else:
        fail("the pushed block %s is not the pool node's tip" % block_hash)
    block = rpc(pool_rpc, "getblock", [block_hash])
    mine = set(t["txid"] for t in job["transactions"])
    if not mine <= set(block["tx"]):
        fail("the block lacks the declared transactions")
    print("pushed block %s with %d transactions on the pool's node (%d of them asked for)" % (block_hash, len(block["tx"]), len(asked)))
    if job["transactions"] and not asked:
        fail("no ProvideMissingTransactions round trip: the miner's transactions were all known to the pool")

    # Refusals, each answered while the connections go on (the tip may have moved: take a fresh template).
    for _ in range(100):
        if rpc(miner_rpc, "getbestblockhash") == block_hash:
            break
        time.sleep(0.1)
    pool.expect(0x20, "SetNewPrevHash of the pushed block")
    job = template_job(miner_rpc, pool, payout_outputs)
    forged, _ = declarator.allocate()
    forged = forged[:-1] + bytes([forged[-1] ^ 1])
    expect_code("a forged token", declarator.declare(forged, job)[1], "invalid-mining-job-token")
    fields = bytes([1]) + struct.pack("<I", int(time.time()) - 10) + os.urandom(8) + hashlib.sha256(b"sv2 job token user" + b"alice").digest()
    expect_code("an expired token", declarator.declare(fields + hmac.new(key, fields, hashlib.sha256).digest()[:16], job)[1], "stale-mining-job-token")
    expect_code("a coinbase without the pool's output", declarator.declare(declarator.allocate()[0], template_job(miner_rpc, pool, payout_outputs, pay_pool=False))[1],
                "invalid-coinbase")
    expect_code("a coinbase for another height (not on the tip)", declarator.declare(declarator.allocate()[0], template_job(miner_rpc, pool, payout_outputs, height_offset=5))[1],
                "stale-chain-tip")
    wrong = lambda asked: [bytes.fromhex(job["transactions"][(p + 1) % len(job["transactions"])]["data"]) if len(job["transactions"]) > 1 else b"\x00" for p in asked]
    _, error, asked = declarator.declare(declarator.allocate()[0], job, provide=wrong)
    if not asked:
        fail("the pool's node knew every transaction of the miner's template")
    expect_code("a wrong transaction for a wtxid", error, "invalid-transaction")
    expect_code("SetCustomMiningJob on an unknown prev_hash", pool.set_job(2, declarator.allocate()[0], job, prev_hash=os.urandom(32))[1], "invalid-prev-hash")

    # Coinbase-only mode: the allocation token straight to the pool, and a share on the job.
    job_id = set_and_mine(pool, 3, declarator.allocate()[0], job, "coinbase-only")[0]
    print("coinbase-only job %d set and its share accepted" % job_id)

    # After every refusal the declarator still serves: one more declaration goes through.
    declared, error, _ = declarator.declare(declarator.allocate()[0], job)
    if error:
        fail("the declaration after the refusals was refused: " + error)
    print("declared again after the refusals")
    print("OK")


if __name__ == "__main__":
    main()
