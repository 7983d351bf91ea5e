# The proxy in front of a Stratum V1 pool, all real processes: sv2 pool (embedded regtest node) <- sv2 translate (its
# Sv1 server plays the existing Sv1 pool) <- sv2 proxy --upstream stratum+tcp:// <- two standard CPU miners with their
# own user identities. Shares are accepted end to end, blocks reach the node and the translator sees both workers;
# the translator goes away and comes back while the miners stay on the proxy; the chain passes libbitcoinkernel.
# Then a scripted Sv1 pool with odd but legal traffic (sv1_pool_script.py: string ids, set_difficulty between jobs,
# set_extranonce mid-session, each common reject, client.reconnect) checks what each becomes on the Sv2 side.
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"

start_keyed_pool pool --shares-per-minute 30

sv1_port="$(free_port)"
# start_translate NAME: sv2 translate on the Sv1 port, serving as the Stratum V1 pool; sets TRANSLATE_PID.
start_translate() {
    "$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "$POOL_URL" --shares-per-minute 30 > "$1.log" 2>&1 &
    TRANSLATE_PID=$!
    BACKGROUND_PIDS+=("$TRANSLATE_PID")
    wait_for_log "$1.log" 'upstream channel [0-9]+ open' 30 "$TRANSLATE_PID"
}
start_translate translate
start_proxy proxy "$(free_port)" --upstream "stratum+tcp://127.0.0.1:$sv1_port"
pids=()
for user in alice bob; do
    start_miner "$user" --threads 1 --standard --report-interval 1 --user "$user" "$PROXY_URL"
    pids+=("$MINER_PID")
done
wait_accepted_beyond 60 alice.log=0 bob.log=0
wait_blocks 3 60
for user in alice bob; do
    assert_eq 1 "$(count_log translate.log "miner authorized.* user=$user")" "the translator's worker $user"
done
assert_eq 2 "$(count_log translate.log 'miner authorized')" "Sv1 sessions the translator saw (one per user)"
# Every share is a block on regtest, so shares in flight when a block changes the job are stale; nothing else is
# rejected.
assert_eq 0 "$(grep 'the pool rejected a share' proxy.log | grep -vc 'code=stale-share' || true)" "shares rejected other than stale"

# The Sv1 pool goes away and comes back: the miners stay on the proxy and get work and accepted shares again.
kill -TERM "$TRANSLATE_PID"
wait "$TRANSLATE_PID" || fail "sv2 translate did not exit 0"
sleep 2
for pid in "${pids[@]}"; do kill -0 "$pid" || fail "a miner exited when the Sv1 pool went away"; done
counts=("alice.log=$(accepted_count alice.log)" "bob.log=$(accepted_count bob.log)")
start_translate translate2
wait_accepted_beyond 60 "${counts[@]}"
for user in alice bob; do
    assert_eq 1 "$(count_log "$user.log" 'connecting to')" "$user's connections (it stayed on the proxy)"
done

for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" || fail "sv2 mine did not exit 0"; done
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "sv2 proxy did not exit 0 on SIGTERM"
kill -TERM "$TRANSLATE_PID"
wait "$TRANSLATE_PID" || true
ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$RPC_PORT" --user u --password p
assert_contains "$OUT" "VALID: all"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0 on SIGTERM"

ASSERT_TIMEOUT=90 assert_exit 0 "$python" "$SUITE_DIR/sv1_pool_script.py" "$SV2" script-proxy.log
assert_contains "$OUT" "ok: the pool's true, errors 21/22/23 and false became Success"
assert_contains "$OUT" "ok: client.reconnect followed, the device kept its channel and got a clean job"
assert_contains "$OUT" "ok: the proxy exited 0"
