# The miner's side of job declaration (issue 14, item 3): sv2 proxy --jd-address as the job declarator client, with two
# sv2 mine devices (rate-limited so that regtest blocks come a second apart), its own sv2 tp, and the pool's sv2 pool
# --jd-listen-address. The two embedded nodes follow each other over JSON-RPC (standing in for the peer-to-peer
# network), each with transactions of its own. Full-template mode: jobs are declared (the declarator asks for the
# miner's transactions), set on the pool as custom jobs, blocks with the miner's transactions pay the pool and land on
# both nodes. Coinbase-only mode: custom jobs set with allocation tokens, the pool accepts their shares. Fallback: the
# pool and its declarator stop; the proxy mines solo to its own script on its own node, then returns to the pool when
# it is back. Both chains pass libbitcoinkernel.
source "$SUITE_DIR/helpers.sh"
pool_script="0020$(python3 -c 'import hashlib; print(hashlib.sha256(b"\x51").hexdigest())')"  # the embedded pool's default
solo_script="0014751e76e8199196d454941c45d1b3a323f1433bd6"  # REWARD_ADDRESS

prepare_two_nodes
secret="$("$SV2" keygen | grep -o 'authority_secret_key = "[^"]*"' | cut -d'"' -f2)"
pool_args=(--datadir "$TEST_TMP/pool" --rpc-listen "127.0.0.1:$pool_rpc" --rpc-user u --rpc-password p --generation-rate 5
           --authority-secret-key "$secret" --jd-listen-address "127.0.0.1:$jn_port"
           --follow "http://u:p@127.0.0.1:$miner_rpc" --follow-interval 0.2)
start_pool pool "$pool_port" "${pool_args[@]}"
key="${POOL_URL##*/}"
start_tp miner --datadir "$TEST_TMP/miner" --rpc-listen "127.0.0.1:$miner_rpc" --rpc-user u --rpc-password p --generation-rate 5 \
    --follow "http://u:p@127.0.0.1:$pool_rpc" --follow-interval 0.2
BACKGROUND_PIDS+=("$TP_PID")
tp_port="$TP_PORT"
tp_key="$TP_KEY"
same_tip "$pool_rpc" "$miner_rpc" 60
sleep 2  # both generators add transactions of their own

# start_jdc NAME MODE [ARGS...]: the proxy as job declarator client with two rate-limited devices (sets JDC_PID,
# DEVICE_PIDS); ARGS are the pools and declarators, by default the pool and its declarator.
start_jdc() {
    local port name="$1" mode="$2"
    shift 2
    (( $# > 0 )) || set -- --upstream "$POOL_URL" --jd-address "127.0.0.1:$jn_port/$key"
    port="$(free_port)"
    start_server "$name" 'devices on 127\.0\.0\.1:[0-9]+' proxy --listen-address "127.0.0.1:$port" "$@" \
        --jd-mode "$mode" --tp-address "127.0.0.1:$tp_port" --tp-authority-public-key "$tp_key" \
        --coinbase-reward-script "$REWARD_ADDRESS" --user-identity farm
    JDC_PID=$SERVER_PID
    DEVICE_PIDS=()
    start_miner "$name-alice" --threads 1 --hash-rate-limit 1 --report-interval 1 --user alice "$SERVER_URL"
    DEVICE_PIDS+=("$MINER_PID")
    start_miner "$name-bob" --threads 1 --hash-rate-limit 1 --standard --report-interval 1 --user bob "$SERVER_URL"
    DEVICE_PIDS+=("$MINER_PID")
}
stop_jdc() {
    kill -TERM "${DEVICE_PIDS[@]}" "$JDC_PID"
    wait "$JDC_PID" || fail "sv2 proxy exited with $? after SIGTERM"
    wait "${DEVICE_PIDS[@]}" 2> /dev/null || true
}
# wait_count FILE PATTERN COUNT SECONDS PID
wait_count() {
    local deadline=$(( SECONDS + $4 ))
    while (( SECONDS < deadline )); do
        (( $(count_log "$1" "$2") >= $3 )) && return 0
        kill -0 "$5" 2> /dev/null || break
        sleep 0.3
    done
    tail -n 30 "$1" >&2
    fail "fewer than $3 lines '$2' in $1"
}

# Full-template mode. The first pool in the list (the same pool, named localhost) has a declarator nobody answers at:
# after two failures the proxy moves to the next pool and its declarator.
start_jdc full full-template --upstream "stratum2+tcp://localhost:$pool_port/$key" --jd-address "127.0.0.1:$(free_port)/$key" \
    --upstream "$POOL_URL" --jd-address "127.0.0.1:$jn_port/$key"
wait_for_log full.log 'cannot be reached: trying the next pool' 30 "$JDC_PID"
wait_count pool.log 'pushed block [0-9a-f]+ accepted by the node' 4 90 "$POOL_PID"
wait_count full.log 'the declarator asked for [1-9][0-9]* transactions' 1 30 "$JDC_PID"
assert_contains "$(cat full.log)" "mining for the pool"
assert_contains "$(cat full.log)" "set on the pool as custom job"
# Regtest blocks a second apart race the two nodes and the declarations: stale and superseded ones are expected.
assert_eq "" "$(grep -E 'DeclareMiningJob [0-9]+ refused' pool.log | grep -Ev 'code=(stale-chain-tip|too-many-pending-declarations)' || true)" \
    "declarations refused for other reasons"
stop_jdc
same_tip "$pool_rpc" "$miner_rpc" 30
# Blocks the declarator pushed: on both nodes, with the miner's transactions, paying the pool.
pushed="$(grep -Eo 'pushed block [0-9a-f]+ accepted' pool.log | awk '{print $3}')"
"$python" "$SUITE_DIR/chain.py" "$pool_rpc" payouts 0 > pool-chain.txt
"$python" "$SUITE_DIR/chain.py" "$miner_rpc" payouts 0 > miner-chain.txt
assert_eq "$(cat pool-chain.txt)" "$(cat miner-chain.txt)" "the two chains"
with_transactions=0
for hash in $pushed; do
    line="$(grep " $hash " pool-chain.txt)" || fail "pushed block $hash is not on the chain"
    [[ "$(awk '{print $4}' <<< "$line")" == "$pool_script" ]] || fail "pushed block $hash does not pay the pool: $line"
    (( $(awk '{print $3}' <<< "$line") > 1 )) && with_transactions=$(( with_transactions + 1 ))
done
(( with_transactions >= 1 )) || fail "no pushed block carries transactions"
echo "full-template: $(wc -w <<< "$pushed") blocks pushed, $with_transactions with the miner's transactions"

# Coinbase-only mode: no declarations, custom jobs on allocation tokens, the pool takes their shares.
declarations="$(count_log pool.log 'DeclareMiningJob [0-9]+ accepted')"
start_jdc coinbase coinbase-only
wait_count coinbase.log 'set on the pool as custom job' 3 60 "$JDC_PID"
start_height="$("$python" "$SUITE_DIR/chain.py" "$miner_rpc" tip | awk '{print $1}')"

# Fallback: the pool and its declarator stop; the proxy mines solo on its own node, then returns.
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool exited with $? after SIGTERM"
wait_count coinbase.log 'the pool accepted [1-9][0-9]* shares' 1 10 "$JDC_PID"
wait_count coinbase.log 'mining solo to the coinbase reward script: the (pool|job declarator) connection ended' 1 10 "$JDC_PID"
solo_from="$("$python" "$SUITE_DIR/chain.py" "$miner_rpc" tip | awk '{print $1}')"
deadline=$(( SECONDS + 60 ))
while (( $("$python" "$SUITE_DIR/chain.py" "$miner_rpc" payouts "$solo_from" | grep -c " $solo_script") < 3 )); do
    (( SECONDS < deadline )) || fail "no solo blocks on the miner's node"
    sleep 0.5
done
start_pool pool2 "$pool_port" "${pool_args[@]}"
POOL_PID=$SERVER_PID
wait_count coinbase.log 'mining for the pool' 2 60 "$JDC_PID"
before="$(count_log coinbase.log 'set on the pool as custom job')"
wait_count coinbase.log 'set on the pool as custom job' $(( before + 2 )) 60 "$JDC_PID"
stop_jdc
assert_eq "$declarations" "$(count_log pool.log 'DeclareMiningJob [0-9]+ accepted')" "declarations in coinbase-only mode"
assert_eq 0 "$(count_log pool2.log 'DeclareMiningJob')" "declarations in coinbase-only mode after the restart"
same_tip "$pool_rpc" "$miner_rpc" 30
"$python" "$SUITE_DIR/chain.py" "$miner_rpc" payouts "$start_height" > after.txt
grep -q " $solo_script" after.txt || fail "no solo block"
tail -n 3 after.txt | grep -q " $pool_script" || fail "no block for the pool after its return: $(tail -n 3 after.txt)"

validate_chain "$pool_rpc"
validate_chain "$miner_rpc"
