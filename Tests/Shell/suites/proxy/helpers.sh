# Helpers for the proxy suite: sv2 pool, sv2 proxy and sv2 mine in the background on loopback ports (the pool
# suite's helpers, plus the proxy). Every process started here is killed when the test exits.

source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"

# start_proxy NAME PORT ARGS...: `sv2 proxy` on 127.0.0.1:PORT with output in NAME.log; waits until it serves;
# sets PROXY_PID and PROXY_URL (the URL devices connect to, with the proxy's authority key).
start_proxy() {
    local name="$1" port="$2"
    shift 2
    start_server "$name" 'devices on 127\.0\.0\.1:[0-9]+' proxy --listen-address "127.0.0.1:$port" "$@"
    PROXY_PID=$SERVER_PID
    PROXY_URL=$SERVER_URL
}

# start_keyed_pool NAME ARGS...: `sv2 pool` on its embedded regtest node with JSON-RPC (user u, password p), a fresh
# authority key and free ports, so that it can be restarted as it was with `start_pool NAME2 "$POOL_PORT"
# "${POOL_ARGS[@]}"`; sets POOL_PORT, RPC_PORT, POOL_ARGS and START_HEIGHT (the node's height before mining).
start_keyed_pool() {
    local name="$1" secret
    shift
    secret="$("$SV2" keygen | grep -o 'authority_secret_key = "[^"]*"' | cut -d'"' -f2)"
    RPC_PORT="$(free_port)"
    POOL_PORT="$(free_port)"
    POOL_ARGS=(--datadir "$TEST_TMP/data" --generation-rate 0 --rpc-listen "127.0.0.1:$RPC_PORT" --rpc-user u --rpc-password p
               --authority-secret-key "$secret" "$@")
    start_pool "$name" "$POOL_PORT" "${POOL_ARGS[@]}"
    START_HEIGHT="$(block_count "$RPC_PORT")"
}

# wait_blocks COUNT SECONDS: until the node has COUNT blocks above START_HEIGHT; fails with the logs' tails after SECONDS.
wait_blocks() {
    local deadline=$(( SECONDS + $2 )) blocks=0
    while (( SECONDS < deadline )); do
        blocks=$(( $(block_count "$RPC_PORT") - START_HEIGHT ))
        (( blocks >= $1 )) && return 0
        sleep 0.5
    done
    tail -n 20 pool.log proxy.log >&2
    fail "only $blocks blocks in $2 s (wanted $1)"
}

# wait_accepted_beyond SECONDS FILE=COUNT...: waits until every miner log FILE reports more than COUNT accepted
# shares; fails naming the first that does not within SECONDS.
wait_accepted_beyond() {
    local deadline=$(( SECONDS + $1 )) pair done
    shift
    while (( SECONDS < deadline )); do
        done=1
        for pair in "$@"; do (( $(accepted_count "${pair%%=*}") > ${pair##*=} )) || done=0; done
        (( done )) && return 0
        sleep 0.5
    done
    for pair in "$@"; do
        (( $(accepted_count "${pair%%=*}") > ${pair##*=} )) || { tail -n 20 "${pair%%=*}" >&2; fail "${pair%%=*}: no more than ${pair##*=} shares accepted"; }
    done
}
