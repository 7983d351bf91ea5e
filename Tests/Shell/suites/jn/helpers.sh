# Helpers of the job declaration tests, whose embedded nodes serve JSON-RPC with user u and password p.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs coincurve and py-bitcoinkernel)"

# prepare_two_nodes: the pool's node (datadir $TEST_TMP/pool) gets its coinbase-maturity blocks, since a following
# node starts empty; sets pool_port, pool_rpc, jn_port and miner_rpc to free ports.
prepare_two_nodes() {
    start_tp bootstrap --datadir "$TEST_TMP/pool" --generation-rate 0
    stop_tp bootstrap
    pool_port="$(free_port)"
    pool_rpc="$(free_port)"
    jn_port="$(free_port)"
    miner_rpc="$(free_port)"
}

# same_tip RPC_PORT RPC_PORT SECONDS: waits until the two nodes are on one tip.
same_tip() {
    local deadline=$(( SECONDS + $3 )) first
    while (( SECONDS < deadline )); do
        first="$("$python" "$SUITE_DIR/chain.py" "$1" tip || true)"
        [[ -n "$first" && "$first" == "$("$python" "$SUITE_DIR/chain.py" "$2" tip || true)" ]] && return 0
        sleep 0.3
    done
    fail "the two nodes are not on one tip: $("$python" "$SUITE_DIR/chain.py" "$1" tip) and $("$python" "$SUITE_DIR/chain.py" "$2" tip)"
}

# validate_chain RPC_PORT: the node's chain passes libbitcoinkernel.
validate_chain() {
    ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$1" --user u --password p
}
