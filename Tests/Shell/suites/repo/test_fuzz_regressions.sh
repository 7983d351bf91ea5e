# Every input the fuzzer once failed on (Tests/Fuzz/<target>/regressions) and every seed still runs through its
# target without a failure, for every target.
fuzz="$(dirname "$SV2")/Sv2Fuzz"
[[ -x "$fuzz" ]] || fail "no Sv2Fuzz next to $SV2 (swift build --product Sv2Fuzz)"
shopt -s nullglob
for target in frames handshake noise-frames; do
    inputs=("$REPO_ROOT/Tests/Fuzz/$target"/regressions/* "$REPO_ROOT/Tests/Fuzz/$target"/seeds/*)
    (( ${#inputs[@]} > 0 )) || fail "no fuzz inputs found for $target"
    assert_exit 0 "$fuzz" --target "$target" "${inputs[@]}"
    assert_contains "$OUT" "replayed ${#inputs[@]} $target inputs without a failure"
done
# Every target has its folder, and no folder is left without a target.
for folder in "$REPO_ROOT"/Tests/Fuzz/*/; do
    assert_exit 0 "$fuzz" --target "$(basename "$folder")"
done
