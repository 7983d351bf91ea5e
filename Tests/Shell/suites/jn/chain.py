"""Reads an embedded node's chain over JSON-RPC (user u, password p), independently of sv2 (hashlib, struct).

    chain.py PORT tip                 the tip's height and hash
    chain.py PORT payouts FROM        for each block above height FROM: height, hash, transaction count and the hex
                                      scriptPubKeys of its coinbase outputs paying more than 0 (parsed from the raw block)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from noderpc import rpc  # noqa: E402


def compact(data, offset):
    first = data[offset]
    if first < 0xFD:
        return first, offset + 1
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(data[offset + 1:offset + 1 + width], "little"), offset + 1 + width


def coinbase_payouts(raw):
    """The paying outputs of a block's first transaction, and the block's transaction count."""
    count, offset = compact(raw, 80)
    offset += 4
    if raw[offset] == 0:
        offset += 2  # BIP141 marker and flag
    inputs, offset = compact(raw, offset)
    for _ in range(inputs):
        offset += 36
        length, offset = compact(raw, offset)
        offset += length + 4
    outputs, offset = compact(raw, offset)
    paying = []
    for _ in range(outputs):
        value = struct.unpack_from("<Q", raw, offset)[0]
        length, offset = compact(raw, offset + 8)
        if value:
            paying.append(raw[offset:offset + length].hex())
        offset += length
    return paying, count


def main():
    port, command = int(sys.argv[1]), sys.argv[2]
    height = rpc(port, "getblockcount")
    if command == "tip":
        print(height, rpc(port, "getbestblockhash"))
        return
    for h in range(int(sys.argv[3]) + 1, height + 1):
        block_hash = rpc(port, "getblockhash", [h])
        paying, count = coinbase_payouts(bytes.fromhex(rpc(port, "getblock", [block_hash, 0])))
        print(h, block_hash, count, " ".join(paying))


if __name__ == "__main__":
    main()
