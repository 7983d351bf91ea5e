# The farm proxy in group mode with the real binaries on loopback: sv2 pool (embedded regtest node), sv2 proxy, three
# standard CPU miners and one extended. Shares are accepted and blocks found through the proxy; the pool sees one
# connection carrying the four devices' channels under their own user identities, the standard ones in one group.
# The pool is killed: the miners stay connected to the proxy; it comes back on its port and shares flow again. Every
# block of the chain then passes libbitcoinkernel.
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"

start_keyed_pool pool --shares-per-minute 30 --log-level debug
proxy_port="$(free_port)"
start_proxy proxy "$proxy_port" --upstream "$POOL_URL"

pids=()
for user in alice bob carol; do
    start_miner "$user" --threads 1 --standard --report-interval 1 --user "$user" "$PROXY_URL"
    pids+=("$MINER_PID")
done
start_miner dave --threads 1 --extended --report-interval 1 --user dave "$PROXY_URL"
pids+=("$MINER_PID")

wait_accepted_beyond 60 alice.log=0 bob.log=0 carol.log=0 dave.log=0
wait_blocks 8 60

# Misbehaving devices are dealt with alone: a bad share goes to the pool and its error comes back to the device.
ASSERT_TIMEOUT=60 assert_exit 0 "$python" "$SUITE_DIR/bad_devices.py" "$proxy_port"
assert_contains "$OUT" "garbage: closed"
assert_contains "$OUT" "bad frame: closed"
assert_contains "$OUT" "bad shares: invalid-channel-id, invalid-job-id, still open"
assert_contains "$OUT" "unknown extensions: still open"
# The channel message of the unknown extension reached the pool (which discards it, as an endpoint must); the one for
# the proxy's own connection did not.
wait_for_log pool.log 'discarded a message of an unknown extension type .*extension_type=0x4242' 10 "$POOL_PID"
assert_eq 1 "$(count_log pool.log 'discarded a message of an unknown extension type')" "unknown-extension frames forwarded"

# One connection upstream, the devices' own identities, the standard channels in one group.
assert_eq 1 "$(count_log pool.log 'mining connection set up')" "connections the pool saw"
for user in alice bob carol; do
    assert_contains "$(cat pool.log)" "for \"$user\" at" "the pool's log"
done
groups="$(grep -Eo 'standard channel [0-9]+ for "(alice|bob|carol)" at .* in group [0-9]+' pool.log | grep -Eo 'in group [0-9]+' | sort -u)"
[[ "$groups" =~ ^in\ group\ [0-9]+$ ]] || fail "the standard channels are not in one group: $groups"
assert_contains "$(grep 'for "dave"' pool.log)" "extended channel"
assert_contains "$(cat pool.log)" "block found by \"dave\""

# The pool goes away: the miners stay on the proxy; the pool returns and shares flow again.
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0 on SIGTERM"
sleep 2
for pid in "${pids[@]}"; do kill -0 "$pid" || fail "a miner exited when the pool went away"; done
counts=()
for user in alice bob carol dave; do counts+=("$user.log=$(accepted_count "$user.log")"); done
start_pool pool2 "$POOL_PORT" "${POOL_ARGS[@]}"
wait_accepted_beyond 60 "${counts[@]}"
for user in alice bob carol dave; do
    assert_eq 1 "$(count_log "$user.log" 'connecting to')" "$user's connections (it stayed on the proxy)"
done
assert_eq 1 "$(count_log pool2.log 'mining connection set up')" "connections the restarted pool saw"
assert_contains "$(cat pool2.log)" "block found by"

for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" || fail "sv2 mine did not exit 0"; done
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "sv2 proxy did not exit 0 on SIGTERM"
assert_not_contains "$(cat proxy.log)" "proxy: error:"
assert_contains "$(cat proxy.log)" "opening the devices' 4 channel(s) upstream"
ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$RPC_PORT" --user u --password p
assert_contains "$OUT" "VALID: all"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0 on SIGTERM"
