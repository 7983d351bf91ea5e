# sv2 mine --cpu against a scripted `sv2 repl` acting as the pool over Noise: SetupConnection for mining, one
# extended channel, a group job activated by SetNewPrevHash, SubmitSharesExtended that hash (checked here with
# Python's hashlib) below the channel target, the accepted count in the report line, and exit 0 with a summary on
# SIGTERM.
source "$SUITE_DIR/../repl/helpers.sh"
new_authority

scripted_job
prefix="02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0e03a0860100"
path="$(printf '33%.0s' $(seq 32)),$(printf '44%.0s' $(seq 32))"

start_listener pool <<EOS
listen 127.0.0.1:0 --authority-secret-key $AUTHORITY_SECRET
expect SetupConnection 60
send SetupConnection.Success used_version=2 flags=0
expect OpenExtendedMiningChannel 60
send OpenExtendedMiningChannel.Success request_id=0 channel_id=7 target=$TARGET extranonce_size=4 extranonce_prefix=aabb group_channel_id=9
send NewExtendedMiningJob channel_id=9 job_id=3 min_ntime=none version=0x20000000 version_rolling_allowed=true merkle_path=$path coinbase_tx_prefix=$prefix coinbase_tx_suffix=$SUFFIX
send Mining.SetNewPrevHash channel_id=9 job_id=3 prev_hash=$PREV min_ntime=$NOW nbits=0x1d00ffff
expect SubmitSharesExtended 60
send SubmitShares.Success channel_id=7 last_sequence_number=0 new_submits_accepted_count=1 new_shares_sum=1
sleep 60
EOS

"$SV2" mine --cpu --threads 2 --user shell.worker --report-interval 0.2 "stratum2+tcp://127.0.0.1:$PORT/$AUTHORITY_PUBLIC" > miner.out 2>&1 &
miner_pid=$!
for _ in $(seq 600); do
    grep -q 'accepted [1-9]' miner.out && break
    kill -0 "$miner_pid" 2> /dev/null || break
    sleep 0.1
done
kill -TERM "$miner_pid"
status=0
wait "$miner_pid" || status=$?
kill "$LISTENER_PID" 2> /dev/null || true
wait "$LISTENER_PID" 2> /dev/null || true
miner_out="$(cat miner.out)"
pool_out="$(cat pool.out)"
(( status == 0 )) || { echo "$miner_out" >&2; fail "sv2 mine exited with $status on SIGTERM, expected 0"; }

assert_contains "$miner_out" "channel 7 opened (extended, lane 0, group 9)"
assert_contains "$miner_out" "new prevhash $PREV"
assert_contains "$miner_out" "signal SIGTERM: shutting down"
assert_contains "$miner_out" "stopped after"
grep -Eq 'hashrate [0-9.]+ [kMG]?H/s, accepted 1, rejected 0' <<< "$miner_out" || { echo "$miner_out" >&2; fail "no report line with accepted 1"; }
assert_contains "$pool_out" "flags: 0"
assert_contains "$pool_out" 'user_identity: "shell.worker"'
assert_contains "$pool_out" "min_extranonce_size: 4"

# The first share, checked with hashlib: coinbase = prefix || extranonce_prefix || extranonce || suffix, merkle fold,
# header, SHA256d <= target.
python3 - pool.out "$prefix" "$SUFFIX" "$path" "$PREV" "$TARGET" "$NOW" <<'PY' || fail "the share does not validate"
import hashlib, re, sys
output, prefix, suffix, path, prev, target, now = sys.argv[1:]
d = lambda data: hashlib.sha256(hashlib.sha256(data).digest()).digest()
text = open(output).read().split("<< received SubmitSharesExtended", 1)[1]
fields = {}
for line in text.splitlines()[1:]:
    if not line.startswith("  "):
        break
    name, value = line.strip().split(": ", 1)
    fields[name] = value.split(" ")[0]
assert fields["channel_id"] == "7" and fields["job_id"] == "3" and fields["sequence_number"] == "0", fields
extranonce = bytes.fromhex(fields["extranonce"])
assert len(extranonce) == 4, fields
root = d(bytes.fromhex(prefix) + bytes.fromhex("aabb") + extranonce + bytes.fromhex(suffix))
for step in path.split(","):
    root = d(root + bytes.fromhex(step))
version, ntime, nonce = (int(fields[name]) for name in ("version", "ntime", "nonce"))
assert version & ~0x1fffe000 == 0x20000000, hex(version)
assert int(now) <= ntime <= int(now) + 120, (ntime, now)
header = version.to_bytes(4, "little") + bytes.fromhex(prev) + root + ntime.to_bytes(4, "little") \
    + (0x1d00ffff).to_bytes(4, "little") + nonce.to_bytes(4, "little")
assert int.from_bytes(d(header), "little") <= int.from_bytes(bytes.fromhex(target), "little"), d(header)[::-1].hex()
PY
