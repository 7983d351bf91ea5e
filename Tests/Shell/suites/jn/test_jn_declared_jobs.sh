# `sv2 jn` against jd_client.py, a job declarator client written from spec 6 (issue 14, items 1 and 2): the pool's node
# (sv2 pool with --rpc-listen) and the miner's node (sv2 tp --follow, with transactions of its own). The client
# declares a job of the miner's template in full-template mode, answers ProvideMissingTransactions, sets the job on
# the pool with the declared-job token, finds a block with hashlib and pushes it: the block lands on the pool's node
# with the miner's transactions. Then coinbase-only mode, and the refusals (forged and expired tokens, a coinbase
# without the pool's output, a coinbase for another height, a wrong transaction for a wtxid, an unknown prev_hash),
# each answered on a connection that goes on. Once with the declarator in-process (sv2 pool --jd-listen-address), once
# standalone (sv2 jn --bitcoind on the pool's RPC). Both chains pass libbitcoinkernel.
source "$SUITE_DIR/helpers.sh"
key="$(python3 -c 'print("5a" * 32)')"
script="raw(0020$(python3 -c 'import hashlib; print(hashlib.sha256(b"\x51").hexdigest())'))"

pool_port="$(free_port)"
pool_rpc="$(free_port)"
jn_port="$(free_port)"
start_pool pool "$pool_port" --datadir "$TEST_TMP/pool" --rpc-listen "127.0.0.1:$pool_rpc" --rpc-user u --rpc-password p \
    --generation-rate 5 --coinbase-reward-script "$script" --jd-token-key "$key" --jd-listen-address "127.0.0.1:$jn_port"
wait_for_log pool.log "Job Declaration on 127\.0\.0\.1:$jn_port" 30 "$POOL_PID"
miner_rpc="$(free_port)"
start_tp miner --datadir "$TEST_TMP/miner" --rpc-listen "127.0.0.1:$miner_rpc" --rpc-user u --rpc-password p --generation-rate 5 \
    --follow "http://u:p@127.0.0.1:$pool_rpc" --follow-interval 0.2
BACKGROUND_PIDS+=("$TP_PID")
for _ in $(seq 150); do
    [[ "$(block_count "$miner_rpc")" == "$(block_count "$pool_rpc")" ]] && break
    sleep 0.2
done
assert_eq "$(block_count "$pool_rpc")" "$(block_count "$miner_rpc")" "the miner's node's height"
sleep 2  # both generators add transactions of their own

run_client() { # run_client JN_PORT LOG
    timeout 120 "$python" "$SUITE_DIR/jd_client.py" "$1" "$pool_port" "$miner_rpc" "$pool_rpc" "$key" > "$2" 2>&1 \
        || { cat "$2" >&2; fail "jd_client.py against port $1 failed"; }
    cat "$2"
    grep -q '^OK$' "$2" || fail "jd_client.py did not finish"
    for refusal in 'a forged token: invalid-mining-job-token' 'an expired token: stale-mining-job-token' \
        "a coinbase without the pool's output: invalid-coinbase" 'another height (not on the tip): stale-chain-tip' \
        'a wrong transaction for a wtxid: invalid-transaction' 'unknown prev_hash: invalid-prev-hash'; do
        grep -qF "$refusal" "$2" || fail "no refusal '$refusal' in $2"
    done
    grep -Eq '[1-9][0-9]* of them asked for' "$2" || fail "no ProvideMissingTransactions round trip"
}

run_client "$jn_port" inprocess.out
assert_contains "$(cat pool.log)" "pushed block"

# Standalone, on the pool's node over its RPC.
"$SV2" jn --listen-address 127.0.0.1:0 --bitcoind "http://u:p@127.0.0.1:$pool_rpc" --coinbase-reward-script "$script" --jd-token-key "$key" > jn.log 2>&1 &
jn_pid=$!
BACKGROUND_PIDS+=("$jn_pid")
wait_for_log jn.log 'Job Declaration on 127\.0\.0\.1:[0-9]+' 30 "$jn_pid"
assert_not_contains "$(cat jn.log)" "u:p@" "sv2 jn's log (credentials)"
standalone_port="$(grep -o 'Job Declaration on 127\.0\.0\.1:[0-9]*' jn.log | head -n 1 | cut -d: -f2)"
run_client "$standalone_port" standalone.out
wait_for_log jn.log 'pushed block [0-9a-f]+ accepted by the node' 10 "$jn_pid"
kill -TERM "$jn_pid"
wait "$jn_pid" || fail "sv2 jn exited with $? after SIGTERM"

validate_chain "$pool_rpc"
