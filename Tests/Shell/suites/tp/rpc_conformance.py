#!/usr/bin/env python3
"""Bitcoin Core JSON-RPC conformance test for `sv2 tp --rpc-listen` (a regtest node without wallet and txindex).

    rpc_conformance.py --port N --user U --password P [--host 127.0.0.1]

Calls each supported method and checks field names, JSON types, field order and key values against Bitcoin Core
(master / v31). It also checks the error codes and messages for bad parameters, the JSON-RPC 1.0 and 2.0 reply shapes
and HTTP status codes, batches, keep-alive, HTTP/1.0, and bare-LF headers. It mines blocks: one with generatetoaddress,
and one it builds itself from getblocktemplate and sends with submitblock.

Prints `ok NAME` or `FAIL NAME: expected …, got …` for each check. The last line is `all N checks passed` (exit 0), or
the exit status is 1. Python 3 standard library only. A raw socket client is used so that the exact bytes are under
control.
"""

import argparse
import base64
import hashlib
import json
import socket
import sys

# -- checks ---------------------------------------------------------------------------------------------------------

PASSED, FAILED = [], []


def check(name, ok, expected, got):
    """One check line: `ok NAME`, or `FAIL NAME: expected …, got …` (newlines escaped, so one line each)."""
    if ok:
        PASSED.append(name)
        print(f"ok {name}")
    else:
        FAILED.append(name)
        print(f"FAIL {name}: expected {expected}, got {str(got)[:300]}".replace("\n", "\\n"))
    return ok


def check_eq(name, got, expected):
    return check(name, got == expected, repr(expected), repr(got))


# JSON type predicates for field specs. Integers written as 5.0 are not accepted as "int".
TYPES = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "num": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "hex": lambda v: isinstance(v, str) and len(v) % 2 == 0 and all(c in "0123456789abcdef" for c in v),
    "hex64": lambda v: TYPES["hex"](v) and len(v) == 64,
    "bool": lambda v: isinstance(v, bool),
    "arr": lambda v: isinstance(v, list),
    "obj": lambda v: isinstance(v, dict),
}


def check_fields(name, obj, spec, exact=True):
    """Checks `obj` against `spec` ("key:type", with "?key:type" for optional keys), listed in Core's output order.

    Checks presence, types and order. With exact=True, keys that are not in the spec are an error too."""
    problems = []
    if not isinstance(obj, dict):
        return check(name + " fields", False, "an object", obj)
    order = []
    for item in spec:
        key, kind = item.lstrip("?").split(":")
        order.append(key)
        if key not in obj:
            if not item.startswith("?"):
                problems.append(f"missing {key}")
        elif not TYPES[kind](obj[key]):
            problems.append(f"{key} not {kind} ({obj[key]!r})")
    extra = [k for k in obj if k not in order]
    if exact and extra:
        problems.append(f"unexpected {extra}")
    present = [k for k in obj if k in order]
    if present != [k for k in order if k in obj]:
        problems.append(f"order {present}")
    return check(name + " fields", not problems, "Core's fields " + " ".join(spec), "; ".join(problems))


# -- raw HTTP client --------------------------------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def read_response(sock):
    """Reads one HTTP response: Content-Length if present, else up to EOF (no body for 204)."""
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a full response ({data[:80]!r})")
        data += chunk
    sep = b"\r\n\r\n" if b"\r\n\r\n" in data else b"\n\n"
    head, body = data.split(sep, 1)
    lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        need = int(headers["content-length"])
        while len(body) < need:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    elif status not in (204, 304):
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return Response(status, headers, body)


def is_closed(sock, wait=2.0):
    """True if the server closed `sock` (EOF) within `wait` seconds; False if it is still open."""
    sock.settimeout(wait)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except socket.timeout:
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(30)


class Client:
    def __init__(self, host, port, user, password):
        self.host, self.port = host, port
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.next_id = 0

    def connect(self):
        return socket.create_connection((self.host, self.port), timeout=30)

    def request_bytes(self, body, version="1.1", eol="\r\n", headers=(), auth=True, method="POST"):
        lines = [f"{method} / HTTP/{version}", f"Host: {self.host}:{self.port}", "Content-Type: application/json",
                 f"Content-Length: {len(body)}"]
        if auth:
            lines.append(f"Authorization: {self.auth}")
        lines += list(headers)
        return (eol.join(lines) + eol + eol).encode() + body

    def send(self, body, sock=None, **kw):
        """Sends one request. Uses a fresh connection (closed afterwards) unless `sock` is given."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        own = sock is None
        sock = sock or self.connect()
        try:
            sock.sendall(self.request_bytes(body, **kw))
            return read_response(sock)
        finally:
            if own:
                sock.close()

    def call(self, method, *params):
        """A JSON-RPC 1.0 call. Returns the result, or raises RPCError(code, message)."""
        self.next_id += 1
        reply = self.send({"jsonrpc": "1.0", "id": self.next_id, "method": method, "params": list(params)}).json()
        if not isinstance(reply, dict):
            raise RPCError(None, f"non-JSON reply to {method}")
        if reply.get("error"):
            raise RPCError(reply["error"].get("code"), reply["error"].get("message"))
        return reply.get("result")


class RPCError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code} {message}")
        self.code, self.message = code, message


def expect_error(rpc, name, method, params, code, message=None, prefix=None):
    """Checks that `method(params)` fails with `code`, and with an exact `message` or a `prefix` if given."""
    try:
        result = rpc.call(method, *params)
        return check(name, False, f"error {code}", f"result {result!r}")
    except RPCError as error:
        ok = error.code == code and (message is None or error.message == message) and \
            (prefix is None or (error.message or "").startswith(prefix))
        return check(name, ok, f"{code} {message or prefix or ''}".strip(), f"{error.code} {error.message!r}")


def wrong_type(position, arg, got, want):
    """Core's -3 message for a declared argument of the wrong JSON type."""
    return f'Wrong type passed:\n{{\n    "Position {position} ({arg})": "JSON value of type {got} is not of expected type {want}"\n}}'


