# `sv2 tp --follow`: a second embedded node follows the first one's chain over JSON-RPC (the two nodes of a pool and a
# miner who builds his own templates, issue 14): it starts from genesis without bootstrap blocks of its own, takes the
# first node's blocks as they come, and keeps a mempool of its own from its own generator (transactions the first
# node never saw). Its chain passes libbitcoinkernel. A block of its own that the other chain lacks is a divergence:
# logged once, and following stops rather than reorganising; so is a datadir that already holds another chain. A bad
# --follow URL is a configuration error that does not echo the password.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"
# rpc PORT METHOD [PARAMS_JSON]: the result of a JSON-RPC call as JSON.
rpc() {
    python3 - "$@" <<'PY'
import base64, json, sys, urllib.request
port, method = sys.argv[1], sys.argv[2]
params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else []
request = urllib.request.Request(
    f"http://127.0.0.1:{port}", data=json.dumps({"id": 1, "method": method, "params": params}).encode(),
    headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode(), "Content-Type": "application/json"})
print(json.dumps(json.loads(urllib.request.urlopen(request, timeout=10).read())["result"]))
PY
}
address="bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
# same_tip: waits until both nodes report the same best block; fails after 30 s.
same_tip() {
    for _ in $(seq 150); do
        [[ "$(rpc "$rpc_a" getbestblockhash)" == "$(rpc "$rpc_b" getbestblockhash)" ]] && return 0
        sleep 0.2
    done
    tail -n 20 b.log >&2
    fail "the follower did not reach the tip $(rpc "$rpc_a" getbestblockhash) (it has $(rpc "$rpc_b" getbestblockhash))"
}

rpc_a="$(free_port)"
start_tp a --datadir "$TEST_TMP/a" --rpc-listen "127.0.0.1:$rpc_a" --rpc-user u --rpc-password p --generation-rate 5
BACKGROUND_PIDS+=("$TP_PID")
rpc_b="$(free_port)"
start_tp b --datadir "$TEST_TMP/b" --rpc-listen "127.0.0.1:$rpc_b" --rpc-user u --rpc-password p --generation-rate 5 \
    --follow "http://u:p@127.0.0.1:$rpc_a" --follow-interval 0.2
b_pid=$TP_PID
BACKGROUND_PIDS+=("$b_pid")
same_tip
assert_eq "$(rpc "$rpc_a" getblockcount)" "$(rpc "$rpc_b" getblockcount)" "block counts"
grep -q 'following the chain of http://127.0.0.1:' b.log || fail "the follower did not say whom it follows"
assert_not_contains "$(cat b.log)" "u:p@" "the follower's log (credentials)"

# Blocks made on the first node, with its transactions, reach the follower.
rpc "$rpc_a" generatetoaddress "[3, \"$address\"]" > /dev/null
same_tip
(( $(count_log b.log 'followed block') >= 113 )) || fail "fewer than 113 blocks followed"

# Each mempool has transactions the other has not: the follower generates its own.
sleep 2
only_b="$(python3 -c 'import json, sys; a = set(json.loads(sys.argv[1])); print(len([t for t in json.loads(sys.argv[2]) if t not in a]))' \
    "$(rpc "$rpc_a" getrawmempool)" "$(rpc "$rpc_b" getrawmempool)")"
(( only_b > 0 )) || fail "the follower's mempool has nothing of its own"
echo "transactions only the follower has: $only_b"

ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$rpc_b" --user u --password p

# A block of the follower's own, then one on the first node: the chains diverge; the follower says so once and stays.
rpc "$rpc_b" generatetoaddress "[1, \"$address\"]" > /dev/null
rpc "$rpc_a" generatetoaddress "[2, \"$address\"]" > /dev/null
wait_for_log b.log 'the chains diverged' 20 "$b_pid"
sleep 1
assert_eq 1 "$(count_log b.log 'the chains diverged')" "divergence reports"
kill -0 "$b_pid" || fail "the follower died on divergence"

# A datadir with a chain of its own (the first node's bootstrap, not followed) diverges at once, at the same height.
start_tp c --datadir "$TEST_TMP/c-own" --generation-rate 0
stop_tp c
start_tp c --datadir "$TEST_TMP/c-own" --follow "http://u:p@127.0.0.1:$rpc_a" --follow-interval 0.2
BACKGROUND_PIDS+=("$TP_PID")
wait_for_log c.log 'the chains diverged' 20 "$TP_PID"
assert_contains "$(cat c.log)" "start from a fresh --datadir"

assert_exit "$SV2_EXIT_BAD_INPUT" "$SV2" tp --datadir "$TEST_TMP/d" --follow "https://u:secret@127.0.0.1:$rpc_a"
assert_contains "$ERR" "expected http://USER:PASSWORD@HOST:PORT"
assert_not_contains "$ERR" "secret" "the error (password)"
