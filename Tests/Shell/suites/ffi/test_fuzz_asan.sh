# Tests/FFI/fuzz_frames.c under AddressSanitizer and LeakSanitizer: 10,000 random, truncated and corrupted frames into
# the decoder (decoded ones read back and re-encoded), random bytes into both sides of the Noise handshake and into an
# established transport, and accessor misuse. Every call returns an error code: no crash, no sanitizer report, no
# leak, for a fixed seed and a fresh one.
source "$SUITE_DIR/helpers.sh"

build_asan fuzz_frames "$FFI_SOURCES/fuzz_frames.c"
for seed in 1 "$(( $(date +%s) % 100000 + 2 ))"; do
    echo "seed $seed"
    ASSERT_TIMEOUT=100 assert_exit 0 ./fuzz_frames 10000 "$seed"
    echo "$OUT"
    assert_no_sanitizer_report "$TEST_TMP/.err"
    assert_contains "$OUT" "10000 frames: "
    assert_contains "$OUT" "; 0 failed checks"
    # The mix reaches the decoders: some frames decode, most are refused.
    decoded="$(sed -n 's/.*frames: \([0-9]*\) decoded.*/\1/p' <<< "$OUT")"
    (( decoded >= 500 && decoded <= 5000 )) || fail "only $decoded of 10000 frames decoded: the fuzzer does not reach the decoders"
done
