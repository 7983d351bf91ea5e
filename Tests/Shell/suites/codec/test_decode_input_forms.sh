# sv2 decode reads hex from arguments, --file and stdin, ignoring whitespace, newlines and 0x prefixes, and
# decodes several frames in a row.
source "$SUITE_DIR/helpers.sh"

success="$(frame_hex SetupConnection.Success)"      # 000001060000020000000000
extensions="$(frame_hex RequestExtensions)"
push="$(frame_hex PushSolution)"

assert_exit 0 "$SV2" decode --json "$success"
reference="$OUT"
assert_eq '{"message":"SetupConnection.Success","used_version":2,"flags":0}' "$reference" "reference decode"

check_same() {   # check_same WHAT: $OUT must be the reference decode
    assert_eq "$reference" "$OUT" "$1"
}

# Arguments: split over several words, 0x prefixes, upper case, tabs and newlines inside one argument.
assert_exit 0 "$SV2" decode --json 000001 060000 0200 00000000
check_same "hex split over arguments"
assert_exit 0 "$SV2" decode --json "0x$success"
check_same "0x prefix"
assert_exit 0 "$SV2" decode --json "0X${success^^}"
check_same "0X prefix, upper case"
assert_exit 0 "$SV2" decode --json 0x000001 0x060000 0x0200 0x00000000
check_same "0x prefix on each word"
assert_exit 0 "$SV2" decode --json "$(printf '  0000 01\t0600\n00\n020000\n\n000000  \n')"
check_same "whitespace and newlines inside the hex"
# (CRLF line ends: test_decode_crlf_input.sh)

# Standard input.
printf '%s\n' "$success" > one.hex
assert_exit 0 "$SV2" decode --json < one.hex
check_same "stdin"
printf '0x0000010600\n  00020000\n000000\n' > split.hex
assert_exit 0 "$SV2" decode --json < split.hex
check_same "stdin over several lines"
printf '%s' "$success" > no-newline.hex
assert_exit 0 "$SV2" decode --json < no-newline.hex
check_same "stdin without a final newline"
printf '%s\n' "$success" | "$SV2" decode --json > piped.out
assert_eq "$reference" "$(cat piped.out)" "stdin from a pipe"

# --file and -f.
assert_exit 0 "$SV2" decode --json --file split.hex
check_same "--file"
assert_exit 0 "$SV2" decode --json -f one.hex
check_same "-f"

# Text output is the same whichever way the hex arrives.
assert_exit 0 "$SV2" decode "$success"
text="$OUT"
assert_exit 0 "$SV2" decode < split.hex
assert_eq "$text" "$OUT" "text output from stdin"
assert_exit 0 "$SV2" decode --file split.hex
assert_eq "$text" "$OUT" "text output from --file"

# Several frames: concatenated in one word, in separate words, on separate lines, with 0x on each.
expected_names="SetupConnection.Success RequestExtensions PushSolution"
names_of() { python3 -c 'import json, sys; print(" ".join(json.loads(l)["message"] for l in sys.stdin))' <<< "$OUT"; }
assert_exit 0 "$SV2" decode --json "$success$extensions$push"
assert_eq "$expected_names" "$(names_of)" "frames concatenated in one argument"
assert_exit 0 "$SV2" decode --json "$success" "$extensions" "$push"
assert_eq "$expected_names" "$(names_of)" "frames as separate arguments"
printf '0x%s\n0x%s\n0x%s\n' "$success" "$extensions" "$push" > three.hex
assert_exit 0 "$SV2" decode --json < three.hex
assert_eq "$expected_names" "$(names_of)" "frames on separate lines of stdin"
assert_exit 0 "$SV2" decode --json --file three.hex
assert_eq "$expected_names" "$(names_of)" "frames on separate lines of --file"
# A frame boundary need not fall on a word boundary.
all="$success$extensions$push"
assert_exit 0 "$SV2" decode --json "${all:0:17}" "${all:17:20}" "${all:37}"
assert_eq "$expected_names" "$(names_of)" "frames split at arbitrary points"

# Text output separates frames with one empty line.
assert_exit 0 "$SV2" decode "$success" "$success"
expected="SetupConnection.Success  (extension_type 0x0, msg_type 0x1, 6 byte payload)
  used_version: 2
  flags: 0

SetupConnection.Success  (extension_type 0x0, msg_type 0x1, 6 byte payload)
  used_version: 2
  flags: 0"
assert_eq "$expected" "$OUT" "text output of two frames"
