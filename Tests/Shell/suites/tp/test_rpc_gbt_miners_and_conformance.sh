# Real-world clients on sv2 tp's JSON-RPC: getblocktemplate solo miners written as cpuminer and ckpool are (coinbase
# without a witness, the template's default_witness_commitment; ckpool's bare-LF HTTP; a pre-segwit miner without a
# commitment) get every block accepted, each submitblock is logged with its result, and the chain passes
# libbitcoinkernel; then every method a pool server needs answers with Bitcoin Core's fields, types and error codes
# (rpc_conformance.py: bad parameters, unknown methods, batches, keep-alive, JSON-RPC 1.0 and 2.0, bare-LF headers).
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"
rpc_port="$(free_port)"
start_tp tp --datadir "$TEST_TMP/data" --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p --generation-rate 20
trap 'kill -9 "$TP_PID" 2> /dev/null || true' EXIT
rpc=(--port "$rpc_port" --user u --password p)

# Wait for witness transactions in the mempool, so that the blocks commit to them.
for _ in $(seq 50); do
    python3 - "$rpc_port" <<'PY' && break
import base64, json, sys, urllib.request
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/", data=b'{"method":"getmempoolinfo","params":[],"id":1}',
                                 headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode()})
sys.exit(0 if json.load(urllib.request.urlopen(request))["result"]["size"] >= 5 else 1)
PY
    sleep 0.2
done

ASSERT_TIMEOUT=120 assert_exit 0 python3 "$SUITE_DIR/gbt_miner.py" "${rpc[@]}" --blocks 3
assert_contains "$OUT" "all 3 block(s) accepted"
grep -Eq 'block 1/3: .*\(([1-9][0-9]*) of \1 transactions\)' <<< "$OUT" || fail "the first block did not carry the mempool's transactions"
ASSERT_TIMEOUT=120 assert_exit 0 python3 "$SUITE_DIR/gbt_miner.py" "${rpc[@]}" --blocks 2 --bare-lf
assert_contains "$OUT" "all 2 block(s) accepted"
ASSERT_TIMEOUT=120 assert_exit 0 python3 "$SUITE_DIR/gbt_miner.py" "${rpc[@]}" --blocks 2 --no-commitment
assert_contains "$OUT" "all 2 block(s) accepted"
(( $(grep -c 'submitblock: block [0-9a-f]\{64\} accepted' tp.log) == 7 )) || { cat tp.log >&2; fail "not every submitblock was logged"; }

# A block the node refuses: its reason is the answer and in the log.
ASSERT_TIMEOUT=30 assert_exit 0 python3 - "$rpc_port" <<'PY'
import base64, json, sys, urllib.request
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/", data=json.dumps(
    {"method": "submitblock", "params": ["00" * 80 + "0101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0151ffffffff0100000000000000000151" + "00000000"], "id": 1}).encode(),
    headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode()})
print(json.load(urllib.request.urlopen(request))["result"])
PY
grep -q "submitblock: block [0-9a-f]\{64\} rejected: $OUT" tp.log || { tail -n 5 tp.log >&2; fail "the rejected block ($OUT) was not logged with its reason"; }

ASSERT_TIMEOUT=120 assert_exit 0 python3 "$SUITE_DIR/rpc_conformance.py" "${rpc[@]}"
assert_contains "$OUT" "checks passed"

ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$rpc_port" --user u --password p
assert_contains "$OUT" "VALID: all"
stop_tp tp
