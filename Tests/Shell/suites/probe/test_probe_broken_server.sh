# `sv2 probe` against a deliberately broken Sv2 server written from the spec in Python (broken_server.py, with its
# own Noise responder and hashlib share validation): the probe reports exactly the three faults it was given (channel
# ids reused, a sequence number not echoed, the wrong error code for a low-difficulty share) and passes everything
# the server gets right, including valid shares its independent header hashing accepts. Run again with a certificate
# signed by another authority, the handshake check fails, naming the wrong authority, and the rest is skipped.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs coincurve and cryptography)"
keys="$("$SV2" keygen)"
public="$(sed -n 's/^authority_public_key = "\(.*\)"$/\1/p' <<< "$keys")"
secret="$(sed -n 's/^authority_secret_key = "\(.*\)"$/\1/p' <<< "$keys")"

# start_broken NAME ARGS...: broken_server.py on a free port, its output in NAME.log; sets BROKEN_PORT.
start_broken() {
    local name="$1"
    shift
    BROKEN_PORT="$(free_port)"
    "$python" "$SUITE_DIR/broken_server.py" "$BROKEN_PORT" "$secret" "$@" > "$name.log" 2>&1 &
    BACKGROUND_PIDS+=("$!")
    wait_for_log "$name.log" "listening on" 20 "$!"
}

checks=(noise-handshake certificate-validity setup-connection setup-version-mismatch open-standard-channel
    open-extended-channel unique-channel-ids share-invalid-channel share-invalid-job share-low-difficulty
    share-accounting update-channel-unknown)
start_broken broken
assert_exit 1 "$SV2" probe "stratum2+tcp://127.0.0.1:$BROKEN_PORT/$public" --only "${checks[@]}"
printf '%s\n' "$OUT"
failed="$(grep -E '^FAIL ' <<< "$OUT" | awk '{print $2}' | sort | tr '\n' ' ')"
assert_eq "share-invalid-job share-low-difficulty unique-channel-ids " "$failed" "failed checks"
assert_contains "$OUT" "got [1, 1, 1]"
assert_contains "$OUT" "expected sequence_number 1 echoed (5.3.14); got sequence_number 0"
assert_contains "$OUT" "expected SubmitShares.Error difficulty-too-low for a hash above the target; got SubmitShares.Error stale-share"
assert_eq "9" "$(grep -Ec '^PASS ' <<< "$OUT")" "checks passed"
assert_contains "$OUT" "9 pass, 3 fail, 0 warn, 0 skip — DOES NOT CONFORM"

start_broken broken-certificate --bad-certificate
assert_exit 1 "$SV2" probe "stratum2+tcp://127.0.0.1:$BROKEN_PORT/$public" --only "${checks[@]}"
printf '%s\n' "$OUT"
assert_contains "$OUT" "FAIL  noise-handshake"
assert_contains "$OUT" "certificate is not signed by the configured authority public key"
assert_contains "$OUT" "0 pass, 1 fail, 0 warn, 11 skip"
