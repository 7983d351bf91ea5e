#!/usr/bin/env python3
"""Find a nonce for an Sv2 extended job, computed independently of sv2 (hashlib).

    find_nonce.py PREFIX SUFFIX EXTRANONCE PREVHASH VERSION NTIME NBITS [--block | --no-block]

PREFIX/SUFFIX are NewExtendedMiningJob's coinbase_tx_prefix/suffix, EXTRANONCE the full extranonce (channel prefix
then the rolled bytes), PREVHASH the U256 as sv2 decode prints it (wire bytes), VERSION/NTIME/NBITS integers.
Prints the first nonce from 0 whose header hash does (--block) or does not (--no-block, default) meet the network
target of NBITS.
"""
import hashlib
import struct
import sys


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    want_block = "--block" in sys.argv
    prefix, suffix, extranonce, prevhash = (bytes.fromhex(a) for a in args[:4])
    version, ntime, nbits = (int(a) for a in args[4:7])
    merkle_root = sha256d(prefix + extranonce + suffix)
    exponent, mantissa = nbits >> 24, nbits & 0x7FFFFF
    target = mantissa << (8 * (exponent - 3))
    start = struct.pack("<I", version) + prevhash + merkle_root + struct.pack("<II", ntime, nbits)
    for nonce in range(1 << 20):
        value = int.from_bytes(sha256d(start + struct.pack("<I", nonce)), "little")
        if (value <= target) == want_block:
            print(nonce)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
