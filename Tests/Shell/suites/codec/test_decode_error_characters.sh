# When the input holds a character that is not hex, the error shows that character as typed (a UTF-8 character
# whole, not one of its bytes) and never writes a raw control character to the terminal.
source "$SUITE_DIR/helpers.sh"

expect_error "é in the hex" "not hex" "'é'" -- "$SV2" decode "00é0"
expect_error "∑ in the hex" "not hex" "'∑'" -- "$SV2" decode "0000∑0"
for control in $'\x01' $'\x1b' $'\x7f'; do
    printf '00%s00\n' "$control" > control.hex
    expect_error "control character $(od -An -tx1 <<< "$control" | cut -c 1-3)" "not hex" -- "$SV2" decode --file control.hex
    [[ "$ERR" != *"$control"* ]] || fail "the error message holds the raw control character: $(od -c <<< "$ERR" | head -n 3)"
done
finish_expect_error
