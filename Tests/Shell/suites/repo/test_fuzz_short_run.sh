# A short libFuzzer run of every target (frames, handshake, noise-frames) finds no failure: SV2_FUZZ_SECONDS
# (default 30) split between the three, at least 1 s each.
per_target=$(( ${SV2_FUZZ_SECONDS:-30} / 3 ))
(( per_target > 0 )) || per_target=1
ASSERT_TIMEOUT=600 assert_exit 0 "$REPO_ROOT/scripts/fuzz" "$per_target"
assert_contains "$ERR" "fuzz: no failure in ${per_target}s each for frames handshake noise-frames"
