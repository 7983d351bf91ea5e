# --aggregate-channels false: every Sv1 miner gets its own extended channel upstream, opened once it has authorized
# and named after its user; both miners' shares reach the pool and find blocks.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
start_pool pool "$(free_port)" --datadir "$TEST_TMP/data" --generation-rate 0 --shares-per-minute 60
sv1_port="$(free_port)"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "$POOL_URL" --aggregate-channels false \
    --initial-difficulty 0.001 --shares-per-minute 30 > translate.log 2>&1 &
translate_pid=$!
BACKGROUND_PIDS+=("$translate_pid")
wait_for_log translate.log 'Sv1 miners on' 30 "$translate_pid"
start_miner a --threads 1 --report-interval 1 --user farm.a "stratum+tcp://127.0.0.1:$sv1_port"
start_miner b --threads 1 --report-interval 1 --user farm.b "stratum+tcp://127.0.0.1:$sv1_port"
wait_for_log pool.log 'block found by "farm.a"' 60 "$POOL_PID"
wait_for_log pool.log 'block found by "farm.b"' 60 "$POOL_PID"
assert_contains "$(cat pool.log)" 'extended channel 1 for "farm.a"'
assert_contains "$(cat pool.log)" 'extended channel 1 for "farm.b"'
for _ in $(seq 50); do
    (( $(accepted_count a.log) > 0 && $(accepted_count b.log) > 0 )) && break
    sleep 0.2
done
(( $(accepted_count a.log) > 0 && $(accepted_count b.log) > 0 )) || fail "a miner has no accepted share"
# A miner leaving closes its channel upstream.
kill -TERM "$MINER_PID"
wait "$MINER_PID" || fail "sv2 mine did not exit 0"
wait_for_log pool.log 'closed by the client' 10 "$POOL_PID"
kill -TERM "$translate_pid"
wait "$translate_pid" || fail "sv2 translate did not exit 0"
