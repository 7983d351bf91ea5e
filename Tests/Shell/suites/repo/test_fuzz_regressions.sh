# Every input the fuzzer once failed on (Tests/Fuzz/regressions) and every seed still decodes without a failure.
fuzz="$(dirname "$SV2")/Sv2Fuzz"
[[ -x "$fuzz" ]] || fail "no Sv2Fuzz next to $SV2 (swift build --product Sv2Fuzz)"
shopt -s nullglob
inputs=("$REPO_ROOT"/Tests/Fuzz/regressions/* "$REPO_ROOT"/Tests/Fuzz/seeds/*)
(( ${#inputs[@]} > 0 )) || fail "no fuzz inputs found"
assert_exit 0 "$fuzz" "${inputs[@]}"
assert_contains "$OUT" "replayed ${#inputs[@]} inputs without a failure"
