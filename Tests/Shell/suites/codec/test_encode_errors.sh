# sv2 encode refuses a missing field, an unknown field, an out-of-range value and an unknown message with exit
# status 1 and a message naming the field (or the message); usage errors exit 64.
source "$SUITE_DIR/helpers.sh"

u256="$(printf 'ab%.0s' {1..32})"
bytes33="$(printf 'aa%.0s' {1..33})"
bytes32="$(printf 'aa%.0s' {1..32})"
push=(PushSolution prev_hash="$u256" nonce=1 ntime=2 nbits=3 version=4)   # without extranonce

# The valid forms work (so the failures below are about the one bad field).
assert_exit 0 "$SV2" encode SetupConnection.Success used_version=2 flags=0
assert_exit 0 "$SV2" encode "${push[@]}" extranonce="$bytes32"

# Missing fields.
expect_error "missing field" "SetupConnection.Success" "missing field" "flags" -- \
    "$SV2" encode SetupConnection.Success used_version=2
expect_error "two missing fields" "used_version" "flags" -- \
    "$SV2" encode SetupConnection.Success
expect_error "missing extranonce" "PushSolution" "extranonce" -- \
    "$SV2" encode "${push[@]}"

# Unknown and malformed fields.
expect_error "unknown field" "SetupConnection.Success" "'foo'" -- \
    "$SV2" encode SetupConnection.Success used_version=2 flags=0 foo=1
expect_error "misspelt field" "'flag'" -- \
    "$SV2" encode SetupConnection.Success used_version=2 flag=0
expect_error "field given twice" "flags" "twice" -- \
    "$SV2" encode SetupConnection.Success used_version=2 flags=0 flags=1
expect_error "word without =" "'flags'" -- \
    "$SV2" encode SetupConnection.Success used_version=2 flags

# Out-of-range and malformed values.
setup=(SetupConnection min_version=2 max_version=2 flags=0 endpoint_host=h endpoint_port=1 vendor=v
       hardware_version=h firmware=f device_id=d)
expect_error "U8 300" "protocol" "U8" "300" -- "$SV2" encode "${setup[@]}" protocol=300
expect_error "U8 -1" "protocol" "U8" -- "$SV2" encode "${setup[@]}" protocol=-1
expect_error "U8 not a number" "protocol" "U8" -- "$SV2" encode "${setup[@]}" protocol=zero
expect_error "U16 65536" "used_version" "U16" "65536" -- \
    "$SV2" encode SetupConnection.Success used_version=65536 flags=0
expect_error "U32 2^32" "flags" "U32" "4294967296" -- \
    "$SV2" encode SetupConnection.Success used_version=2 flags=4294967296
expect_error "U64 2^64" "template_id" "U64" -- \
    "$SV2" encode RequestTransactionData template_id=18446744073709551616
expect_error "B0_32 of 33 bytes" "extranonce" "B0_32" -- "$SV2" encode "${push[@]}" extranonce="$bytes33"
expect_error "B0_32 odd hex" "extranonce" "B0_32" -- "$SV2" encode "${push[@]}" extranonce=abc
expect_error "B0_32 not hex" "extranonce" "B0_32" -- "$SV2" encode "${push[@]}" extranonce=zz
expect_error "U256 too short" "prev_hash" "U256" -- \
    "$SV2" encode PushSolution extranonce= prev_hash=abcd nonce=1 ntime=2 nbits=3 version=4
expect_error "U256 too long" "prev_hash" "U256" -- \
    "$SV2" encode PushSolution extranonce= prev_hash="${u256}ab" nonce=1 ntime=2 nbits=3 version=4
expect_error "STR0_255 of 256 bytes" "user_identity" "STR0_255" -- \
    "$SV2" encode OpenStandardMiningChannel request_id=1 user_identity="$(printf 'a%.0s' {1..256})" \
    nominal_hash_rate=1 max_target="$u256"
expect_error "STR0_255 of 256 UTF-8 bytes" "user_identity" "STR0_255" -- \
    "$SV2" encode OpenStandardMiningChannel request_id=1 user_identity="$(printf 'é%.0s' {1..128})" \
    nominal_hash_rate=1 max_target="$u256"
expect_error "F32 not a number" "nominal_hash_rate" "F32" -- \
    "$SV2" encode OpenStandardMiningChannel request_id=1 user_identity=u nominal_hash_rate=fast max_target="$u256"
expect_error "BOOL maybe" "version_rolling_allowed" "BOOL" -- \
    "$SV2" encode NewExtendedMiningJob channel_id=1 job_id=2 min_ntime=3 version=4 version_rolling_allowed=maybe \
    merkle_path= coinbase_tx_prefix= coinbase_tx_suffix=
expect_error "OPTION[U32] word" "min_ntime" "OPTION[U32]" -- \
    "$SV2" encode NewMiningJob channel_id=1 job_id=2 min_ntime=soon version=4 merkle_root="$u256"
