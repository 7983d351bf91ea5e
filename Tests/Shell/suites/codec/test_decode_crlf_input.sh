# Hex saved with Windows line ends (CRLF) is still hex with newlines, which `sv2 decode --help` says are ignored.
source "$SUITE_DIR/helpers.sh"

success="$(frame_hex SetupConnection.Success)"
expected='{"message":"SetupConnection.Success","used_version":2,"flags":0}'

printf '%s\r\n' "${success:0:12}" "${success:12}" > crlf.hex
assert_exit 0 "$SV2" decode --json --file crlf.hex
assert_eq "$expected" "$OUT" "decode --file of a CRLF file"
assert_exit 0 "$SV2" decode --json < crlf.hex
assert_eq "$expected" "$OUT" "decode of CRLF hex on stdin"
assert_exit 0 "$SV2" decode --json "$(cat crlf.hex)"
assert_eq "$expected" "$OUT" "decode of CRLF hex in an argument"
