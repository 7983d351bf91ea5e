# For every message of `sv2 encode --list`, with the smallest, the largest and typical values of each field
# type (cases made by gen_messages.py):
#   - `sv2 encode` makes one frame, the same bytes as gen_messages.py serialises by the rules of spec 3.1;
#   - `sv2 decode` shows the message and its fields, in order;
#   - `sv2 decode --json` gives back the values that were put in;
#   - `sv2 encode --json -` of that JSON gives back exactly the same frame.
# Then the same for all the frames at once, through a pipe.

assert_exit 0 "$SV2" encode --list
printf '%s\n' "$OUT" > list.txt
python3 "$SUITE_DIR/gen_messages.py" cases < list.txt > cases.tsv || fail "gen_messages.py cases failed"
message_count=$(wc -l < list.txt)
(( message_count >= 40 )) || fail "encode --list shows only $message_count messages"
assert_eq $(( message_count * 3 )) "$(wc -l < cases.tsv | tr -d ' ')" "number of generated cases"

: > frames.hex
: > decoded.jsonl
count=0
while IFS=$'\t' read -r case_id name header field_names expected_json quoted_args expected_hex; do
    eval "args=($quoted_args)"

    assert_exit 0 "$SV2" encode "${args[@]}"
    hex="$OUT"
    [[ "$hex" =~ ^[0-9a-f]+$ ]] || fail "$case_id: encode printed '${hex:0:200}', not one line of hex"
    assert_eq "$expected_hex" "$hex" "$case_id: encoded frame"
    printf '%s\n' "$hex" >> frames.hex

    # Text: the header line, then one line per field, in order.
    assert_exit 0 "$SV2" decode "$hex"
    first_line="${OUT%%$'\n'*}"
    [[ "$first_line" == "$header"*" byte payload)" ]] || fail "$case_id: decode header line is '$first_line', expected '$header… byte payload)'"
    actual_fields="$(sed -n 's/^  \([a-z0-9_]*\): .*/\1/p' <<< "$OUT" | tr '\n' ' ')"
    assert_eq "$field_names" "${actual_fields% }" "$case_id: fields shown by decode"
    assert_not_contains "$OUT" "warning" "$case_id: decode output"

    # JSON, and back to the same frame.
    assert_exit 0 "$SV2" decode --json "$hex"
    printf '%s\n' "$OUT" > one.json
    printf '%s\n' "$OUT" >> decoded.jsonl
    assert_exit 0 "$SV2" encode --json - < one.json
    assert_eq "$hex" "$OUT" "$case_id: hex after decode --json | encode --json -"
    count=$(( count + 1 ))
done < cases.tsv
assert_eq $(( message_count * 3 )) "$count" "number of cases run"

# The values decoded are the values encoded.
python3 "$SUITE_DIR/gen_messages.py" check cases.tsv decoded.jsonl > check.txt || { cat check.txt; fail "decoded values differ from the encoded ones"; }

# All frames in one go, through a pipe: one JSON object per frame, and the same hex lines back.
tr -d '\n' < frames.hex > all.hex
"$SV2" decode --json --file all.hex | "$SV2" encode --json - > all-again.hex || fail "decode --json | encode --json - of all frames failed"
cmp -s frames.hex all-again.hex || { diff frames.hex all-again.hex | head -n 20; fail "round trip of all frames at once changed them"; }
"$SV2" decode --json --file all.hex > all.jsonl
cmp -s decoded.jsonl all.jsonl || fail "decode --json of all frames at once differs from decoding them one by one"
# --json also takes a file name.
assert_exit 0 "$SV2" encode --json all.jsonl
assert_eq "$(cat frames.hex)" "$OUT" "encode --json FILE of all frames"