# -- bitcoin encodings ----------------------------------------------------------------------------------------------

def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def varint(n):
    if n < 0xfd:
        return bytes([n])
    return b"\xfd" + n.to_bytes(2, "little") if n <= 0xffff else b"\xfe" + n.to_bytes(4, "little")


def read_varint(b, i):
    n = b[i]
    if n < 0xfd:
        return n, i + 1
    size = {0xfd: 2, 0xfe: 4, 0xff: 8}[n]
    return int.from_bytes(b[i + 1:i + 1 + size], "little"), i + 1 + size


def parse_tx(b, i):
    """Parses the transaction at b[i:]. Returns (end, txid display hex, non-witness serialization)."""
    start = i
    witness = b[i + 4] == 0 and b[i + 5] == 1
    i += 6 if witness else 4
    body_start = i
    count, i = read_varint(b, i)
    for _ in range(count):
        i += 36
        n, i = read_varint(b, i)
        i += n + 4
    count_out, i = read_varint(b, i)
    for _ in range(count_out):
        i += 8
        n, i = read_varint(b, i)
        i += n
    body_end = i
    if witness:
        for _ in range(count):
            items, i = read_varint(b, i)
            for _ in range(items):
                n, i = read_varint(b, i)
                i += n
    stripped = b[start:start + 4] + b[body_start:body_end] + b[i:i + 4]
    return i + 4, sha256d(stripped)[::-1].hex(), stripped


BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_address(hrp, version, program):
    """BIP173/BIP350 segwit address: bech32 for v0, bech32m for v1+."""
    def polymod(values):
        gen, chk = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3], 1
        for v in values:
            top, chk = chk >> 25, (chk & 0x1ffffff) << 5 ^ v
            for k in range(5):
                chk ^= gen[k] if (top >> k) & 1 else 0
        return chk
    data, acc, bits = [version], 0, 0
    for byte in program:                      # 8-bit to 5-bit groups
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    const = 1 if version == 0 else 0x2bc830a3
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = polymod(expanded + data + [0] * 6) ^ const
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + [(mod >> 5 * (5 - k)) & 31 for k in range(6)])


