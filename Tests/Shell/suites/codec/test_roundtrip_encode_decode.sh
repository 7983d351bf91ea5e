# `sv2 encode … | sv2 decode` shows the message and the field values given, and `sv2 decode --json | sv2 encode
# --json -` gives back the same frame, for a few hand-written messages (all messages: test_roundtrip_all_messages).

u256_ab="$(printf 'ab%.0s' {1..32})"

# The example of `sv2 encode --help`, through a pipe.
hex="$("$SV2" encode SetupConnection protocol=0 min_version=2 max_version=2 flags=0 endpoint_host=pool.example \
    endpoint_port=3333 vendor=x hardware_version=y firmware=z device_id=d)"
assert_eq "0000002000000002000200000000000c706f6f6c2e6578616d706c65050d01780179017a0164" "$hex" "encoded SetupConnection"
text="$("$SV2" encode SetupConnection protocol=0 min_version=2 max_version=2 flags=0 endpoint_host=pool.example \
    endpoint_port=3333 vendor=x hardware_version=y firmware=z device_id=d | "$SV2" decode)"
expected='SetupConnection  (extension_type 0x0, msg_type 0x0, 32 byte payload)
  protocol: 0
  min_version: 2
  max_version: 2
  flags: 0
  endpoint_host: "pool.example"
  endpoint_port: 3333
  vendor: "x"
  hardware_version: "y"
  firmware: "z"
  device_id: "d"'
assert_eq "$expected" "$text" "encode | decode of SetupConnection"
again="$("$SV2" decode --json "$hex" | "$SV2" encode --json -)"
assert_eq "$hex" "$again" "decode --json | encode --json - of SetupConnection"

# The SRI vector values typed in give the SRI frame.
assert_exit 0 "$SV2" encode SetupConnection protocol=0 min_version=1 max_version=4 flags=0 endpoint_host=0.0.0.0 \
    endpoint_port=0 vendor=vendor hardware_version=hw_version firmware=firmware device_id=device_id
assert_eq "00000038000000010004000000000007302e302e302e3000000676656e646f720a68775f76657273696f6e086669726d77617265096465766963655f6964" \
    "$OUT" "SetupConnection of the SRI vector"
assert_exit 0 "$SV2" encode NewMiningJob channel_id=0x04030201 job_id=0x08070605 min_ntime=0x0c0b0a09 version=0x100f0e0d \
    merkle_root=1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30
assert_eq "008015310000010203040506070801090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30" \
    "$OUT" "NewMiningJob of the SRI vector (0x hex values)"
assert_exit 0 "$SV2" encode RequestExtensions request_id=0 requested_extensions=2
assert_eq "010000060000000001000200" "$OUT" "RequestExtensions of the SRI vector"

# OPTION none, a large U32 shown with its hex, U256.
text="$("$SV2" encode NewMiningJob channel_id=1 job_id=2 min_ntime=none version=0x20000000 merkle_root="$u256_ab" | "$SV2" decode)"
assert_contains "$text" "NewMiningJob  (extension_type 0x0, msg_type 0x15, channel_msg, 45 byte payload)"
assert_contains "$text" "  min_ntime: null"
assert_contains "$text" "  version: 536870912 (0x20000000)"
assert_contains "$text" "  merkle_root: $u256_ab"

# F32, STR0_255 with spaces and UTF-8.
text="$("$SV2" encode OpenStandardMiningChannel request_id=7 user_identity="wörker 1" nominal_hash_rate=0.345 \
    max_target="$u256_ab" | "$SV2" decode)"
assert_contains "$text" '  user_identity: "wörker 1"'
assert_contains "$text" "  nominal_hash_rate: 0.345"
hex="$("$SV2" encode OpenStandardMiningChannel request_id=7 user_identity=w nominal_hash_rate=0.345 max_target="$u256_ab")"
assert_contains "$hex" "d7a3b03e" "F32 0.345 on the wire (IEEE 754 little endian)"

