# Bad Sv1 clients (malformed JSON, a 1 MB line, a submit for an unknown job, a stale share, a flood of subscribes,
# one client over --max-clients) are answered or disconnected alone, with a log line saying why; an honest CPU miner
# on the same translator keeps getting its shares accepted.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
start_pool pool "$(free_port)" --datadir "$TEST_TMP/data" --generation-rate 0 --shares-per-minute 60
sv1_port="$(free_port)"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "$POOL_URL" --initial-difficulty 0.001 \
    --shares-per-minute 30 > translate.log 2>&1 &
translate_pid=$!
BACKGROUND_PIDS+=("$translate_pid")
wait_for_log translate.log 'upstream channel [0-9]+ open' 30 "$translate_pid"
start_miner honest --threads 1 --report-interval 1 --user honest "stratum+tcp://127.0.0.1:$sv1_port"

ASSERT_TIMEOUT=90 assert_exit 0 python3 "$SUITE_DIR/bad_clients.py" "$sv1_port"
assert_contains "$OUT" "ok: a 1 MB line ends the connection"
wait_for_log translate.log 'connection closed: .*line' 10 "$translate_pid"
before="$(accepted_count honest.log)"
for _ in $(seq 100); do
    (( $(accepted_count honest.log) > before )) && break
    sleep 0.2
done
(( $(accepted_count honest.log) > before )) || { tail honest.log >&2; fail "the honest miner stopped getting shares accepted"; }
assert_not_contains "$(grep -Eo 'rejected [0-9]+' honest.log | sort -u)" "rejected 1" "honest miner rejections"

# One client over the limit is refused alone.
limited_port="$(free_port)"
"$SV2" translate --listen "127.0.0.1:$limited_port" --upstream "$POOL_URL" --max-clients 1 > limited.log 2>&1 &
BACKGROUND_PIDS+=("$!")
wait_for_log limited.log 'Sv1 miners on' 30
exec 4<> "/dev/tcp/127.0.0.1/$limited_port"
exec 5<> "/dev/tcp/127.0.0.1/$limited_port"
wait_for_log limited.log 'refused: the translator has its maximum of clients' 10
exec 4>&- 5>&-
