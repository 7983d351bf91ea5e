# 200 connections complete the Noise handshake, open 50 standard channels each (REQUIRES_STANDARD_JOBS: every job
# is 50 NewMiningJob messages on each, about 5 KB, and a new tip 50 SetNewPrevHash more) and then never read, while
# the pool makes several jobs a second for 20 s (a block from the honest miner about twice a second, a new template
# every second): well over 100 MB that nobody reads. The pool's resident memory stays within 64 MiB of what it was
# before them (a stalled connection is closed alone once it holds 32 KiB unsent beyond the socket's buffers), and
# the honest miner's shares keep being accepted throughout (only stale shares, from blocks found in the same
# instant, may be refused).
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs coincurve and cryptography)"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

port="$(free_port)"
start_pool pool "$port" --datadir "$TEST_TMP/chain" --generation-rate 50 --template-interval 0.5 --fee-delta 0 \
    --shares-per-minute 120
start_miner honest --threads 1 --report-interval 1 "$POOL_URL"
wait_for_log pool.log 'block found' 60 "$POOL_PID"
sleep 2
baseline="$(rss_kib "$POOL_PID")"
accepted_before="$(accepted_count honest.log)"

"$python" "$SUITE_DIR/slow_readers.py" "$port" 200 50 20 > slow.log 2>&1 &
slow_pid=$!
BACKGROUND_PIDS+=("$slow_pid")
peak="$baseline"
accepted_mid=""
for (( i = 0; i < 60; i++ )); do
    kill -0 "$slow_pid" 2> /dev/null || break
    kill -0 "$POOL_PID" 2> /dev/null || fail "the pool died under slow readers"
    rss="$(rss_kib "$POOL_PID")"
    (( rss > peak )) && peak="$rss"
    (( i == 20 )) && accepted_mid="$(accepted_count honest.log)"
    sleep 0.5
done
wait "$slow_pid" || { cat slow.log >&2; fail "the slow readers failed"; }
cat slow.log
accepted_after="$(accepted_count honest.log)"
growth=$(( peak - baseline ))
echo "pool RSS: $baseline KiB before, peak $peak KiB (+$growth KiB); honest miner accepted $accepted_before -> ${accepted_mid:-?} -> $accepted_after"
echo "stalled connections closed by the pool: $(count_log pool.log 'the peer does not read')"
assert_contains "$(cat slow.log)" "set up 200 connections"
(( growth < 65536 )) || fail "the pool's RSS grew by $growth KiB (limit 65536)"
[[ -n "$accepted_mid" ]] && (( accepted_mid > accepted_before )) || fail "no share accepted in the first 10 s of the slow readers"
(( accepted_after > accepted_mid )) || fail "no share accepted in the last 10 s of the slow readers"
refusals="$(grep -Eo 'rejected: [a-z-]+' honest.log | sort -u | tr '\n' ' ' || true)"
[[ -z "$refusals" || "$refusals" == "rejected: stale-share " ]] || fail "the honest miner had shares refused: $refusals"
(( $(count_log pool.log 'the peer does not read') > 0 )) || fail "no stalled connection was closed: the test did not stall the pool"
