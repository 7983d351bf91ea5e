# sv2 decode of the SRI frame vectors: message name, header summary and field values, as text.
source "$SUITE_DIR/helpers.sh"

assert_exit 0 "$SV2" decode "$(frame_hex NewMiningJob)"
assert_contains "$OUT" "NewMiningJob  (extension_type 0x0, msg_type 0x15, channel_msg, 49 byte payload)"
assert_contains "$OUT" "  channel_id: 67305985"
assert_contains "$OUT" "  job_id: 134678021"
assert_contains "$OUT" "  min_ntime: 202050057"
assert_contains "$OUT" "  version: 269422093"
assert_contains "$OUT" "  merkle_root: 1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30"
assert_not_contains "$OUT" "warning"
assert_eq "" "$ERR" "stderr"

assert_exit 0 "$SV2" decode "$(frame_hex PushSolution)"
assert_contains "$OUT" "PushSolution  (extension_type 0x0, msg_type 0x60, 53 byte payload)"
assert_contains "$OUT" "  extranonce: 01020304"
assert_contains "$OUT" "  prev_hash: 05060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324"
assert_contains "$OUT" "  nonce: 287454020"       # 0x11223344
assert_contains "$OUT" "  ntime: 1432778632"      # 0x55667788
assert_contains "$OUT" "  nbits: 2578103244"      # 0x99aabbcc
assert_contains "$OUT" "  version: 3723427584"    # 0xddeeff00
assert_contains "$OUT" "0x11223344"
assert_contains "$OUT" "0xddeeff00"

assert_exit 0 "$SV2" decode "$(frame_hex SetupConnection)"
assert_contains "$OUT" "SetupConnection  (extension_type 0x0, msg_type 0x0, 56 byte payload)"
assert_contains "$OUT" "  protocol: 0"
assert_contains "$OUT" "  min_version: 1"
assert_contains "$OUT" "  max_version: 4"
assert_contains "$OUT" "  flags: 0"
assert_contains "$OUT" '  endpoint_host: "0.0.0.0"'
assert_contains "$OUT" "  endpoint_port: 0"
assert_contains "$OUT" '  vendor: "vendor"'
assert_contains "$OUT" '  hardware_version: "hw_version"'
assert_contains "$OUT" '  firmware: "firmware"'
assert_contains "$OUT" '  device_id: "device_id"'

assert_exit 0 "$SV2" decode "$(frame_hex SetupConnection.Success)"
expected="SetupConnection.Success  (extension_type 0x0, msg_type 0x1, 6 byte payload)
  used_version: 2
  flags: 0"
assert_eq "$expected" "$OUT" "decoded SetupConnection.Success"

assert_exit 0 "$SV2" decode "$(frame_hex RequestExtensions)"
expected="RequestExtensions  (extension_type 0x1, msg_type 0x0, 6 byte payload)
  request_id: 0
  requested_extensions: [2]"
assert_eq "$expected" "$OUT" "decoded RequestExtensions"