expect_error "OPTION[U32] 2^32" "min_ntime" "OPTION[U32]" -- \
    "$SV2" encode NewMiningJob channel_id=1 job_id=2 min_ntime=4294967296 version=4 merkle_root="$u256"
expect_error "SEQ0_64K[U16] element 65536" "requested_extensions" "SEQ0_64K[U16]" -- \
    "$SV2" encode RequestExtensions request_id=1 requested_extensions=1,65536
expect_error "SEQ0_255[U256] of 256 elements" "merkle_path" "SEQ0_255[U256]" -- \
    "$SV2" encode NewExtendedMiningJob channel_id=1 job_id=2 min_ntime=3 version=4 version_rolling_allowed=true \
    merkle_path="$(python3 -c "import sys; print(','.join([sys.argv[1]] * 256))" "$u256")" coinbase_tx_prefix= coinbase_tx_suffix=

# Unknown message names.
expect_error "unknown message" "'Nope'" -- "$SV2" encode Nope
expect_error "unknown message with fields" "'SetupConnection.Sucess'" -- \
    "$SV2" encode SetupConnection.Sucess used_version=2 flags=0

# Usage errors exit 64 and show the usage of `sv2 encode`.
EXPECTED_STATUS=$SV2_EXIT_USAGE expect_error "no message" "message" -- "$SV2" encode
assert_contains "$ERR" "Usage: sv2 encode" "usage error message"
EXPECTED_STATUS=$SV2_EXIT_USAGE expect_error "--json and a message" "--json" -- \
    "$SV2" encode --json '{"message":"SetupConnection.Success","used_version":2,"flags":0}' SetupConnection.Success
assert_contains "$ERR" "Usage: sv2 encode" "usage error message"
EXPECTED_STATUS=$SV2_EXIT_USAGE expect_error "unknown option" "Unknown option '--bogus'" -- \
    "$SV2" encode --bogus SetupConnection.Success used_version=2 flags=0
assert_contains "$ERR" "Usage: sv2 encode" "usage error message"

# The same mistakes in JSON input.
expect_error "JSON: unknown message" "'Nope'" -- "$SV2" encode --json '{"message":"Nope"}'
expect_error "JSON: missing field" "flags" -- "$SV2" encode --json '{"message":"SetupConnection.Success","used_version":2}'
expect_error "JSON: unknown field" "'extra'" -- \
    "$SV2" encode --json '{"message":"SetupConnection.Success","used_version":2,"flags":0,"extra":1}'
expect_error "JSON: U8 300" "protocol" "U8" -- \
    "$SV2" encode --json '{"message":"SetupConnection","protocol":300,"min_version":2,"max_version":2,"flags":0,"endpoint_host":"h","endpoint_port":1,"vendor":"v","hardware_version":"h","firmware":"f","device_id":"d"}'
expect_error "JSON: B0_32 of 33 bytes" "extranonce" "B0_32" -- \
    "$SV2" encode --json "{\"message\":\"PushSolution\",\"extranonce\":\"$bytes33\",\"prev_hash\":\"$u256\",\"nonce\":1,\"ntime\":2,\"nbits\":3,\"version\":4}"
expect_error "JSON: no message key" "message" -- "$SV2" encode --json '{"used_version":2}'
expect_error "JSON: not JSON" "JSON" -- "$SV2" encode --json '{"message":'
printf '{"message":"SetupConnection.Success","used_version":2,"flags":0}\n{"message":"SetupConnection.Success","used_version":2}\n' > two.json
expect_error "JSON: missing field in the second object" "flags" -- "$SV2" encode --json two.json
expect_error "JSON: missing file" "nofile.json" -- "$SV2" encode --json nofile.json
# B0_64K at its bound (65535 bytes, too long for a command-line argument, so in a JSON file) and over it.
for size in 65535 65536; do
    python3 -c 'import json, sys; print(json.dumps({"message": "SubmitSolution", "template_id": 1, "version": 2,
        "header_timestamp": 3, "header_nonce": 4, "coinbase_tx": "ab" * int(sys.argv[1])}))' "$size" > "b064k-$size.json"
done
assert_exit 0 "$SV2" encode --json b064k-65535.json
assert_eq $(( 2 * (6 + 8 + 4 + 4 + 4 + 2 + 65535) )) "${#OUT}" "hex length of a frame with a 65535-byte B0_64K"
expect_error "JSON: B0_64K of 65536 bytes" "coinbase_tx" "B0_64K" -- "$SV2" encode --json b064k-65536.json

finish_expect_error

# Last, as it fails at present: an unknown option alone is reported as such, not as a missing message name.
EXPECTED_STATUS=$SV2_EXIT_USAGE expect_error "unknown option alone" "Unknown option '--bogus'" -- "$SV2" encode --bogus
finish_expect_error
