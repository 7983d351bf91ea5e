# Group channels: one CPU miner opens three standard channels on one connection without REQUIRES_STANDARD_JOBS;
# the pool puts them in one group, sends each job once to the group, and the shares of every channel validate.
# With --require-standard-jobs the same miner gets NewMiningJob per channel instead, and no group.
source "$SUITE_DIR/helpers.sh"
start_pool pool "$(free_port)" --datadir "$TEST_TMP/data" --generation-rate 0 --shares-per-minute 60
start_miner group --threads 3 --standard --channels 3 --report-interval 1 --user grouped "$POOL_URL"
for _ in $(seq 300); do
    (( $(grep -Eo 'block found on channel [0-9]+' group.log | sort -u | wc -l) >= 3 )) && break
    sleep 0.2
done
channels="$(grep -Eo 'standard channel [0-9]+ for "grouped" at .* in group [0-9]+' pool.log || true)"
(( $(wc -l <<< "$channels") == 3 )) || { cat pool.log >&2; fail "expected three standard channels: $channels"; }
(( $(grep -Eo 'in group [0-9]+' <<< "$channels" | sort -u | wc -l) == 1 )) || fail "the channels are not in one group: $channels"
(( $(grep -Eo 'block found on channel [0-9]+' group.log | sort -u | wc -l) >= 3 )) || { tail -n 20 group.log >&2; fail "not every channel of the group found a block"; }
# Every share validates with its channel's own prefix: the only rejections are stale shares (on regtest each of the
# channels' blocks is a new tip, so another channel's share in flight may arrive after it).
assert_eq "" "$(grep -E 'rejected: ' group.log | grep -v 'rejected: stale-share' || true)" "rejections other than stale shares"
kill -TERM "$MINER_PID"
wait "$MINER_PID" || fail "sv2 mine did not exit 0"

start_miner standard --threads 2 --standard --channels 2 --require-standard-jobs --report-interval 1 --user plain "$POOL_URL"
for _ in $(seq 300); do
    (( $(grep -Eo 'block found on channel [0-9]+' standard.log | sort -u | wc -l) >= 2 )) && break
    sleep 0.2
done
(( $(grep -Eo 'block found on channel [0-9]+' standard.log | sort -u | wc -l) >= 2 )) || { tail -n 20 standard.log >&2; fail "standard jobs: not every channel found a block"; }
assert_contains "$(grep 'for "plain"' pool.log)" "standard channel"
assert_not_contains "$(grep 'for "plain"' pool.log)" "in group"
kill -TERM "$MINER_PID"
wait "$MINER_PID" || fail "sv2 mine did not exit 0"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0"
