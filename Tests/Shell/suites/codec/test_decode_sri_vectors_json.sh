# sv2 decode --json of the SRI frame vectors: one JSON object per frame with the spec's field names.
source "$SUITE_DIR/helpers.sh"

# Checks that $OUT is one JSON object whose keys, in order, are $1 (space separated) and whose values
# match the JSON object $2 (a subset of the keys).
check_json() {
    python3 - "$OUT" "$1" "$2" <<'PY' || fail "JSON output not as expected: $OUT"
import json, sys
text, keys, expected = sys.argv[1], sys.argv[2].split(), json.loads(sys.argv[3])
lines = text.splitlines()
assert len(lines) == 1, f"expected one line, got {len(lines)}"
obj = json.loads(lines[0])
assert list(obj) == keys, f"keys {list(obj)} != {keys}"
for key, value in expected.items():
    assert obj[key] == value, f"{key}: {obj[key]!r} != {value!r}"
PY
}

assert_exit 0 "$SV2" decode --json "$(frame_hex NewMiningJob)"
check_json "message channel_id job_id min_ntime version merkle_root" '{
  "message": "NewMiningJob", "channel_id": 67305985, "job_id": 134678021, "min_ntime": 202050057,
  "version": 269422093, "merkle_root": "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30"}'

assert_exit 0 "$SV2" decode --json "$(frame_hex PushSolution)"
check_json "message extranonce prev_hash nonce ntime nbits version" '{
  "message": "PushSolution", "extranonce": "01020304",
  "prev_hash": "05060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324",
  "nonce": 287454020, "ntime": 1432778632, "nbits": 2578103244, "version": 3723427584}'

assert_exit 0 "$SV2" decode --json "$(frame_hex SetupConnection)"
check_json "message protocol min_version max_version flags endpoint_host endpoint_port vendor hardware_version firmware device_id" '{
  "message": "SetupConnection", "protocol": 0, "min_version": 1, "max_version": 4, "flags": 0,
  "endpoint_host": "0.0.0.0", "endpoint_port": 0, "vendor": "vendor", "hardware_version": "hw_version",
  "firmware": "firmware", "device_id": "device_id"}'

assert_exit 0 "$SV2" decode --json "$(frame_hex SetupConnection.Success)"
assert_eq '{"message":"SetupConnection.Success","used_version":2,"flags":0}' "$OUT" "JSON of SetupConnection.Success"

assert_exit 0 "$SV2" decode --json "$(frame_hex RequestExtensions)"
assert_eq '{"message":"RequestExtensions","request_id":0,"requested_extensions":[2]}' "$OUT" "JSON of RequestExtensions"

# All five at once: one object a line, in order.
all=""
while read -r name hex; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    all+="$hex"
done < "$FIXTURES/sri_frames.txt"
assert_exit 0 "$SV2" decode --json "$all"
names="$(python3 -c 'import json, sys; print(" ".join(json.loads(l)["message"] for l in sys.stdin))' <<< "$OUT")"
assert_eq "NewMiningJob PushSolution RequestExtensions SetupConnection SetupConnection.Success" "$names" "messages of the concatenated frames"
