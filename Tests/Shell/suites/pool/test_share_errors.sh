# A scripted client (sv2 repl over Noise, driven through a FIFO) sends a share for an unknown job, a duplicate, a
# low-difficulty share and a stale share next to an honest CPU miner: each bad share gets its SubmitShares.Error
# code, the scripted connection stays open, and the honest miner loses nothing. Nonces are chosen with hashlib
# (find_nonce.py) so that the "good" shares are not blocks: on regtest half of all hashes are, and a block would
# move the pool to a new tip in the middle of the script.
source "$SUITE_DIR/helpers.sh"
pool_port="$(free_port)"
start_pool pool "$pool_port" --datadir "$TEST_TMP/data" --generation-rate 0 --shares-per-minute 20
key="${POOL_URL##*/}"
max=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
rolled=0000000000000000000000000000000000000000000000000000

start_scripted_repl

send "connect 127.0.0.1:$pool_port $key"
send "send SetupConnection protocol=0 min_version=2 max_version=2 flags=0 endpoint_host=127.0.0.1 endpoint_port=$pool_port vendor=sv2 hardware_version=test firmware=0 device_id=shell"
send "expect SetupConnection.Success 10"
send "send OpenExtendedMiningChannel request_id=1 user_identity=mallory nominal_hash_rate=0.01 max_target=$max min_extranonce_size=26"
send "expect Mining.SetNewPrevHash 10"
# Channel 2's target is 1: no hash that is not a block meets it.
send "send OpenExtendedMiningChannel request_id=2 user_identity=mallory nominal_hash_rate=0.01 max_target=0100000000000000000000000000000000000000000000000000000000000000 min_extranonce_size=26"
send "expect Mining.SetNewPrevHash 10"
for _ in $(seq 100); do
    (( $(count_log repl.out 'received Mining.SetNewPrevHash') >= 2 )) && break
    sleep 0.2
done
(( $(count_log repl.out 'received Mining.SetNewPrevHash') >= 2 )) || { cat repl.out >&2; fail "the scripted client got no jobs"; }
assert_eq "[]" "$(field merkle_path 1)" "merkle path (no transactions with --generation-rate 0)"
job="$(field job_id 1)"
prefix="$(field coinbase_tx_prefix 1)"
suffix="$(field coinbase_tx_suffix 1)"
prevhash="$(field prev_hash 1)"
ntime="$(grep -E '^  min_ntime: [0-9]' repl.out | head -n 1 | awk '{print $2}')"
nbits="$(field nbits 1)"
nonce1="$(python3 "$SUITE_DIR/find_nonce.py" "$prefix" "$suffix" "$(field extranonce_prefix 1)$rolled" "$prevhash" 536870912 "$ntime" "$nbits")"
nonce2="$(python3 "$SUITE_DIR/find_nonce.py" "$prefix" "$suffix" "$(field extranonce_prefix 2)$rolled" "$prevhash" 536870912 "$ntime" "$nbits")"
share() { # share CHANNEL SEQUENCE JOB NONCE
    send "send SubmitSharesExtended channel_id=$1 sequence_number=$2 job_id=$3 nonce=$4 ntime=$ntime version=536870912 extranonce=$rolled"
}

share 1 1 999 "$nonce1"
send "expect SubmitShares.Error 10"
share 1 2 "$job" "$nonce1"
send "expect SubmitShares.Success 10"
share 1 3 "$job" "$nonce1"
send "expect SubmitShares.Error 10"
share 2 4 "$job" "$nonce2"
send "expect SubmitShares.Error 10"
wait_for 'error_code: "difficulty-too-low"'

# The honest miner finds blocks: the pool moves to a new tip, and the scripted client's job is stale.
start_miner honest --threads 1 --extended --report-interval 1 --user honest "$POOL_URL" 3>&-
send "expect Mining.SetNewPrevHash 60"
share 1 5 "$job" "$nonce1"
send "expect SubmitShares.Error 10"
send "sleep 1"
finish_scripted_repl
out="$(cat repl.out)"
assert_contains "$out" 'error_code: "invalid-job-id"'
assert_contains "$out" 'error_code: "duplicate-share"'
assert_contains "$out" 'error_code: "difficulty-too-low"'
assert_contains "$out" 'error_code: "stale-share"'
# The connection stayed open through every error: it closes only when the script ends.
assert_eq 1 "$(count_log repl.out closed)" "connection closures"
assert_contains "$(tail -n 1 repl.out)" "closed"

# The honest miner keeps getting shares accepted and none rejected.
before="$(accepted_count honest.log)"
for _ in $(seq 150); do
    (( $(accepted_count honest.log) > before )) && break
    sleep 0.2
done
(( $(accepted_count honest.log) > before )) || { tail honest.log >&2; fail "the honest miner stopped getting shares accepted"; }
assert_contains "$(grep -Eo 'rejected [0-9]+' honest.log | sort -u)" "rejected 0" "honest miner rejections"
assert_not_contains "$(grep -Eo 'rejected [0-9]+' honest.log | sort -u)" "rejected 1" "honest miner rejections"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0"
assert_contains "$(cat pool.log)" 'final: user "mallory": 1 accepted, 4 rejected'
