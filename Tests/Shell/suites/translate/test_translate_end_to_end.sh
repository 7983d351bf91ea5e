# sv2 tp + sv2 pool + sv2 translate + three Sv1 CPU miners (sv2 mine --cpu stratum+tcp://…) on loopback: shares are
# accepted upstream and blocks connected; the pool is killed and restarted on the same port and key: the Sv1 miners
# stay connected and mine again within seconds of its return; every block passes libbitcoinkernel.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"

rpc_port="$(free_port)"
start_tp tp --datadir "$TEST_TMP/data" --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p
BACKGROUND_PIDS+=("$TP_PID")
start_height="$(block_count "$rpc_port")"
keys="$("$SV2" keygen)"
secret="$(grep -o 'authority_secret_key = "[^"]*"' <<< "$keys" | cut -d'"' -f2)"
pool_port="$(free_port)"
pool_args=(--tp-address "127.0.0.1:$TP_PORT" --tp-authority-public-key "$TP_KEY" --authority-secret-key "$secret"
           --coinbase-reward-script "$REWARD_ADDRESS" --shares-per-minute 30)
start_pool pool "$pool_port" "${pool_args[@]}"

sv1_port="$(free_port)"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "$POOL_URL" --user-identity farm \
    --initial-difficulty 0.001 --min-difficulty 0.0001 --shares-per-minute 30 > translate.log 2>&1 &
translate_pid=$!
BACKGROUND_PIDS+=("$translate_pid")
wait_for_log translate.log 'upstream channel [0-9]+ open' 30 "$translate_pid"
miners=()
for name in m1 m2 m3; do
    start_miner "$name" --threads 1 --report-interval 1 --user "farm.$name" "stratum+tcp://127.0.0.1:$sv1_port"
    miners+=("$MINER_PID")
done

deadline=$(( SECONDS + 60 ))
while (( SECONDS < deadline )); do
    blocks=$(( $(block_count "$rpc_port") - start_height ))
    (( blocks >= 5 && $(accepted_count m1.log) > 0 && $(accepted_count m2.log) > 0 && $(accepted_count m3.log) > 0 )) && break
    sleep 1
done
for name in m1 m2 m3; do
    (( $(accepted_count "$name.log") > 0 )) || { tail -n 20 "$name.log" translate.log >&2; fail "$name: no accepted share"; }
done
(( blocks >= 5 )) || { tail -n 20 translate.log pool.log >&2; fail "only $blocks blocks through the translator"; }
assert_contains "$(cat pool.log)" 'block found by "farm"'

# The pool goes away for a few seconds: the miners stay connected to the translator.
kill -9 "$POOL_PID"
sleep 4
kill -0 "$translate_pid" || fail "the translator died with the pool"
for pid in "${miners[@]}"; do kill -0 "$pid" || fail "a miner died while the pool was away"; done
assert_not_contains "$(cat m1.log m2.log m3.log)" "disconnected" "miner logs while the pool was away"
before=()
for name in m1 m2 m3; do before+=("$(accepted_count "$name.log")"); done
start_pool pool2 "$pool_port" "${pool_args[@]}"
back=$SECONDS
for _ in $(seq 100); do
    (( $(count_log pool2.log 'block found by "farm"') > 0 )) && break
    sleep 0.2
done
(( $(count_log pool2.log 'block found by "farm"') > 0 )) || { tail -n 30 translate.log >&2; fail "no block through the translator after the pool came back"; }
(( SECONDS - back <= 20 )) || fail "mining resumed $(( SECONDS - back )) s after the pool's return"
sleep 2
index=0
for name in m1 m2 m3; do
    (( $(accepted_count "$name.log") > before[index] )) || { tail -n 10 "$name.log" >&2; fail "$name is not mining after the pool's return"; }
    index=$(( index + 1 ))
done

for pid in "${miners[@]}"; do kill -TERM "$pid"; wait "$pid" || fail "sv2 mine did not exit 0"; done
kill -TERM "$translate_pid"
wait "$translate_pid" || fail "sv2 translate did not exit 0"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || true
ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$rpc_port" --user u --password p
assert_contains "$OUT" "VALID: all"
stop_tp tp
