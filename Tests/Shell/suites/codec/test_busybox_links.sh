# A link named sv2-<subcommand> to the binary runs that subcommand (busybox style): sv2-decode is `sv2 decode`.
source "$SUITE_DIR/helpers.sh"

success="$(frame_hex SetupConnection.Success)"
ln -s "$SV2" sv2-decode
ln -s "$SV2" sv2-encode

assert_exit 0 "$SV2" decode "$success"
expected="$OUT"
assert_exit 0 ./sv2-decode "$success"
assert_eq "$expected" "$OUT" "./sv2-decode output"
assert_exit 0 "$TEST_TMP/sv2-decode" --json "$success"
assert_eq '{"message":"SetupConnection.Success","used_version":2,"flags":0}' "$OUT" "sv2-decode --json (absolute path)"
printf '%s\n' "$success" > one.hex
assert_exit 0 ./sv2-decode --json < one.hex
assert_eq '{"message":"SetupConnection.Success","used_version":2,"flags":0}' "$OUT" "sv2-decode reading stdin"

# Found through PATH (argv[0] is then the bare name).
assert_exit 0 env PATH="$TEST_TMP:$PATH" sv2-decode "$success"
assert_eq "$expected" "$OUT" "sv2-decode found through PATH"

# Its help is that of sv2 decode, and its errors are those of sv2 decode.
assert_exit 0 ./sv2-decode --help
assert_contains "$OUT" "Decode hex Sv2 frames"
assert_exit "$SV2_EXIT_BAD_INPUT" ./sv2-decode 0000
assert_contains "$ERR" "frame 1, byte 0: header: truncated"

# sv2-encode, and the two links in a pipe.
assert_exit 0 ./sv2-encode SetupConnection.Success used_version=2 flags=0
assert_eq "$success" "$OUT" "sv2-encode"
assert_eq "$expected" "$(./sv2-encode SetupConnection.Success used_version=2 flags=0 | ./sv2-decode)" "sv2-encode | sv2-decode"
