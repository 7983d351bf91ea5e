# Each kind of bad key string exits 1 with one error line naming its problem.
source "$SUITE_DIR/helpers.sh"

# The negatives of SRI's key-utils (testvectors/sri/key_utils_base58.json).
expect_key_error "checksum mismatch" "bad checksum" -- \
    "$SV2" keygen check 9bDuixKmZqAJnrmP746n8zU1wyAQRrus7th9dxnkPg6RzQvCnam
expect_key_error "version 12" "authority public key" "wrong version 12" -- \
    "$SV2" keygen check 2myPhc5vkPzuC5FXNK5tee79WmP7uoLh55SxezoF8iqwF3E3rnPY
expect_key_error "33-byte payload" "wrong length" "33 bytes" -- \
    "$SV2" keygen check 2wmHTKZkLg2QzXyEXGMBXzKP7JXDUt8yy9SA5hoQwERc92qR6c

# Characters outside the base58 alphabet, named with their position.
expect_key_error "a zero" "invalid base58 character '0' at position 22" -- \
    "$SV2" keygen check 9auqWEzQDVyd2oe1JVGFL0LHZtCo2FFqZwtKA5gd9xbuEu7PH72
expect_key_error "an l" "invalid base58 character 'l' at position 3" -- "$SV2" keygen check hello
expect_key_error "punctuation" "invalid base58 character '-' at position 5" -- "$SV2" keygen check 9auq-WEzQ
expect_key_error "non-ASCII" "invalid base58 character" "U+E9" "position 2" -- "$SV2" keygen check "9éauq"
expect_key_error "inner space" "invalid base58 character U+20 at position 5" -- "$SV2" keygen check "9auq WEzQ"

# Garbage that is base58 but not base58check, and the empty string.
expect_key_error "random base58 text" "bad checksum" -- "$SV2" keygen check 3yZe7d
expect_key_error "two characters" "wrong length" "too short for base58check" -- "$SV2" keygen check 5T
expect_key_error "empty" "wrong length" "empty" -- "$SV2" keygen check ""

# Well-formed base58check of other lengths: 20 bytes, 33 bytes without a version.
expect_key_error "20-byte payload" "wrong length" "20 bytes" -- "$SV2" keygen check 12D2adLM3UKy4Z4giRbReR6gjWx1w6Dz
expect_key_error "33 bytes, no version" "wrong length" "33 bytes" -- \
    "$SV2" keygen check 2xdZkRqSiMTzebC9kqn6yBUVjg2Wt6SqmWPorHkXPrtPTBNEaw

# Version 1 and 32 bytes, but no curve point has that x: x = 5, and x = 2^256 - 1 (not below p).
expect_key_error "x = 5" "authority public key" "not on the curve" -- \
    "$SV2" keygen check 9adaAMuB9v8yX1mZ5PtoB6VFSCeqRGjASd8ZTM6VUkiHLnHWfDH
expect_key_error "x over p" "authority public key" "not on the curve" -- \
    "$SV2" keygen check 9caKLbMD1LpCeqMFyyWo8R62MKGZ4ya3EGCfhVnPUQifpnNF7GT

# 32-byte secret keys out of range: zero and the group order n.
expect_key_error "zero secret" "authority secret key" "zero or not below the curve order" -- \
    "$SV2" keygen check 11111111111111111111111111111111273Yts
expect_key_error "secret = n" "authority secret key" "zero or not below the curve order" -- \
    "$SV2" keygen check 2wkBET2rRgE8pahuaczxKbhPFFp7gb6Kvp7zHyaJMz1jJfMAKc

# pubkey wants a secret key: a public key, a bad checksum and a zero key are refused with the reason.
expect_key_error "pubkey of a public key" "authority secret key" "wrong length" "this is an authority public key" -- \
    "$SV2" keygen pubkey 9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72
expect_key_error "pubkey, bad checksum" "bad checksum" -- "$SV2" keygen pubkey mkDLTBBRxdBv998612qipDYoTK3YUrqLe8uWw7gu3iXbSrn2m
expect_key_error "pubkey of zero" "zero or not below the curve order" -- "$SV2" keygen pubkey 11111111111111111111111111111111273Yts
expect_key_error "pubkey --json, bad character" "invalid base58 character 'O'" -- "$SV2" keygen pubkey --json OOO

# A missing argument is a usage error (64), not bad input.
assert_exit "$SV2_EXIT_USAGE" "$SV2" keygen check
assert_contains "$ERR" "Usage: sv2 keygen check"
