# A short libFuzzer run over the frame and message decoders (SV2_FUZZ_SECONDS, default 30) finds no failure.
ASSERT_TIMEOUT=600 assert_exit 0 "$REPO_ROOT/scripts/fuzz" "${SV2_FUZZ_SECONDS:-30}"
assert_contains "$ERR" "fuzz: no failure"
