# On a terminal (a pseudo-terminal from script(1)), the repl edits lines with readline: TAB completes commands,
# message names and field names, and the lines entered are saved in the history file.
command -v script > /dev/null || fail "script(1) from util-linux is needed for this test"
( printf 'se\t SetupConnection.S\t us\t2 flags=0\n'; sleep 0.5; printf 'quit\n' ) |
    ASSERT_TIMEOUT=20 assert_exit 0 script -qfec "$SV2 repl --history-file $TEST_TMP/history" /dev/null
OUT="$(cat "$TEST_TMP/.out")"   # assert_exit ran in the pipeline's subshell
assert_contains "$OUT" "sv2 repl: type help for the commands"
assert_contains "$OUT" "not connected"
assert_eq "send  SetupConnection.Success  used_version=2 flags=0
quit" "$(cat "$TEST_TMP/history")" "history file"
