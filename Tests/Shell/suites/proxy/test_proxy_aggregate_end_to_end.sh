# The farm proxy in aggregate mode with the real binaries on loopback: sv2 pool (embedded regtest node), sv2 proxy
# --channel-mode aggregate, two standard CPU miners and one extended. The pool sees one extended channel; the devices
# get their own channels inside it, their shares are answered by the proxy and blocks reach the pool. Misbehaving
# devices (garbage instead of a handshake, a broken frame, shares for unknown jobs and channels) are dealt with alone
# while the miners keep getting shares accepted. The pool restarts: the miners stay on the proxy and their shares flow
# again. Every block of the chain then passes libbitcoinkernel.
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"

start_keyed_pool pool --shares-per-minute 30
proxy_port="$(free_port)"
start_proxy proxy "$proxy_port" --upstream "$POOL_URL" --channel-mode aggregate --shares-per-minute 60 --user-identity farm

pids=()
start_miner alice --threads 1 --standard --report-interval 1 --user alice "$PROXY_URL"
pids+=("$MINER_PID")
start_miner bob --threads 1 --standard --report-interval 1 --user bob "$PROXY_URL"
pids+=("$MINER_PID")
start_miner carol --threads 1 --extended --report-interval 1 --user carol "$PROXY_URL"
pids+=("$MINER_PID")
wait_accepted_beyond 60 alice.log=0 bob.log=0 carol.log=0

ASSERT_TIMEOUT=60 assert_exit 0 "$python" "$SUITE_DIR/bad_devices.py" "$proxy_port"
assert_contains "$OUT" "garbage: closed"
assert_contains "$OUT" "bad frame: closed"
assert_contains "$OUT" "bad shares: invalid-channel-id, invalid-job-id, still open"
assert_contains "$OUT" "unknown extensions: still open"
wait_accepted_beyond 30 "alice.log=$(accepted_count alice.log)" "bob.log=$(accepted_count bob.log)" "carol.log=$(accepted_count carol.log)"

wait_blocks 5 60
assert_eq 1 "$(count_log pool.log 'mining connection set up')" "connections the pool saw"
assert_eq 1 "$(count_log pool.log 'extended channel [0-9]+ for "farm"')" "the proxy's extended channel"
assert_eq 0 "$(count_log pool.log 'for "(alice|bob|carol)"')" "device channels the pool saw"
assert_contains "$(cat proxy.log)" "forwarded upstream"
# Only stale shares are refused (on regtest every block is a new tip, and a share in flight may arrive after it).
for user in alice bob carol; do
    assert_eq "" "$(grep -E 'rejected: ' "$user.log" | grep -v 'rejected: stale-share' || true)" "$user's rejections other than stale shares"
done

# The pool goes away and comes back: the miners stay on the proxy, and their shares are accepted again.
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0 on SIGTERM"
sleep 2
for pid in "${pids[@]}"; do kill -0 "$pid" || fail "a miner exited when the pool went away"; done
counts=()
for user in alice bob carol; do counts+=("$user.log=$(accepted_count "$user.log")"); done
start_pool pool2 "$POOL_PORT" "${POOL_ARGS[@]}"
wait_accepted_beyond 60 "${counts[@]}"
for user in alice bob carol; do
    assert_eq 1 "$(count_log "$user.log" 'connecting to')" "$user's connections (it stayed on the proxy)"
done
wait_for_log pool2.log 'block found by "farm"' 60 "$POOL_PID"

for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" || fail "sv2 mine did not exit 0"; done
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "sv2 proxy did not exit 0 on SIGTERM"
assert_contains "$(cat proxy.log)" "upstream accepted"
ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$RPC_PORT" --user u --password p
assert_contains "$OUT" "VALID: all"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0 on SIGTERM"
