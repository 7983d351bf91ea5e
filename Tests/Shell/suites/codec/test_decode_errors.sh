# sv2 decode refuses bad input with exit status 1 and a message naming the frame, the byte and the problem.
source "$SUITE_DIR/helpers.sh"

success="$(frame_hex SetupConnection.Success)"      # 000001060000020000000000
push="$(frame_hex PushSolution)"                      # extranonce B0_32 length at frame byte 6

# A B0_32 length prefix over 32: the error names the frame index, the byte offset and the B0_32 length.
expect_error "B0_32 length 33 in frame 1" "frame 1" "byte 6" "extranonce" "B0_32 length 33" -- \
    "$SV2" decode "${push:0:12}21${push:14}"
expect_error "B0_32 length 255 in frame 2" "frame 2" "byte 6" "extranonce" "B0_32 length 255" -- \
    "$SV2" decode "$success" "${push:0:12}ff${push:14}"
# OpenStandardMiningChannel.Success: request_id, channel_id, target (40 bytes), then extranonce_prefix at frame
# byte 46, here with a length of 40 and 40 bytes present (so it is the length, not a truncation, that is wrong).
payload="0700000008000000$(printf '00%.0s' {1..32})28$(printf '11%.0s' {1..40})09000000"
frame="000011$(printf '%02x' $(( ${#payload} / 2 )))0000$payload"
expect_error "B0_32 length 40 in frame 3" "frame 3" "byte 46" "extranonce_prefix" "B0_32 length 40" -- \
    "$SV2" decode "$success$success$frame"
# SetExtranoncePrefix with a length of 33 and a single byte after it.
expect_error "B0_32 length 33, payload ends" "frame 1" "byte 10" "extranonce_prefix" "B0_32 length 33" -- \
    "$SV2" decode 0080190600000100000021aa
# The same through --json, stdin and --file.
expect_error "B0_32 length with --json" "frame 2" "byte 6" "B0_32 length 255" -- \
    "$SV2" decode --json "$success" "${push:0:12}ff${push:14}"
printf '%s\n%s\n' "$success" "${push:0:12}ff${push:14}" > bad.hex
expect_error "B0_32 length from stdin" "frame 2" "byte 6" "B0_32 length 255" -- "$SV2" decode < bad.hex
expect_error "B0_32 length from --file" "frame 2" "byte 6" "B0_32 length 255" -- "$SV2" decode --file bad.hex

# Other problems in frames.
expect_error "truncated header" "frame 1" "byte 0" "header" "truncated" -- "$SV2" decode 000001
expect_error "truncated second header" "frame 2" "byte 0" "header" "truncated" -- "$SV2" decode "${success}0000"
expect_error "truncated payload" "frame 1" "byte 6" "truncated" -- "$SV2" decode "${success:0:20}"
expect_error "payload length too large" "frame 1" "byte 6" "truncated" -- "$SV2" decode "${success:0:6}ffffff${success:12}"
expect_error "truncated field" "frame 1" "endpoint_port" "truncated" -- "$SV2" decode 0000000a000000010004000000000200ff
expect_error "unknown message type" "frame 1" "byte 2" "msg_type" "0xee" -- "$SV2" decode 0000ee000000
expect_error "unknown extension" "frame 1" "msg_type" -- "$SV2" decode 0500ee000000
expect_error "OPTION count 2" "frame 1" "byte 14" "min_ntime" "OPTION" -- \
    "$SV2" decode 008015310000010203040506070802090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30
expect_error "trailing bytes that are not a TLV" "frame 1" "byte 12" "trailing" -- \
    "$SV2" decode 000001070000020000000000aa

# Problems with the hex itself.
expect_error "odd number of hex digits" "odd" -- "$SV2" decode "${success}0"
expect_error "non-hex character" "not hex" "'g'" -- "$SV2" decode "0000g1060000020000000000"
expect_error "0x in the middle of a word" "not hex" -- "$SV2" decode "0000x1060000020000000000"
expect_error "empty argument" "no input" -- "$SV2" decode ""
: > empty.hex
expect_error "empty stdin" "no input" -- "$SV2" decode < empty.hex
expect_error "empty file" "no input" -- "$SV2" decode --file empty.hex
expect_error "missing file" "missing.hex" -- "$SV2" decode --file missing.hex

# A usage error exits 64 and shows the usage of `sv2 decode`.
EXPECTED_STATUS=$SV2_EXIT_USAGE expect_error "unknown option" "--bogus" -- "$SV2" decode --bogus
assert_contains "$ERR" "Usage: sv2 decode" "usage error message"

finish_expect_error
