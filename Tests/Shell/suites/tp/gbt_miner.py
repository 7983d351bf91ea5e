#!/usr/bin/env python3
"""A solo getblocktemplate miner written the way ckpool and cpuminer are (standard library only).

It asks for a template (rules ["segwit"]), builds its own coinbase -- BIP34 height push, one payout output, the
template's default_witness_commitment as an extra output, and NO witness on the coinbase (no segwit marker/flag, no
witness reserved value), as ckpool and cpuminer build it -- adds the template's transactions, grinds the nonce
until the header hash is <= the template's target, and submits the block with submitblock.

    gbt_miner.py --port 18443 --user u --password p --blocks 3
    gbt_miner.py --port 18443 --user u --password p --bare-lf         # ckpool's HTTP: bare "\\n" line endings
    gbt_miner.py --port 18443 --user u --password p --no-commitment   # a pre-segwit miner

Every request goes over a fresh raw TCP socket. By default it is written like libcurl/cpuminer (CRLF, "id");
with --bare-lf it is byte-for-byte ckpool's (bare LF, "Content-type", no "id", body ending in "\\n"), and the
response is read the way ckpool reads it: the status line must start "HTTP/1.1 200 OK" and the JSON must be one
line starting with "{" and ending with "\\n".

Exit status: 0 when every submitblock answered null (accepted); 1 otherwise (the reason is printed).
"""

import argparse
import base64
import hashlib
import json
import socket
import struct
import sys

# p2wpkh of the compressed public key of the secp256k1 generator G (BIP173's example key).
DEFAULT_SCRIPT = "0014751e76e8199196d454941c45d1b3a323f1433bd6"


