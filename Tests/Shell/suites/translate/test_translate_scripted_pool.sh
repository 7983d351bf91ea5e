# What `sv2 translate` tells a pool, read by a scripted `sv2 repl` acting as the pool while a Python Sv1 client
# subscribes, authorizes and goes: SetupConnection names it (spec 3.6.1: vendor, hardware_version and firmware SHOULD
# be filled), and the aggregated channel carries its Sv1 miners' hash rate (spec 5.3.7 and 5.3.9 MUST): opened before
# any miner with nominal_hash_rate 0, then UpdateChannel with the miner's rate when it starts mining, and 0 when it
# leaves.
source "$SUITE_DIR/../repl/helpers.sh"
new_authority
scripted_job
prefix="02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1503a0860100"

start_listener pool <<EOS
listen 127.0.0.1:0 --authority-secret-key $AUTHORITY_SECRET
expect SetupConnection 60
send SetupConnection.Success used_version=2 flags=0
expect OpenExtendedMiningChannel 60
send OpenExtendedMiningChannel.Success request_id=0 channel_id=7 target=$TARGET extranonce_size=16 extranonce_prefix=aabb group_channel_id=0
send NewExtendedMiningJob channel_id=7 job_id=3 min_ntime=none version=0x20000000 version_rolling_allowed=true merkle_path= coinbase_tx_prefix=$prefix coinbase_tx_suffix=$SUFFIX
send Mining.SetNewPrevHash channel_id=7 job_id=3 prev_hash=$PREV min_ntime=$NOW nbits=0x1d00ffff
expect UpdateChannel 60
expect UpdateChannel 60
sleep 1
EOS
sv1_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "stratum2+tcp://127.0.0.1:$PORT/$AUTHORITY_PUBLIC" > translate.log 2>&1 &
translate_pid=$!
trap 'kill -9 "$translate_pid" 2> /dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q 'received OpenExtendedMiningChannel' pool.out 2> /dev/null && break
    sleep 0.1
done

# One Sv1 miner: subscribe, authorize, stay 2 s, leave.
python3 - "$sv1_port" <<'PY'
import json, socket, sys, time
connection = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
for request in ({"id": 1, "method": "mining.subscribe", "params": ["shell-test"]},
                {"id": 2, "method": "mining.authorize", "params": ["farm.w1", "x"]}):
    connection.sendall((json.dumps(request) + "\n").encode())
time.sleep(2)
connection.close()
PY
wait_listener 0 pool
setup="$(sed -n '/received SetupConnection /,/device_id/p' pool.out)"
assert_contains "$setup" 'vendor: "sv2"'
assert_contains "$setup" 'firmware: "sv2 translate"'
assert_contains "$setup" "hardware_version: \"$(uname -m) $(uname -s)\""
opened="$(sed -n '/received OpenExtendedMiningChannel /,/min_extranonce_size/p' pool.out)"
printf '%s\n' "$opened"
assert_contains "$opened" "nominal_hash_rate: 0.0"
rates="$(sed -n '/received UpdateChannel /,/maximum_target/p' pool.out | sed -n 's/^ *nominal_hash_rate: //p')"
printf 'UpdateChannel rates: %s\n' "$(tr '\n' ' ' <<< "$rates")"
first="$(sed -n 1p <<< "$rates")"
second="$(sed -n 2p <<< "$rates")"
# The rate the miner's difficulty stands for (the translator eases the start difficulty to the easy channel target).
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$first" || fail "first UpdateChannel nominal_hash_rate $first is not positive"
assert_eq "0.0" "$second" "nominal_hash_rate after the miner left"
grep -q 'channel_id: 7' <<< "$(sed -n '/received UpdateChannel /,/maximum_target/p' pool.out)" || fail "UpdateChannel not for channel 7"
