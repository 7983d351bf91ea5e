#!/usr/bin/env python3
"""Self-test of validate_chain.py: a fake JSON-RPC node serving regtest genesis plus one block whose coinbase pays
COINBASE_SATOSHIS (argv[1]). It prints its port, then serves until killed. With 5000000001 validate_chain.py must
exit 1 naming bad-cb-amount; with 5000000000 it must exit 0:

    python bad_chain_rpc.py 5000000001 > port & sleep 1
    python validate_chain.py --rpc http://127.0.0.1:$(cat port) --user u --password p   # REJECTED height 1 ...
"""
import hashlib, json, struct, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
def dsha(b): return hashlib.sha256(hashlib.sha256(b).digest()).digest()
GEN = bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f20020000000101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000")
gen_hash = dsha(GEN[:80])
value = int(sys.argv[1])
cb = struct.pack("<I", 2) + b"\x01" + b"\x00"*32 + b"\xff\xff\xff\xff" + b"\x02\x51\x00" + b"\xff\xff\xff\xff" + b"\x01" + struct.pack("<Q", value) + b"\x01\x51" + b"\x00\x00\x00\x00"
txid = dsha(cb)
nonce = 0
while True:
    header = struct.pack("<I", 0x20000000) + gen_hash + txid + struct.pack("<III", 1296688602 + 100, 0x207fffff, nonce)
    h = dsha(header)
    if int.from_bytes(h, "little") <= 0x7fffff << 232: break
    nonce += 1
block = header + b"\x01" + cb
blocks = [GEN, block]
hashes = [dsha(b[:80])[::-1].hex() for b in blocks]
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        m, p = req["method"], req["params"]
        r = {"getblockcount": lambda: 1, "getblockhash": lambda: hashes[p[0]], "getblock": lambda: blocks[hashes.index(p[0])].hex(), "getbestblockhash": lambda: hashes[1]}[m]()
        body = json.dumps({"result": r, "error": None, "id": req["id"]}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
