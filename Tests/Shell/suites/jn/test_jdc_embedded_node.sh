# sv2 proxy --jd-address without --tp-address (issue 14, item 3, "or its own embedded node"): the miner's template
# provider is the embedded regtest node, in-process, with its datadir, JSON-RPC and --follow of the pool's node, while
# the pool's node follows it back. A rate-limited sv2 mine device mines the declared jobs; the declarator asks for the
# miner's transactions; pushed blocks land on both nodes, which share one chain that passes libbitcoinkernel. SIGTERM
# stops the proxy and its node (exit 0), and the node's chain is in its datadir when it starts again without following.
source "$SUITE_DIR/helpers.sh"

prepare_two_nodes
start_pool pool "$pool_port" --datadir "$TEST_TMP/pool" --rpc-listen "127.0.0.1:$pool_rpc" --rpc-user u --rpc-password p \
    --generation-rate 5 --jd-listen-address "127.0.0.1:$jn_port" --follow "http://u:p@127.0.0.1:$miner_rpc" --follow-interval 0.2
key="${POOL_URL##*/}"

proxy_args=(--listen-address "127.0.0.1:$(free_port)" --upstream "$POOL_URL" --jd-address "127.0.0.1:$jn_port/$key"
            --coinbase-reward-script "$REWARD_ADDRESS" --datadir "$TEST_TMP/miner" --rpc-listen "127.0.0.1:$miner_rpc"
            --rpc-user u --rpc-password p --generation-rate 5)
start_server farm 'devices on 127\.0\.0\.1:[0-9]+' proxy "${proxy_args[@]}" --follow "http://u:p@127.0.0.1:$pool_rpc" --follow-interval 0.2
proxy_pid=$SERVER_PID
assert_contains "$(cat farm.log)" "job declarator client (full-template)"
same_tip "$pool_rpc" "$miner_rpc" 30
assert_contains "$(cat farm.log)" "no tp_address: templates from the embedded regtest node (datadir $TEST_TMP/miner)"
start_miner alice --threads 1 --hash-rate-limit 1 --report-interval 1 --user alice "$SERVER_URL"
wait_for_log farm.log 'mining for the pool' 30 "$proxy_pid"
deadline=$(( SECONDS + 60 ))
until (( $(count_log pool.log 'pushed block [0-9a-f]+ accepted by the node') >= 3 )); do
    (( SECONDS < deadline )) || { tail -n 30 farm.log >&2; fail "fewer than 3 pushed blocks accepted by the pool's node"; }
    kill -0 "$proxy_pid" 2> /dev/null || fail "sv2 proxy exited"
    sleep 0.3
done
wait_for_log farm.log 'the declarator asked for [1-9][0-9]* transactions' 30 "$proxy_pid"
# The templates came from the proxy's own node, served to its one client.
grep -Eq 'template [0-9]+: height [0-9]+, .* to 1 client\(s\)' farm.log || fail "the embedded node served no template"
kill -TERM "$MINER_PID" 2> /dev/null || true
same_tip "$pool_rpc" "$miner_rpc" 30
tip="$("$python" "$SUITE_DIR/chain.py" "$miner_rpc" tip)"
kill -TERM "$proxy_pid"
wait "$proxy_pid" || fail "sv2 proxy exited with $? after SIGTERM"

# Restarted on its datadir without --follow, the proxy's node has the chain it had.
start_server farm2 'devices on 127\.0\.0\.1:[0-9]+' proxy "${proxy_args[@]}"
assert_eq "$tip" "$("$python" "$SUITE_DIR/chain.py" "$miner_rpc" tip)" "the proxy's node's tip after a restart"
assert_contains "$(cat farm2.log)" "it follows no node, so its chain is its own"
pushed="$(grep -Eo 'pushed block [0-9a-f]+ accepted' pool.log | awk '{print $3}')"
"$python" "$SUITE_DIR/chain.py" "$miner_rpc" payouts 0 > miner-chain.txt
for hash in $pushed; do
    grep -q " $hash " miner-chain.txt || fail "pushed block $hash is not on the proxy's node"
done
validate_chain "$miner_rpc"
