# sv2 keygen prints a fresh pair as two TOML lines; the secret derives the public key, and both check as valid.
source "$SUITE_DIR/helpers.sh"

assert_exit 0 "$SV2" keygen
pair="$OUT"
assert_eq 2 "$(printf '%s\n' "$pair" | wc -l | tr -d ' ')" "line count of sv2 keygen"
public="$(toml_value authority_public_key "$pair")"
secret="$(toml_value authority_secret_key "$pair")"
[[ "$public" =~ ^[1-9A-HJ-NP-Za-km-z]+$ ]] || fail "public key '$public' is not base58"
[[ "$secret" =~ ^[1-9A-HJ-NP-Za-km-z]+$ ]] || fail "secret key '$secret' is not base58"

# pubkey derives the same public key from the secret.
assert_exit 0 "$SV2" keygen pubkey "$secret"
assert_eq "authority_public_key = \"$public\"" "$OUT" "sv2 keygen pubkey"

# check recognises each for what it is.
assert_exit 0 "$SV2" keygen check "$public"
assert_contains "$OUT" "valid authority public key (x-only "
[[ "$OUT" =~ \(x-only\ [0-9a-f]{64}\)$ ]] || fail "no 64-digit x-only key in: $OUT"
assert_exit 0 "$SV2" keygen check "$secret"
assert_eq "valid authority secret key (public key $public)" "$OUT" "sv2 keygen check <secret>"

# `generate` is the default subcommand; two runs give different keys.
assert_exit 0 "$SV2" keygen generate
assert_not_contains "$OUT" "$secret" "a second key pair"
second_public="$(toml_value authority_public_key "$OUT")"
second_secret="$(toml_value authority_secret_key "$OUT")"
assert_exit 0 "$SV2" keygen pubkey "$second_secret"
assert_eq "authority_public_key = \"$second_public\"" "$OUT" "sv2 keygen pubkey of the second pair"

# Surrounding whitespace is ignored, as in configuration files.
assert_exit 0 "$SV2" keygen pubkey "  $secret "
assert_eq "authority_public_key = \"$public\"" "$OUT" "sv2 keygen pubkey with spaces"

# A link named sv2-keygen runs sv2 keygen (busybox style).
ln -s "$SV2" sv2-keygen
assert_exit 0 ./sv2-keygen check "$public"
assert_contains "$OUT" "valid authority public key"