# BOOL, SEQ0_255[U256], empty and non-empty byte arrays.
text="$("$SV2" encode NewExtendedMiningJob channel_id=1 job_id=2 min_ntime=5 version=1 version_rolling_allowed=true \
    merkle_path="$u256_ab,$u256_ab" coinbase_tx_prefix= coinbase_tx_suffix=0102 | "$SV2" decode)"
assert_contains "$text" "  version_rolling_allowed: true"
assert_contains "$text" "  merkle_path: [$u256_ab, $u256_ab]"
assert_contains "$text" "  coinbase_tx_prefix: (empty)"
assert_contains "$text" "  coinbase_tx_suffix: 0102"

# SEQ0_64K[U16] with several values, and empty.
text="$("$SV2" encode RequestExtensions.Error request_id=3 unsupported_extensions=1,2,65535 required_extensions= | "$SV2" decode)"
assert_contains "$text" "  unsupported_extensions: [1, 2, 65535]"
assert_contains "$text" "  required_extensions: []"

# TLV fields (--tlv) are shown after the fields and survive the JSON round trip.
assert_exit 0 "$SV2" encode SubmitSharesExtended channel_id=1 sequence_number=2 job_id=3 nonce=4 ntime=5 version=6 \
    extranonce=aabb --tlv 2:1:576f726b65725f303031 --tlv 0x5:2:0a0b
hex="$OUT"
assert_contains "$hex" "0200010a00576f726b65725f303031" "frame with the Worker_001 TLV of the SRI vectors"
assert_exit 0 "$SV2" decode "$hex"
assert_contains "$OUT" '  tlv 0x0002/0x01 user_identity: "Worker_001"'
assert_contains "$OUT" "  tlv 0x0005/0x02: 0a0b"
assert_exit 0 "$SV2" decode --json "$hex"
assert_contains "$OUT" '"tlv":[{"extension_type":2,"field_type":1,"user_identity":"Worker_001"},{"extension_type":5,"field_type":2,"value":"0a0b"}]'
again="$("$SV2" decode --json "$hex" | "$SV2" encode --json -)"
assert_eq "$hex" "$again" "decode --json | encode --json - with TLVs"

# --raw writes the bytes.
"$SV2" encode --raw SetupConnection.Success used_version=2 flags=0 > frame.bin
assert_eq "000001060000020000000000" "$(od -An -tx1 -v frame.bin | tr -d ' \n')" "encode --raw"

# A STR0_255 that is not UTF-8 is shown as hex, given back in JSON as {"hex": …}, and survives the round trip.
assert_exit 0 "$SV2" encode --json '{"message":"SetupConnection.Error","flags":0,"error_code":{"hex":"fffe41"}}'
hex="$OUT"
assert_eq "0000020800000000000003fffe41" "$hex" "SetupConnection.Error with a non-UTF-8 error_code"
assert_exit 0 "$SV2" decode "$hex"
assert_contains "$OUT" "  error_code: hex:fffe41"
assert_exit 0 "$SV2" decode --json "$hex"
assert_eq '{"message":"SetupConnection.Error","flags":0,"error_code":{"hex":"fffe41"}}' "$OUT" "JSON of a non-UTF-8 string"
assert_eq "$hex" "$("$SV2" decode --json "$hex" | "$SV2" encode --json -)" "round trip of a non-UTF-8 string"

# F32 values that are not finite go through JSON as their bit pattern (NaN payloads kept); the smallest
# subnormal goes through as a number; all give back the same bytes.
for bits in 7f800000 ff800000 7fc00000 7fa00001 00000001; do
    le="${bits:6:2}${bits:4:2}${bits:2:2}${bits:0:2}"
    # OpenStandardMiningChannel: request_id 7, user_identity "u", nominal_hash_rate, max_target.
    hex="0000102a0000070000000175${le}$u256_ab"
    assert_exit 0 "$SV2" decode --json "$hex"
    [[ "$bits" == 00000001 ]] || assert_contains "$OUT" "\"nominal_hash_rate\":\"0x$bits\""
    assert_eq "$hex" "$("$SV2" decode --json "$hex" | "$SV2" encode --json -)" "round trip of F32 0x$bits"
done
