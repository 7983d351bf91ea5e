# sv2 translate on its defaults with a slow Sv1 miner (a few hashes a second, as a CPU miner is next to an ASIC
# default): its first share is accepted within 15 s. While the pool is away, its shares are answered with a
# "Pool unreachable" error rather than counted as accepted; after the pool returns they are accepted again.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"

start_tp tp --datadir "$TEST_TMP/data"
BACKGROUND_PIDS+=("$TP_PID")
keys="$("$SV2" keygen)"
secret="$(grep -o 'authority_secret_key = "[^"]*"' <<< "$keys" | cut -d'"' -f2)"
pool_port="$(free_port)"
pool_args=(--tp-address "127.0.0.1:$TP_PORT" --tp-authority-public-key "$TP_KEY" --authority-secret-key "$secret"
           --coinbase-reward-script "$REWARD_ADDRESS")
start_pool pool "$pool_port" "${pool_args[@]}"

sv1_port="$(free_port)"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "$POOL_URL" --user-identity farm > translate.log 2>&1 &
translate_pid=$!
BACKGROUND_PIDS+=("$translate_pid")
wait_for_log translate.log 'upstream channel [0-9]+ open' 30 "$translate_pid"

python3 "$SUITE_DIR/slow_sv1_miner.py" "$sv1_port" --rate 4 --seconds 75 > miner.log 2>&1 &
miner_pid=$!
BACKGROUND_PIDS+=("$miner_pid")
wait_for_log miner.log 'accepted' 20 "$miner_pid"
first="$(grep -m1 'accepted' miner.log | grep -Eo 'at [0-9.]+ s' | grep -Eo '[0-9]+' | head -n 1)"
(( first < 15 )) || fail "the slow miner's first accepted share came after $first s"

# The pool goes away: shares get the error, the miner stays connected.
kill -9 "$POOL_PID"
wait_for_log translate.log 'upstream channel lost' 20 "$translate_pid"
mark="$(wc -l < miner.log)"
wait_for_log miner.log 'error 20 Pool unreachable' 20 "$miner_pid"
assert_not_contains "$(tail -n +"$(( mark + 1 ))" miner.log | grep -v 'Pool unreachable' | grep accepted || true)" "share" \
    "shares answered accepted while the pool was away"

start_pool pool2 "$pool_port" "${pool_args[@]}"
wait_for_log translate.log 'upstream channel open: miners' 30 "$translate_pid"
mark="$(wc -l < miner.log)"
deadline=$(( SECONDS + 20 ))
while (( SECONDS < deadline )); do
    tail -n +"$(( mark + 1 ))" miner.log | grep -q accepted && break
    sleep 0.5
done
tail -n +"$(( mark + 1 ))" miner.log | grep -q accepted || { tail -n 20 miner.log translate.log >&2; fail "no share accepted after the pool returned"; }
kill -0 "$miner_pid" || fail "the slow miner was disconnected"

kill -TERM "$translate_pid"
wait "$translate_pid" || fail "sv2 translate did not exit 0"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || true
stop_tp tp