def base58check(payload):
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    full = payload + sha256d(payload)[:4]
    n, out = int.from_bytes(full, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return "1" * (len(full) - len(full.lstrip(b"\0"))) + out


PROGRAM20 = bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")  # BIP173's example key hash
PROGRAM32 = bytes(range(32))
P2WPKH = bech32_address("bcrt", 0, PROGRAM20)  # bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080
P2WPKH_SPK = "0014" + PROGRAM20.hex()
P2SH = base58check(b"\xc4" + PROGRAM20)        # regtest script-hash version 196
P2WSH = bech32_address("bcrt", 0, PROGRAM32)
P2TR = bech32_address("bcrt", 1, PROGRAM32)
REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
REGTEST_GENESIS_COINBASE = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
REGTEST_TARGET = "7fffff" + "0" * 58

HEADER = ["hash:hex64", "confirmations:int", "height:int", "version:int", "versionHex:hex", "merkleroot:hex64",
          "time:int", "mediantime:int", "nonce:int", "bits:hex", "target:hex64", "difficulty:num", "chainwork:hex64",
          "nTx:int", "?previousblockhash:hex64", "?nextblockhash:hex64"]
TX = ["txid:hex64", "hash:hex64", "version:int", "size:int", "vsize:int", "weight:int", "locktime:int", "vin:arr",
      "vout:arr", "?fee:num"]
SCRIPT = ["asm:str", "desc:str", "hex:hex", "?address:str", "type:str"]


# -- block building for getblocktemplate proposals and submitblock --------------------------------------------------

def height_push(height):
    """BIP34 height as Core's `CScript() << height`: OP_1..OP_16 for small heights, else a CScriptNum push."""
    if 1 <= height <= 16:
        return bytes([0x50 + height])
    num = height.to_bytes((height.bit_length() + 8) // 8, "little")  # room for a sign bit
    return bytes([len(num)]) + num


def merkle_root(hashes):
    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes.append(hashes[-1])
        hashes = [sha256d(hashes[k] + hashes[k + 1]) for k in range(0, len(hashes), 2)]
    return hashes[0]


def build_block(template, prev_hex=None, witness=True, pow_ok=True, bad_merkle=False, extra=b"conf"):
    """A block from `template` paying the coinbase to P2WPKH_SPK, with the witness commitment computed here.

    witness=False leaves out the coinbase's witness reserved value (submitblock must add it); `extra` goes into the
    coinbase scriptSig (another value gives another block on the same parent). The nonce is ground
    until the hash meets the target (pow_ok) or misses it (not pow_ok). Returns (block hex, block hash, commitment)."""
    txs = template["transactions"]
    wtxids = [b"\0" * 32] + [bytes.fromhex(t["hash"])[::-1] for t in txs]
    commitment = "6a24aa21a9ed" + sha256d(merkle_root(wtxids) + b"\0" * 32).hex()
    script_sig = height_push(template["height"]) + bytes([len(extra)]) + extra
    vin = b"\x01" + b"\0" * 32 + b"\xff" * 4 + varint(len(script_sig)) + script_sig + b"\xff" * 4
    outs = [(template["coinbasevalue"], bytes.fromhex(P2WPKH_SPK)), (0, bytes.fromhex(commitment))]
    vout = varint(len(outs)) + b"".join(v.to_bytes(8, "little") + varint(len(s)) + s for v, s in outs)
    version, locktime = (2).to_bytes(4, "little"), b"\0" * 4
    stripped = version + vin + vout + locktime
    coinbase = version + b"\0\x01" + vin + vout + b"\x01\x20" + b"\0" * 32 + locktime if witness else stripped
    txids = [sha256d(stripped)] + [bytes.fromhex(t["txid"])[::-1] for t in txs]
    root = merkle_root(txids) if not bad_merkle else b"\x11" * 32
    prev = bytes.fromhex(prev_hex or template["previousblockhash"])[::-1]
    bits = int(template["bits"], 16)
    target = (bits & 0xffffff) << (8 * ((bits >> 24) - 3))
    for nonce in range(1 << 20):
        header = (template["version"].to_bytes(4, "little") + prev + root + template["curtime"].to_bytes(4, "little")
                  + bits.to_bytes(4, "little") + nonce.to_bytes(4, "little"))
        if (int.from_bytes(sha256d(header), "little") <= target) == pow_ok:
            break
    body = varint(1 + len(txs)) + coinbase + b"".join(bytes.fromhex(t["data"]) for t in txs)
    return (header + body).hex(), sha256d(header)[::-1].hex(), commitment


# -- the checks -----------------------------------------------------------------------------------------------------

# -- the checks, one section per method group ----------------------------------------------------------------------
# Each section gets `ctx`, a dict shared between sections (tip, height, coinbase). A section that raises is one
# FAIL line and the next section still runs; value checks use .get() so a missing field fails one check only.

def test_mine(rpc, ctx):
    height0 = rpc.call("getblockcount")
    hashes = rpc.call("generatetoaddress", 1, P2WPKH)
    check("generatetoaddress returns one hash", isinstance(hashes, list) and len(hashes) == 1 and TYPES["hex64"](hashes[0]),
          "[hex64]", hashes)
    ctx["tip"], ctx["height"] = rpc.call("getbestblockhash"), rpc.call("getblockcount")
    check_eq("getblockcount after generatetoaddress", ctx["height"], height0 + 1)
    check_eq("getbestblockhash is the mined block", ctx["tip"], hashes[0])
    expect_error(rpc, "generatetoaddress bad address", "generatetoaddress", [1, "nope"], -5, "Error: Invalid address")
    expect_error(rpc, "getblockcount too many params", "getblockcount", [1], -1, prefix="getblockcount\n")
    # The raw block (verbosity 0) gives the txids and the coinbase for later checks. The block holds the mempool's
    # transactions too, if there were any.
    raw = bytes.fromhex(rpc.call("getblock", ctx["tip"], 0))
    count, offset = read_varint(raw, 80)
    ctx["txids"], ctx["raw_block"] = [], raw
    for _ in range(count):
        end, txid, _ = parse_tx(raw, offset)
        if not ctx["txids"]:
            ctx["coinbase_txid"], ctx["coinbase_hex"] = txid, raw[offset:end].hex()
        ctx["txids"].append(txid)
        offset = end
    check("getblock 0 is the raw block", sha256d(raw[:80])[::-1].hex() == ctx["tip"] and offset == len(raw),
          "a header hashing to the tip, then the transactions", raw[:81].hex())


def test_getblockhash(rpc, ctx):
    check_eq("getblockhash tip", rpc.call("getblockhash", ctx["height"]), ctx["tip"])
    check_eq("getblockhash 0 is the regtest genesis", rpc.call("getblockhash", 0), REGTEST_GENESIS)
    expect_error(rpc, "getblockhash -1", "getblockhash", [-1], -8, "Block height out of range")
    expect_error(rpc, "getblockhash past tip", "getblockhash", [ctx["height"] + 1], -8, "Block height out of range")
    expect_error(rpc, "getblockhash string", "getblockhash", ["1"], -3, wrong_type(1, "height", "string", "number"))
    expect_error(rpc, "getblockhash no args", "getblockhash", [], -1, prefix="getblockhash height\n")
    expect_error(rpc, "getblockhash too many params", "getblockhash", [0, 1], -1, prefix="getblockhash height\n")


def test_getblockheader(rpc, ctx):
    tip, height = ctx["tip"], ctx["height"]
    header = rpc.call("getblockheader", tip)
    check_fields("getblockheader", header, HEADER)
    parent = rpc.call("getblockhash", height - 1)
    check_eq("getblockheader values",
             [header.get(k) for k in ("hash", "height", "confirmations", "nTx", "previousblockhash", "nextblockhash",
                                      "bits", "target", "versionHex")],
             [tip, height, 1, len(ctx["txids"]), parent, None, "207fffff", REGTEST_TARGET, "%08x" % header.get("version", -1)])
    parent_header = rpc.call("getblockheader", parent, True)
    check_eq("getblockheader parent", (parent_header.get("nextblockhash"), parent_header.get("confirmations")), (tip, 2))
    raw_header = rpc.call("getblockheader", tip, False)
    check_eq("getblockheader verbose=false", raw_header, ctx["raw_block"][:80].hex())
    expect_error(rpc, "getblockheader short hash", "getblockheader", ["abc"], -8,
                 "hash must be of length 64 (not 3, for 'abc')")
    expect_error(rpc, "getblockheader unknown", "getblockheader", ["00" * 32], -5, "Block not found")
    expect_error(rpc, "getblockheader verbose string", "getblockheader", [tip, "yes"], -3,
                 wrong_type(2, "verbose", "string", "bool"))


def test_getblock(rpc, ctx):
    tip, raw, coinbase_txid, txids = ctx["tip"], ctx["raw_block"], ctx["coinbase_txid"], ctx["txids"]
    expect_error(rpc, "getblock unknown", "getblock", ["00" * 32], -5, "Block not found")
    expect_error(rpc, "getblock short hash", "getblock", ["abcd"], -8, "blockhash must be of length 64 (not 4, for 'abcd')")
    expect_error(rpc, "getblock non-hex hash", "getblock", ["zz" * 32], -8,
                 f"blockhash must be hexadecimal string (not '{'zz' * 32}')")
    expect_error(rpc, "getblock verbosity string", "getblock", [tip, "1"], -3,
                 "JSON value of type string is not of expected type number")
    block = rpc.call("getblock", tip)
    check_fields("getblock 1", block, HEADER + ["strippedsize:int", "size:int", "weight:int", "coinbase_tx:obj", "tx:arr"])
    check_eq("getblock 1 tx is the txid list", block.get("tx"), txids)
    check_eq("getblock 1 nTx, size, confirmations", (block.get("nTx"), block.get("size"), block.get("confirmations")),
             (len(txids), len(raw), 1))
    check("getblock 1 weight", block.get("weight") == (block.get("strippedsize") or 0) * 3 + len(raw),
          "strippedsize*3+size", block.get("weight"))
    check_fields("getblock 1 coinbase_tx", block.get("coinbase_tx"),
                 ["version:int", "locktime:int", "sequence:int", "coinbase:hex", "?witness:hex"])
    check_eq("getblock verbose=true is verbosity 1", rpc.call("getblock", tip, True), block)
    for verbosity in (2, 3):
        detailed = rpc.call("getblock", tip, verbosity)
        tx0 = (detailed.get("tx") or [{}])[0]
        check_fields(f"getblock {verbosity} tx[0]", tx0, TX + ["hex:hex"])
        check_eq(f"getblock {verbosity} tx[0] txid and hex", (tx0.get("txid"), tx0.get("hex")),
                 (coinbase_txid, ctx["coinbase_hex"]))
        check_fields(f"getblock {verbosity} coinbase vin", (tx0.get("vin") or [{}])[0],
                     ["coinbase:hex", "?txinwitness:arr", "sequence:int"])
        vout0 = (tx0.get("vout") or [{}])[0]
        check_fields(f"getblock {verbosity} vout", vout0, ["value:num", "n:int", "scriptPubKey:obj"])
        check_fields(f"getblock {verbosity} scriptPubKey", vout0.get("scriptPubKey"), SCRIPT)
        check_eq(f"getblock {verbosity} coinbase pays the address",
                 {k: (vout0.get("scriptPubKey") or {}).get(k) for k in ("hex", "address", "type")},
                 {"hex": P2WPKH_SPK, "address": P2WPKH, "type": "witness_v0_keyhash"})
        if len(txids) > 1:  # a spending transaction: fee from the undo data, and prevouts at verbosity 3
            tx1 = detailed["tx"][1]
            check_fields(f"getblock {verbosity} tx[1]", tx1, TX[:-1] + ["fee:num", "hex:hex"])
            vin = (tx1.get("vin") or [{}])[0]
            check_fields(f"getblock {verbosity} tx[1] vin", vin, ["txid:hex64", "vout:int", "scriptSig:obj", "?txinwitness:arr"]
                         + (["prevout:obj"] if verbosity == 3 else []) + ["sequence:int"])
            if verbosity == 3:
                check_fields("getblock 3 prevout", vin.get("prevout"), ["generated:bool", "height:int", "value:num", "scriptPubKey:obj"])


def test_preciousblock(rpc, ctx):
    check_eq("preciousblock tip", rpc.call("preciousblock", ctx["tip"]), None)
    expect_error(rpc, "preciousblock unknown", "preciousblock", ["11" * 32], -5, "Block not found")
    expect_error(rpc, "preciousblock short hash", "preciousblock", ["ab"], -8,
                 "blockhash must be of length 64 (not 2, for 'ab')")


def test_decoderawtransaction(rpc, ctx):
    expect_error(rpc, "decoderawtransaction not hex", "decoderawtransaction", ["zz"], -22, "TX decode failed")
    expect_error(rpc, "decoderawtransaction truncated", "decoderawtransaction", [ctx["coinbase_hex"][:-10]], -22,
                 "TX decode failed")
    expect_error(rpc, "decoderawtransaction number", "decoderawtransaction", [1], -3,
                 wrong_type(1, "hexstring", "number", "string"))
    decoded = rpc.call("decoderawtransaction", ctx["coinbase_hex"])
    check_fields("decoderawtransaction", decoded, TX)  # no "hex" here, unlike getblock 2 and getrawtransaction 1
    check_eq("decoderawtransaction txid", decoded.get("txid"), ctx["coinbase_txid"])
    vin0 = (decoded.get("vin") or [{}])[0]
    check("decoderawtransaction vin[0].coinbase", TYPES["hex"](vin0.get("coinbase")), "a coinbase input", vin0)


def test_decodescript(rpc, ctx):
    expect_error(rpc, "decodescript not hex", "decodescript", ["zz"], -8, "argument must be hexadecimal string (not 'zz')")
    script = rpc.call("decodescript", P2WPKH_SPK)
    check_fields("decodescript p2wpkh", script, ["asm:str", "desc:str", "?address:str", "type:str", "?p2sh:str", "?segwit:obj"])
    check_eq("decodescript p2wpkh values", (script.get("asm"), script.get("address"), script.get("type"), "segwit" in script,
                                            str(script.get("p2sh", "")).startswith("2")),
             ("0 " + PROGRAM20.hex(), P2WPKH, "witness_v0_keyhash", False, True))
    p2pkh = rpc.call("decodescript", "76a914" + PROGRAM20.hex() + "88ac")
    check_fields("decodescript p2pkh segwit", p2pkh.get("segwit"), SCRIPT + ["p2sh-segwit:str"])
    check_eq("decodescript p2pkh values", (p2pkh.get("type"), (p2pkh.get("segwit") or {}).get("address")),
             ("pubkeyhash", P2WPKH))
    empty = rpc.call("decodescript", "")
    check_eq("decodescript empty script", (empty.get("asm"), empty.get("type")), ("", "nonstandard"))


def test_getrawtransaction(rpc, ctx):
    tip, txid = ctx["tip"], ctx["coinbase_txid"]
    # Without txindex, blocks are searched only when a block hash is given.
    expect_error(rpc, "getrawtransaction confirmed without blockhash", "getrawtransaction", [txid], -5,
                 "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction "
                 "queries. Use gettransaction for wallet transactions.")
    expect_error(rpc, "getrawtransaction short txid", "getrawtransaction", ["abc"], -8,
                 "parameter 1 must be of length 64 (not 3, for 'abc')")
    expect_error(rpc, "getrawtransaction unknown block", "getrawtransaction", [txid, 1, "22" * 32], -5, "Block hash not found")
    expect_error(rpc, "getrawtransaction not in block", "getrawtransaction", ["33" * 32, 0, tip], -5,
                 "No such transaction found in the provided block. Use gettransaction for wallet transactions.")
    expect_error(rpc, "getrawtransaction genesis coinbase", "getrawtransaction", [REGTEST_GENESIS_COINBASE], -5,
                 "The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved")
    expect_error(rpc, "getrawtransaction verbosity string", "getrawtransaction", [txid, "1", tip], -3,
                 "JSON value of type string is not of expected type number")
    check_eq("getrawtransaction 0 with blockhash", rpc.call("getrawtransaction", txid, 0, tip), ctx["coinbase_hex"])
    pool = rpc.call("getrawmempool")
    if pool:  # a mempool transaction is found without a block hash; no block fields then
        tx = rpc.call("getrawtransaction", pool[0], 1)
        check_fields("getrawtransaction mempool tx", tx, ["?vsize_adjusted:int"] + TX + ["hex:hex"])
        check_eq("getrawtransaction mempool tx txid", tx.get("txid"), pool[0])
        decoded = rpc.call("decoderawtransaction", rpc.call("getrawtransaction", pool[0]))
        check_fields("decoderawtransaction mempool tx", decoded, TX)
        check_fields("decoderawtransaction mempool tx vin", (decoded.get("vin") or [{}])[0],
                     ["txid:hex64", "vout:int", "scriptSig:obj", "?txinwitness:arr", "sequence:int"])
    for verbosity in (1, 2, True):
        tx = rpc.call("getrawtransaction", txid, verbosity, tip)
        check_fields(f"getrawtransaction {verbosity!r}", tx, ["in_active_chain:bool"] + TX +
                     ["hex:hex", "blockhash:hex64", "confirmations:int", "time:int", "blocktime:int"])
        check_eq(f"getrawtransaction {verbosity!r} values",
                 (tx.get("in_active_chain"), tx.get("txid"), tx.get("blockhash"), tx.get("confirmations"), "fee" in tx),
                 (True, txid, tip, 1, False))


def test_validateaddress(rpc, ctx):
    check_eq("validateaddress p2wpkh", rpc.call("validateaddress", P2WPKH),
             {"isvalid": True, "address": P2WPKH, "scriptPubKey": P2WPKH_SPK, "isscript": False, "iswitness": True,
              "witness_version": 0, "witness_program": PROGRAM20.hex()})
    check_eq("validateaddress p2sh", rpc.call("validateaddress", P2SH),
             {"isvalid": True, "address": P2SH, "scriptPubKey": "a914" + PROGRAM20.hex() + "87", "isscript": True,
              "iswitness": False})
    check_eq("validateaddress p2wsh", rpc.call("validateaddress", P2WSH),
             {"isvalid": True, "address": P2WSH, "scriptPubKey": "0020" + PROGRAM32.hex(), "isscript": True,
              "iswitness": True, "witness_version": 0, "witness_program": PROGRAM32.hex()})
    check_eq("validateaddress p2tr", rpc.call("validateaddress", P2TR),
             {"isvalid": True, "address": P2TR, "scriptPubKey": "5120" + PROGRAM32.hex(), "isscript": True,
              "iswitness": True, "witness_version": 1, "witness_program": PROGRAM32.hex()})
    check_eq("validateaddress garbage", rpc.call("validateaddress", "notanaddress0"),
             {"isvalid": False, "error_locations": [],
              "error": "Invalid or unsupported Segwit (Bech32) or Base58 encoding."})
    bad_checksum = rpc.call("validateaddress", P2WPKH[:-1] + ("q" if P2WPKH[-1] != "q" else "p"))
    check_fields("validateaddress bad checksum", bad_checksum, ["isvalid:bool", "error_locations:arr", "error:str"])
    check_eq("validateaddress bad checksum isvalid", bad_checksum.get("isvalid"), False)
    expect_error(rpc, "validateaddress number", "validateaddress", [1], -3, wrong_type(1, "address", "number", "string"))
    expect_error(rpc, "validateaddress no args", "validateaddress", [], -1, prefix="validateaddress")


def test_getaddressinfo(rpc, ctx):
    # Answered as Core's wallet answers for an address it does not own; only these fields are checked.
    for label, address, spk, isscript, iswitness in (("p2wpkh", P2WPKH, P2WPKH_SPK, False, True),
                                                    ("p2sh", P2SH, "a914" + PROGRAM20.hex() + "87", True, False)):
        info = rpc.call("getaddressinfo", address)
        check_eq(f"getaddressinfo {label}", {k: info.get(k) for k in ("address", "scriptPubKey", "ismine", "isscript", "iswitness")},
                 {"address": address, "scriptPubKey": spk, "ismine": False, "isscript": isscript, "iswitness": iswitness})
    expect_error(rpc, "getaddressinfo invalid", "getaddressinfo", ["notanaddress0"], -5,
                 "Invalid or unsupported Segwit (Bech32) or Base58 encoding.")


def test_getblockchaininfo(rpc, ctx):
    tip, height = ctx["tip"], ctx["height"]
    info = rpc.call("getblockchaininfo")
    check_fields("getblockchaininfo", info, [
        "chain:str", "blocks:int", "headers:int", "bestblockhash:hex64", "bits:hex", "target:hex64", "difficulty:num",
        "time:int", "mediantime:int", "verificationprogress:num", "initialblockdownload:bool", "?backgroundvalidation:obj",
        "chainwork:hex64", "size_on_disk:int", "pruned:bool", "warnings:arr"])
    check_eq("getblockchaininfo values",
             [info.get(k) for k in ("chain", "blocks", "headers", "bestblockhash", "bits", "target", "pruned", "chainwork")],
             ["regtest", height, height, tip, "207fffff", REGTEST_TARGET, False, rpc.call("getblockheader", tip).get("chainwork")])
    # Core writes doubles with 16 significant digits: 4.656542373906925e-10 for regtest's 0x207fffff.
    difficulty = rpc.call("getdifficulty")
    check("getdifficulty", TYPES["num"](difficulty) and abs(difficulty - 4.656542373906925e-10) < 1e-24
          and difficulty == info.get("difficulty"), "4.656542373906925e-10 (as getblockchaininfo)",
          (difficulty, info.get("difficulty")))


def test_getnetworkinfo(rpc, ctx):
    check_fields("getnetworkinfo", rpc.call("getnetworkinfo"), [
        "version:int", "subversion:str", "protocolversion:int", "localservices:hex", "localservicesnames:arr",
        "localrelay:bool", "timeoffset:int", "?tx_send_rate:num", "?inv_buckets:obj", "networkactive:bool",
        "connections:int", "connections_in:int", "connections_out:int", "networks:arr", "relayfee:num",
        "incrementalfee:num", "localaddresses:arr", "warnings:arr"])


def test_getmininginfo(rpc, ctx):
    mining = rpc.call("getmininginfo")
    check_fields("getmininginfo", mining, [
        "blocks:int", "?currentblockweight:int", "?currentblocktx:int", "bits:hex", "difficulty:num", "target:hex64",
        "networkhashps:num", "pooledtx:int", "blockmintxfee:num", "chain:str", "next:obj", "warnings:arr"])
    check_fields("getmininginfo next", mining.get("next"), ["height:int", "bits:hex", "difficulty:num", "target:hex64"])
    check_eq("getmininginfo values", (mining.get("blocks"), mining.get("chain"), (mining.get("next") or {}).get("height")),
             (ctx["height"], "regtest", ctx["height"] + 1))


def test_mempool(rpc, ctx):
    pool = rpc.call("getrawmempool")
    check("getrawmempool", isinstance(pool, list) and all(TYPES["hex64"](t) for t in pool), "[txid]", pool)
    expect_error(rpc, "getrawmempool verbose string", "getrawmempool", ["x"], -3, wrong_type(1, "verbose", "string", "bool"))
    mempool = rpc.call("getmempoolinfo")
    check_fields("getmempoolinfo", mempool, [
        "loaded:bool", "size:int", "bytes:int", "usage:int", "total_fee:num", "maxmempool:int", "mempoolminfee:num",
        "minrelaytxfee:num", "incrementalrelayfee:num", "unbroadcastcount:int", "?fullrbf:bool", "permitbaremultisig:bool",
        "maxdatacarriersize:int", "limitclustercount:int", "limitclustersize:int", "optimal:bool"])
    check_eq("getmempoolinfo size", mempool.get("size"), len(pool))
    verbose = rpc.call("getrawmempool", True)
    check("getrawmempool verbose", isinstance(verbose, dict) and sorted(verbose) == sorted(pool),
          f"an object keyed by the {len(pool)} txids", verbose)
    for txid, entry in list(verbose.items() if isinstance(verbose, dict) else [])[:3]:
        check_fields(f"getrawmempool entry {txid[:8]}", entry, [
            "?vsize_adjusted:int", "vsize:int", "?vsize_bip141:int", "weight:int", "time:int", "height:int",
            "descendantcount:int", "descendantsize:int", "ancestorcount:int", "ancestorsize:int", "wtxid:hex64",
            "?chunkweight:int", "fees:obj", "depends:arr", "spentby:arr", "?bip125-replaceable:bool", "unbroadcast:bool"])


def test_control(rpc, ctx):
    uptime = rpc.call("uptime")
    check("uptime", TYPES["int"](uptime) and uptime >= 0, "a non-negative integer", uptime)
    check_eq("help unknown command", rpc.call("help", "nosuchcommand"), "help: unknown command: nosuchcommand")
    one = rpc.call("help", "getblockcount")
    check("help getblockcount", isinstance(one, str) and one.startswith("getblockcount\n"), "'getblockcount\\n…'", one)
    overview = rpc.call("help")
    check("help", isinstance(overview, str) and overview.startswith("== ") and "\ngetblockcount\n" in overview,
          "'== Category ==' sections listing getblockcount", overview)


def test_getblocktemplate(rpc, ctx):
    """getblocktemplate, in template mode and in proposal mode, with a block built here."""
    expect_error(rpc, "getblocktemplate without segwit rule", "getblocktemplate", [{"rules": []}], -8,
                 'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})')
    expect_error(rpc, "getblocktemplate bad mode", "getblocktemplate", [{"mode": "x", "rules": ["segwit"]}], -8, "Invalid mode")
    expect_error(rpc, "getblocktemplate no args", "getblocktemplate", [], -1, prefix="getblocktemplate")
    template = rpc.call("getblocktemplate", {"rules": ["segwit"]})
    check_fields("getblocktemplate", template, [
        "capabilities:arr", "version:int", "rules:arr", "vbavailable:obj", "vbrequired:int", "previousblockhash:hex64",
        "transactions:arr", "coinbaseaux:obj", "coinbasevalue:int", "longpollid:str", "target:hex64", "mintime:int",
        "mutable:arr", "noncerange:str", "sigoplimit:int", "sizelimit:int", "weightlimit:int", "curtime:int", "bits:hex",
        "height:int", "?default_witness_commitment:hex"])
    check_eq("getblocktemplate values",
             [template.get(k) for k in ("capabilities", "previousblockhash", "height", "mutable", "noncerange",
                                        "sigoplimit", "sizelimit", "weightlimit")] + ["!segwit" in template.get("rules", [])],
             [["proposal"], rpc.call("getbestblockhash"), rpc.call("getblockcount") + 1, ["time", "transactions", "prevblock"],
              "00000000ffffffff", 80000, 4000000, 4000000, True])
    ctx["template"] = template
    block, ctx["new_hash"], commitment = build_block(template)
    check_eq("getblocktemplate default_witness_commitment", template.get("default_witness_commitment"), commitment)
    check_eq("proposal valid block", propose(rpc, block), None)
    check_eq("proposal bad merkle root", propose(rpc, build_block(template, bad_merkle=True)[0]), "bad-txnmrklroot")
    check_eq("proposal without witness reserved value", propose(rpc, build_block(template, witness=False)[0]),
             "bad-witness-nonce-size")
    expect_error(rpc, "proposal without data", "getblocktemplate", [{"mode": "proposal"}], -3,
                 "Missing data String key for proposal")
    expect_error(rpc, "proposal garbage", "getblocktemplate", [{"mode": "proposal", "data": "00"}], -22, "Block decode failed")


def propose(rpc, data):
    return rpc.call("getblocktemplate", {"mode": "proposal", "data": data, "rules": ["segwit"]})


def test_submitblock(rpc, ctx):
    template = ctx.get("template") or rpc.call("getblocktemplate", {"rules": ["segwit"]})
    block, block_hash, _ = build_block(template)
    expect_error(rpc, "submitblock garbage", "submitblock", ["00"], -22, "Block decode failed")
    check_eq("submitblock high-hash", rpc.call("submitblock", build_block(template, pow_ok=False)[0]), "high-hash")
    check_eq("submitblock unknown parent", rpc.call("submitblock", build_block(template, prev_hex="44" * 32)[0]),
             "prev-blk-not-found")
    # No witness reserved value in the coinbase: submitblock adds 32 zero bytes (UpdateUncommittedBlockStructures).
    check_eq("submitblock new block", rpc.call("submitblock", build_block(template, witness=False)[0], "ignored"), None)
    check_eq("submitblock made it the tip", rpc.call("getbestblockhash"), block_hash)
    check_eq("submitblock duplicate", rpc.call("submitblock", block), "duplicate")
    check_eq("proposal duplicate", propose(rpc, block), "duplicate")
    stale = build_block(template, pow_ok=False)[0]  # a new block on the old tip; proposals do not check PoW
    check_eq("proposal on a stale parent", propose(rpc, stale), "inconclusive-not-best-prevblk")
    # A valid sibling of the tip: stored, but with no more work it is not connected, so no verdict.
    check_eq("submitblock valid fork block", rpc.call("submitblock", build_block(template, extra=b"fork")[0]), "inconclusive")
    check_eq("submitblock fork block left the tip", rpc.call("getbestblockhash"), block_hash)
    coinbase = ((rpc.call("getblock", block_hash, 2).get("tx") or [{}])[0].get("vin") or [{}])[0]
    check_eq("submitblock filled the witness reserved value", coinbase.get("txinwitness"), ["00" * 32])


def test_envelope(client, ctx):
    """JSON-RPC 1.0/2.0 reply shapes, ids, HTTP status codes, batches."""
    def post(body):
        response = client.send(body)
        reply = response.json()
        return response.status, reply, list(reply) if isinstance(reply, dict) else reply

    status, reply, keys = post({"jsonrpc": "1.0", "id": "a", "method": "getblockcount", "params": []})
    check_eq("1.0 success shape", (status, keys, reply.get("error"), reply.get("id")), (200, ["result", "error", "id"], None, "a"))
    response = client.send({"id": None, "method": "getblockcount"})
    check_eq("1.0 id null, JSON content type, body ends in a newline",
             (response.headers.get("content-type"), response.body.endswith(b"}\n"), (response.json() or {}).get("id", "missing")),
             ("application/json", True, None))
    status, reply, keys = post({"jsonrpc": "2.0", "id": 7, "method": "getblockcount"})
    check_eq("2.0 success shape", (status, keys, reply.get("jsonrpc"), reply.get("id")),
             (200, ["jsonrpc", "result", "id"], "2.0", 7))
    status, reply, keys = post({"jsonrpc": "2.0", "id": None, "method": "getblockcount"})
    check_eq("2.0 id null is answered", (status, keys, reply.get("id", "missing")), (200, ["jsonrpc", "result", "id"], None))
    status, reply, keys = post({"method": "getblockcount", "params": []})
    check_eq("1.0 without id has no id", (status, keys), (200, ["result", "error"]))
    response = client.send({"jsonrpc": "2.0", "method": "getblockcount"})
    check_eq("2.0 notification", (response.status, response.body), (204, b""))

    not_found = {"code": -32601, "message": "Method not found"}
    check_eq("1.0 unknown method", post({"id": 1, "method": "nosuchmethod", "params": []})[:2],
             (404, {"result": None, "error": not_found, "id": 1}))
    check_eq("2.0 unknown method", post({"jsonrpc": "2.0", "id": "x", "method": "nosuchmethod"})[:2],
             (200, {"jsonrpc": "2.0", "error": not_found, "id": "x"}))
    out_of_range = {"code": -8, "message": "Block height out of range"}
    check_eq("1.0 error is HTTP 500", post({"id": 2, "method": "getblockhash", "params": [10 ** 6]})[:2],
             (500, {"result": None, "error": out_of_range, "id": 2}))
    check_eq("2.0 error is HTTP 200", post({"jsonrpc": "2.0", "id": 3, "method": "getblockhash", "params": [10 ** 6]})[:2],
             (200, {"jsonrpc": "2.0", "error": out_of_range, "id": 3}))
    check_eq("missing method", post({"id": 4, "params": []})[:2],
             (400, {"result": None, "error": {"code": -32600, "message": "Missing method"}, "id": 4}))
    check_eq("unsupported jsonrpc version", post({"jsonrpc": "3.0", "id": 5, "method": "getblockcount"})[:2],
             (400, {"result": None, "error": {"code": -32600, "message": "JSON-RPC version not supported"}, "id": 5}))
    check_eq("params not array", post({"id": 6, "method": "getblockcount", "params": 5})[:2],
             (400, {"result": None, "error": {"code": -32600, "message": "Params must be an array or object"}, "id": 6}))
    check_eq("parse error", post(b"{not json")[:2],
             (500, {"result": None, "error": {"code": -32700, "message": "Parse error"}, "id": None}))
    check_eq("named params", post({"id": 8, "method": "getblockhash", "params": {"height": 0}})[:2],
             (200, {"result": REGTEST_GENESIS, "error": None, "id": 8}))
    check_eq("unknown named param", post({"id": 9, "method": "getblockhash", "params": {"foo": 0}})[:2],
             (500, {"result": None, "error": {"code": -8, "message": "Unknown named parameter foo"}, "id": 9}))

    batch = [{"id": 1, "method": "getblockcount"}, {"id": "two", "method": "nosuchmethod"},
             {"jsonrpc": "2.0", "id": None, "method": "getblockhash", "params": [0]}, {"id": 4, "pizza": "sausage"}]
    status, reply, _ = post(batch)
    check_eq("batch replies", (status, [sorted(r) if isinstance(r, dict) else r for r in reply] if isinstance(reply, list) else reply),
             (200, [["error", "id", "result"], ["error", "id", "result"], ["id", "jsonrpc", "result"], ["error", "id", "result"]]))
    if isinstance(reply, list) and len(reply) == 4 and all(isinstance(r, dict) for r in reply):
        check_eq("batch ids, results and errors",
                 [(r.get("id"), (r.get("error") or {}).get("code")) for r in reply] + [reply[2].get("result")],
                 [(1, None), ("two", -32601), (None, None), (4, -32600), REGTEST_GENESIS])
    check_eq("empty batch", post([])[:2], (200, []))


def test_http(client, ctx):
    """Keep-alive, HTTP/1.0, Connection: close, bare-LF header lines, auth, GET."""
    body = {"id": 1, "method": "getblockcount"}

    def on_one_connection(name, count, expect_closed, **kw):
        sock = client.connect()
        try:
            statuses = [client.send(body, sock=sock, **kw).status for _ in range(count)]
            check_eq(name, (statuses, is_closed(sock, 2.0 if expect_closed else 0.5)), ([200] * count, expect_closed))
        except OSError as error:
            check(name, False, f"{count} replies", f"{type(error).__name__}: {error}")
        finally:
            sock.close()
    on_one_connection("HTTP/1.1 keep-alive: three requests on one connection", 3, False)
    on_one_connection("HTTP/1.0 without keep-alive: closed after the reply", 1, True, version="1.0")
    on_one_connection("HTTP/1.0 with Connection: keep-alive", 2, False, version="1.0", headers=["Connection: keep-alive"])
    on_one_connection("HTTP/1.1 Connection: close", 1, True, headers=["Connection: close"])
    response = client.send({"id": "lf", "method": "getblockhash", "params": [0]}, eol="\n")
    check_eq("bare LF header lines", (response.status, response.json()), (200, {"result": REGTEST_GENESIS, "error": None, "id": "lf"}))
    check_eq("no credentials", client.send(body, auth=False).status, 401)
    check_eq("wrong password", Client(client.host, client.port, "nobody", "wrong").send(body).status, 401)
    check_eq("GET is refused", client.send(b"", method="GET").status, 405)


def main():
    parser = argparse.ArgumentParser(description="Bitcoin Core JSON-RPC conformance checks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    client = Client(args.host, args.port, args.user, args.password)
    ctx = {}
    sections = [test_mine, test_getblockhash, test_getblockheader, test_getblock, test_preciousblock,
                test_decoderawtransaction, test_decodescript, test_getrawtransaction, test_validateaddress,
                test_getaddressinfo, test_getblockchaininfo, test_getnetworkinfo, test_getmininginfo, test_mempool,
                test_control, test_getblocktemplate, test_submitblock, test_envelope, test_http]
    for section in sections:
        if section is not test_mine and "tip" not in ctx and section not in (test_envelope, test_http):
            continue  # everything else needs the block mined by test_mine
        try:
            section(client, ctx)
        except (RPCError, OSError, KeyError, IndexError, TypeError, AttributeError, ValueError) as error:
            # An unexpected error (e.g. an unknown method) fails the section; the next one still runs.
            check(section.__name__, False, "no exception", f"{type(error).__name__}: {error}")
    if FAILED:
        print(f"{len(FAILED)} of {len(PASSED) + len(FAILED)} checks failed")
        sys.exit(1)
    print(f"all {len(PASSED)} checks passed")


if __name__ == "__main__":
    main()
