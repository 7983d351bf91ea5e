# Custom jobs on `sv2 pool --jd-token-key` (issue 14, item 2), driven by a scripted client (sv2 repl) standing in for a
# job declarator client: SetupConnection with REQUIRES_WORK_SELECTION is accepted; SetCustomMiningJob with a mining
# job token made independently (Python's hmac, the layout of MiningJobToken) on the pool's tip, with a coinbase paying
# the pool, gets SetCustomMiningJob.Success, and a share on that job (nonce found with hashlib) is accepted; a token
# under another key, and a coinbase that does not pay the pool, are refused with their codes on the same connection.
source "$SUITE_DIR/helpers.sh"
key="$(python3 -c 'print("07" * 32)')"
pool_port="$(free_port)"
start_pool pool "$pool_port" --datadir "$TEST_TMP/data" --generation-rate 0 --jd-token-key "$key"
public="${POOL_URL##*/}"
rolled="$(python3 -c 'print("00" * 26)')"

start_scripted_repl

send "connect 127.0.0.1:$pool_port $public"
send "send SetupConnection protocol=0 min_version=2 max_version=2 flags=2 endpoint_host=127.0.0.1 endpoint_port=$pool_port vendor=sv2 hardware_version=test firmware=0 device_id=jdc"
send "expect SetupConnection.Success 10"
send "send OpenExtendedMiningChannel request_id=1 user_identity=alice nominal_hash_rate=0.01 max_target=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff min_extranonce_size=26"
send "expect Mining.SetNewPrevHash 10"
wait_for 'received Mining.SetNewPrevHash'
prevhash="$(field prev_hash 1)"
ntime="$(grep -E '^  min_ntime: [0-9]' repl.out | head -n 1 | awk '{print $2}')"
nbits="$(field nbits 1)"
extranonce_prefix="$(field extranonce_prefix 1)"

# token KEY USER: an allocation token (kind 1, expiry in an hour, a nonce, SHA256 of the user, 16 bytes of HMAC).
token() {
    python3 - "$1" "$2" <<'PY'
import hashlib, hmac, os, struct, sys, time
key, user = bytes.fromhex(sys.argv[1]), sys.argv[2].encode()
fields = bytes([1]) + struct.pack("<I", int(time.time()) + 3600) + os.urandom(8) + hashlib.sha256(b"sv2 job token user" + user).digest()
print((fields + hmac.new(key, fields, hashlib.sha256).digest()[:16]).hex())
PY
}
# outputs SCRIPT_HEX: one 50 BTC output to SCRIPT, CompactSize-prefixed.
outputs() { python3 -c 'import struct, sys; s = bytes.fromhex(sys.argv[1]); print((bytes([1]) + struct.pack("<Q", 5_000_000_000) + bytes([len(s)]) + s).hex())' "$1"; }
pool_script="$(python3 -c 'import hashlib; print("0020" + hashlib.sha256(b"\x51").hexdigest())')"
paying="$(outputs "$pool_script")"
custom() { # custom TOKEN OUTPUTS REQUEST_ID
    send "send SetCustomMiningJob channel_id=1 request_id=$3 mining_job_token=$1 version=536870912 prev_hash=$prevhash min_ntime=$ntime nbits=$nbits coinbase_tx_version=2 coinbase_prefix=03010203 coinbase_tx_input_n_sequence=4294967295 coinbase_tx_outputs=$2 coinbase_tx_locktime=0 merkle_path="
}

custom "$(token "$key" alice)" "$paying" 5
send "expect SetCustomMiningJob.Success 10"
wait_for 'received SetCustomMiningJob.Success'
job="$(grep -A4 'received SetCustomMiningJob.Success' repl.out | sed -n 's/^  job_id: \([0-9]*\).*/\1/p' | head -n 1)"
(( job >= 2147483648 )) || fail "custom job id $job does not have its top bit set"
prefix="02000000""01$(python3 -c 'print("00" * 32)')ffffffff""24""03010203"
nonce="$(python3 "$SUITE_DIR/find_nonce.py" "$prefix" "ffffffff${paying}00000000" "$extranonce_prefix$rolled" "$prevhash" 536870912 "$ntime" "$nbits")"
send "send SubmitSharesExtended channel_id=1 sequence_number=1 job_id=$job nonce=$nonce ntime=$ntime version=536870912 extranonce=$rolled"
send "expect SubmitShares.Success 10"
custom "$(token "$(python3 -c 'print("08" * 32)')" alice)" "$paying" 6
send "expect SetCustomMiningJob.Error 10"
custom "$(token "$key" alice)" "$(outputs 51)" 7
send "expect SetCustomMiningJob.Error 10"
send "sleep 0.5"
finish_scripted_repl
out="$(cat repl.out)"
assert_contains "$out" 'received SubmitShares.Success'
assert_contains "$out" 'error_code: "invalid-mining-job-token"'
assert_contains "$out" 'error_code: "invalid-coinbase"'
assert_eq 1 "$(count_log repl.out closed)" "connection closures"
