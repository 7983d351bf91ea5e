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