class Failure(Exception):
    pass


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def varint(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    return b"\xfe" + struct.pack("<I", n)


def push(data):
    assert len(data) < 0x4C
    return bytes([len(data)]) + data


def height_push(height):
    """BIP34 as Bitcoin Core checks it: the script `CScript() << height` (OP_1..OP_16 for 1..16)."""
    if 1 <= height <= 16:
        return bytes([0x50 + height])
    number = height.to_bytes((height.bit_length() + 7) // 8, "little")
    if number[-1] & 0x80:  # keep the CScriptNum positive
        number += b"\x00"
    return push(number)


def merkle_root(hashes):
    """Merkle root of internal-byte-order hashes (the last one doubled on odd levels)."""
    level = list(hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class RPC:
    """JSON-RPC over a raw socket, one connection per call (ckpool does the same)."""

    def __init__(self, host, port, user, password, bare_lf, timeout):
        self.host, self.port, self.bare_lf, self.timeout = host, port, bare_lf, timeout
        self.auth = base64.b64encode(f"{user}:{password}".encode()).decode()

    def request_bytes(self, method, params):
        if self.bare_lf:  # ckpool: sprintf("POST / HTTP/1.1\n...") and a body without "id", ending in "\n"
            call = {"method": method} if params is None else {"method": method, "params": params}
            body = (json.dumps(call) + "\n").encode()
            head = (f"POST / HTTP/1.1\nAuthorization: Basic {self.auth}\nHost: {self.host}:{self.port}\n"
                    f"Content-type: application/json\nContent-Length: {len(body)}\n\n")
        else:  # cpuminer through libcurl: CRLF headers, an "id", a body ending in "\r\n"
            body = (json.dumps({"method": method, "params": params or [], "id": 1}) + "\r\n").encode()
            head = (f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Basic {self.auth}\r\n"
                    f"User-Agent: gbt_miner/1.0\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n")
        return head.encode() + body

    def call(self, method, params=None):
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.sendall(self.request_bytes(method, params))
                status, reply = self.read_response(sock)
        except OSError as error:
            raise Failure(f"{method}: {error}") from None
        except ValueError as error:
            raise Failure(f"{method}: the reply is not JSON: {error}") from None
        if reply is None:
            raise Failure(f"{method}: HTTP answer {status!r} without a JSON-RPC reply")
        if reply.get("error"):
            raise Failure(f"{method}: {status!r}: error {reply['error']}")
        if not status.upper().startswith("HTTP/1.1 200 OK"):  # ckpool: strncasecmp(buf, "HTTP/1.1 200 OK", 15)
            raise Failure(f"{method}: status line {status!r} (ckpool wants 'HTTP/1.1 200 OK')")
        if "result" not in reply:
            raise Failure(f"{method}: reply without a result: {reply}")
        return reply["result"]

    def read_response(self, sock):
        """Returns (status line, parsed JSON or None): the headers, then Content-Length bytes (or up to EOF)."""
        data = b""
        while b"\r\n\r\n" not in data and b"\n\n" not in data:  # the end of the headers, CRLF or bare LF
            chunk = sock.recv(65536)
            if not chunk:
                raise Failure(f"connection closed after {data[:200]!r}")
            data += chunk
        end = min(data.find(sep) + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if sep in data)
        head, body = data[:end], data[end:]
        lines = head.decode("latin-1").splitlines()
        status = lines[0]
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        while length is None or len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        body = body if length is None else body[:length]
        if not body.strip():
            return status, None
        if self.bare_lf:
            # ckpool reads "\n"-terminated lines up to the first one starting with "{" and parses that line alone.
            for line in body.split(b"\n")[:-1]:
                if line.startswith(b"{"):
                    return status, json.loads(line)
            raise Failure(f"ckpool cannot read this body (no line starting '{{' ending in '\\n'): {body[:200]!r}")
        return status, json.loads(body)


def build_block(template, script, extranonce, tag, no_commitment):
    """Returns (header without nonce, block body after the header, transactions included)."""
    transactions = template.get("transactions", [])
    value = template["coinbasevalue"]
    if no_commitment:
        # A pre-segwit miner cannot carry witness transactions: leave them (and what depends on them) out.
        dropped = set()
        for index, tx in enumerate(transactions, start=1):
            if tx["txid"] != tx.get("hash", tx["txid"]) or dropped.intersection(tx.get("depends", [])):
                dropped.add(index)
        value -= sum(transactions[i - 1].get("fee", 0) for i in dropped)
        transactions = [tx for i, tx in enumerate(transactions, start=1) if i not in dropped]

    script_sig = height_push(template["height"]) + push(struct.pack("<I", extranonce)) + push(tag)
    outputs = [struct.pack("<q", value) + varint(len(script)) + script]
    commitment = template.get("default_witness_commitment")
    if commitment and not no_commitment:
        # Cross-check as ckpool does: witness root over wtxids with the coinbase's as zero, reserved value zero.
        wtxids = [b"\x00" * 32] + [bytes.fromhex(tx["hash"])[::-1] for tx in transactions]
        mine = "6a24aa21a9ed" + sha256d(merkle_root(wtxids) + b"\x00" * 32).hex()
        if mine != commitment:
            print(f"warning: default_witness_commitment {commitment} != computed {mine}", file=sys.stderr)
        commitment_script = bytes.fromhex(commitment)
        outputs.append(struct.pack("<q", 0) + varint(len(commitment_script)) + commitment_script)
    coinbase = (struct.pack("<i", 1) + varint(1) + b"\x00" * 32 + b"\xff\xff\xff\xff"  # version, null prevout
                + varint(len(script_sig)) + script_sig + b"\xff\xff\xff\xff"           # scriptSig, sequence
                + varint(len(outputs)) + b"".join(outputs) + struct.pack("<I", 0))    # outputs, lock time

    txids = [sha256d(coinbase)] + [bytes.fromhex(tx["txid"])[::-1] for tx in transactions]
    header = (struct.pack("<I", template["version"]) + bytes.fromhex(template["previousblockhash"])[::-1]
              + merkle_root(txids) + struct.pack("<I", template["curtime"])
              + bytes.fromhex(template["bits"])[::-1])
    body = varint(1 + len(transactions)) + coinbase + b"".join(bytes.fromhex(tx["data"]) for tx in transactions)
    return header, body, len(transactions)


def grind(header76, target):
    """The first nonce whose header hash (as a little-endian number) is <= target, or None."""
    midstate = hashlib.sha256(header76[:64])  # the first 64 bytes never change
    tail = header76[64:]
    for nonce in range(1 << 32):
        inner = midstate.copy()
        inner.update(tail + struct.pack("<I", nonce))
        digest = hashlib.sha256(inner.digest()).digest()
        if int.from_bytes(digest, "little") <= target:
            return nonce, digest[::-1].hex()
    return None


def mine_one(rpc, args, number):
    template = rpc.call("getblocktemplate", [{"rules": ["segwit"],
                                              "capabilities": ["coinbasetxn", "workid", "coinbase/append"]}])
    target = int(template["target"], 16)
    for extranonce in range(1 << 32):  # a new extranonce (so a new merkle root) if the nonce range runs out
        header, body, count = build_block(template, args.script, extranonce, args.tag.encode(), args.no_commitment)
        found = grind(header, target)
        if found:
            break
    nonce, block_hash = found
    params = [(header + struct.pack("<I", nonce) + body).hex()]
    if "workid" in template:  # cpuminer sends {"workid": ...} as the second parameter
        params.append({"workid": template["workid"]})
    result = rpc.call("submitblock", params)
    print(f"block {number}/{args.blocks}: height {template['height']} {block_hash} "
          f"({count} of {len(template.get('transactions', []))} transactions) submitblock -> {json.dumps(result)}")
    if result is not None:
        raise Failure(f"block rejected: {result}")
    # ckpool's own check after a submission: is our block now at that height?
    at_height = rpc.call("getblockhash", [template["height"]])
    if at_height != block_hash:
        raise Failure(f"submitblock answered null but height {template['height']} is {at_height}")


def main():
    parser = argparse.ArgumentParser(description="Solo getblocktemplate miner (ckpool/cpuminer style).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18443)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--blocks", type=int, default=1, help="blocks to mine, a fresh template for each")
    parser.add_argument("--script", default=DEFAULT_SCRIPT,
                        help="coinbase payout scriptPubKey, hex (default: p2wpkh of a fixed key; 51 = OP_TRUE)")
    parser.add_argument("--tag", default="/gbt_miner/", help="text pushed in the coinbase scriptSig")
    parser.add_argument("--no-commitment", action="store_true",
                        help="pre-segwit miner: no witness commitment output, witness transactions left out")
    parser.add_argument("--bare-lf", action="store_true", help='ckpool\'s HTTP request: bare "\\n" line endings')
    parser.add_argument("--timeout", type=float, default=60, help="seconds per RPC (ckpool: 60)")
    args = parser.parse_args()
    try:
        args.script = bytes.fromhex(args.script)
    except ValueError:
        parser.error("--script must be hex")
    if len(args.tag.encode()) > 64:  # the coinbase scriptSig must stay within 100 bytes
        parser.error("--tag is limited to 64 bytes")

    rpc = RPC(args.host, args.port, args.user, args.password, args.bare_lf, args.timeout)
    try:
        for number in range(1, args.blocks + 1):
            mine_one(rpc, args, number)
    except Failure as failure:
        print(f"gbt_miner: {failure}", file=sys.stderr)
        return 1
    print(f"all {args.blocks} block(s) accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
