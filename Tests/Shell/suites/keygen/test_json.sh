# --json output is one JSON object with the TOML names as keys (checked with python3 -m json.tool).
source "$SUITE_DIR/helpers.sh"

assert_exit 0 "$SV2" keygen --json
json="$OUT"
assert_eq 1 "$(printf '%s\n' "$json" | wc -l | tr -d ' ')" "line count of sv2 keygen --json"
printf '%s\n' "$json" | python3 -m json.tool > pretty.json || fail "sv2 keygen --json is not JSON: $json"
keys="$(python3 -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin))))' < pretty.json)"
assert_eq "authority_public_key authority_secret_key" "$keys" "keys of sv2 keygen --json"
public="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["authority_public_key"])' < pretty.json)"
secret="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["authority_secret_key"])' < pretty.json)"

assert_exit 0 "$SV2" keygen generate --json
printf '%s\n' "$OUT" | python3 -m json.tool > /dev/null || fail "sv2 keygen generate --json is not JSON: $OUT"

assert_exit 0 "$SV2" keygen pubkey --json "$secret"
printf '%s\n' "$OUT" | python3 -m json.tool > /dev/null || fail "sv2 keygen pubkey --json is not JSON: $OUT"
assert_eq "$public" "$(printf '%s\n' "$OUT" | python3 -c 'import json, sys; print(json.load(sys.stdin)["authority_public_key"])')" \
    "public key from pubkey --json"
