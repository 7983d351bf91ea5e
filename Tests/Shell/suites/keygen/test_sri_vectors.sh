# The key pairs of SRI's key-utils (testvectors/sri/key_utils_base58.json) derive and check as SRI has them.
source "$SUITE_DIR/helpers.sh"

# secret key, public key, x-only key (hex)
pairs=(
    "zmBEmPhqo3A92FkiLVvyCz6htc3e53ph3ZbD4ASqGaLjwnFLi 9bDuixKmZqAJnrmP746n8zU1wyAQRrus7th9dxnkPg6RzQvCnan 4df78c3f49302eef4ec3ef2daf5fa337bb63c59a2f1844664776277e9470118c"
    "mkDLTBBRxdBv998612qipDYoTK3YUrqLe8uWw7gu3iXbSrn2n 9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72 24ee3c3804a1aaa4c03b80ea19f7a5863c916e8994b7db94a3bad7ee092b6ce7"
)
for pair in "${pairs[@]}"; do
    read -r secret public xonly <<< "$pair"
    assert_exit 0 "$SV2" keygen pubkey "$secret"
    assert_eq "authority_public_key = \"$public\"" "$OUT" "pubkey of $secret"
    assert_exit 0 "$SV2" keygen pubkey --json "$secret"
    assert_eq "{\"authority_public_key\":\"$public\"}" "$OUT" "pubkey --json of $secret"
    assert_exit 0 "$SV2" keygen check "$public"
    assert_eq "valid authority public key (x-only $xonly)" "$OUT" "check $public"
    assert_exit 0 "$SV2" keygen check "$secret"
    assert_eq "valid authority secret key (public key $public)" "$OUT" "check $secret"
done

# SRI's hosted template provider authority key.
assert_exit 0 "$SV2" keygen check 9bwHCYnjhbHm4AS3pWg9MtAH83mzWohoJJJDELYBqZhDNqszDLc
assert_eq "valid authority public key (x-only abe73b2dd442131b64e0021b41c7f1e1423edc09c1815613b2a1acfe4aa271f5)" "$OUT"
