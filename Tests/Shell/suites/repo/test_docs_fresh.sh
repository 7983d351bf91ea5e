# The committed man pages and shell completions match the command tree of the binary under test.
assert_exit 0 env SV2_BIN="$SV2" "$REPO_ROOT/scripts/gen-docs" --check
assert_contains "$ERR$OUT" "up to date"
