#!/usr/bin/env python3
"""Validate a node's whole chain with libbitcoinkernel (Bitcoin Core's consensus code).

Reads every block from a bitcoind-compatible JSON-RPC server (getblockcount, getblockhash, getblock HASH 0), feeds
them in order to a regtest ChainstateManager of py-bitcoinkernel (module `pbk`) in a temporary directory, and exits
non-zero naming the first block the kernel rejects.

    validate_chain.py --rpc http://127.0.0.1:18443 --user U --password P
    validate_chain.py --rpc http://127.0.0.1:18443 --cookie /path/to/.cookie

Exit status: 0 all blocks valid, 1 a block was rejected (or the chain does not match), 2 usage or RPC trouble.
"""

import argparse
import base64
import json
import sys
import tempfile
import urllib.error
import urllib.request


class RPCError(Exception):
    pass


class RPC:
    def __init__(self, url, user, password):
        self.url = url
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
        self.next_id = 0

    def call(self, method, *params):
        self.next_id += 1
        body = json.dumps({"jsonrpc": "1.0", "id": self.next_id, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                reply = json.loads(payload)
            except ValueError:
                raise RPCError(f"{method}: HTTP {error.code} {payload[:200]!r}") from None
        except (urllib.error.URLError, OSError) as error:
            raise RPCError(f"{method}: cannot reach {self.url}: {error}") from None
        if reply.get("error"):
            raise RPCError(f"{method}: {reply['error']}")
        return reply["result"]


def parse_arguments():
    parser = argparse.ArgumentParser(description="Validate a node's chain with libbitcoinkernel (py-bitcoinkernel).")
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL, e.g. http://127.0.0.1:18443")
    parser.add_argument("--user", help="RPC user")
    parser.add_argument("--password", help="RPC password")
    parser.add_argument("--cookie", help="cookie file (user:password), instead of --user/--password")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    arguments = parser.parse_args()
    if arguments.cookie:
        try:
            with open(arguments.cookie) as handle:
                user, _, password = handle.read().strip().partition(":")
        except OSError as error:
            parser.error(f"cannot read the cookie file: {error}")
        arguments.user, arguments.password = user, password
    if arguments.user is None or arguments.password is None:
        parser.error("give --user and --password, or --cookie")
    return arguments


def main():
    arguments = parse_arguments()
    try:
        import pbk
    except ImportError:
        print("validate_chain: the py-bitcoinkernel package (module pbk) is not installed", file=sys.stderr)
        return 2

    rpc = RPC(arguments.rpc, arguments.user, arguments.password)
    try:
        count = rpc.call("getblockcount")
        genesis_hash = rpc.call("getblockhash", 0)
    except RPCError as error:
        print(f"validate_chain: {error}", file=sys.stderr)
        return 2

    # The kernel's log explains rejections ("ConnectBlock ... failed, bad-cb-amount"); keep the recent lines.
    log_lines = []
    pbk.logging_set_options(pbk.LoggingOptions(log_timestamps=False))
    log_connection = pbk.LoggingConnection(cb=lambda message: log_lines.append(message.strip()))
    checked = {}

    def block_checked(_user_data, block, state):
        checked["mode"] = state.validation_mode
        checked["result"] = state.block_validation_result

    callbacks = pbk.ValidationInterfaceCallbacks(block_checked=block_checked)
    with tempfile.TemporaryDirectory(prefix="validate_chain.") as datadir:
        chainman = pbk.load_chainman(datadir, pbk.ChainType.REGTEST, validation_callbacks=callbacks)
        kernel_genesis = str(chainman.get_active_chain().block_tree_entries[0].block_hash)
        if kernel_genesis != genesis_hash:
            print(f"REJECTED height 0: the node's genesis {genesis_hash} is not regtest's {kernel_genesis}")
            return 1
        for height in range(1, count + 1):
            try:
                block_hash = rpc.call("getblockhash", height)
                raw = bytes.fromhex(rpc.call("getblock", block_hash, 0))
            except RPCError as error:
                print(f"validate_chain: {error}", file=sys.stderr)
                return 2
            checked.clear()
            del log_lines[:-50]
            log_start = len(log_lines)
            try:
                block = pbk.Block(raw)
                chainman.process_block(block)
                rejected = None
            except Exception as error:  # ProcessBlockException or a block that does not deserialize
                rejected = str(error)
            tip = chainman.get_active_chain().height
            if rejected is None and tip != height:
                rejected = f"not connected (kernel tip stays at {tip})"
            if rejected is None and checked.get("mode", pbk.ValidationMode.VALID) != pbk.ValidationMode.VALID:
                rejected = f"validation state {checked['mode'].name} / {checked['result'].name}"
            if rejected is not None:
                details = [line for line in log_lines[log_start:] if line]
                print(f"REJECTED height {height} block {block_hash}: {rejected}")
                for line in details[-10:]:
                    print(f"  kernel: {line}")
                return 1
            if not arguments.quiet and (height % 50 == 0 or height == count):
                print(f"ok: {height}/{count} blocks connected")
        final = chainman.get_active_chain()
        tip_hash = str(final.block_tree_entries[final.height].block_hash)
        node_tip = rpc.call("getbestblockhash")
        if tip_hash != node_tip:
            print(f"REJECTED: kernel tip {tip_hash} differs from the node's best block {node_tip}")
            return 1
        del log_connection
    print(f"VALID: all {count} blocks accepted by libbitcoinkernel, tip {node_tip}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
