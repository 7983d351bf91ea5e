# Helpers shared by the codec tests (sourced by them, after lib.sh).

# The hex of the fixture frame called $1 (fixtures/sri_frames.txt).
frame_hex() {
    local hex
    hex="$(awk -v name="$1" '$1 == name { print $2 }' "$FIXTURES/sri_frames.txt")"
    [[ -n "$hex" ]] || fail "no fixture frame named '$1'"
    printf '%s' "$hex"
}

# expect_error WHAT NEEDLE... -- CMD [ARG...]
# (EXPECTED_STATUS=N expect_error … expects status N instead of $SV2_EXIT_BAD_INPUT.)
# CMD must fail (never by a signal), print nothing on stdout, and print "Error: …" on stderr whose first line
# contains every NEEDLE. Its exit status must be the documented $SV2_EXIT_BAD_INPUT; a different status is
# collected and reported by finish_expect_error, so one wrong status does not hide the other checks.
wrong_status=()
expect_error() {
    local what="$1" needles=() needle first_line
    shift
    while (( $# > 0 )) && [[ "$1" != -- ]]; do needles+=("$1"); shift; done
    (( $# > 1 )) || fail "expect_error: no command after --"
    shift
    assert_exit nonzero "$@"
    assert_eq "" "$OUT" "$what: stdout"
    first_line="${ERR%%$'\n'*}"
    [[ "$first_line" == "Error: "* ]] || fail "$what: stderr does not start with 'Error: ': '${ERR:0:300}'"
    for needle in "${needles[@]}"; do
        assert_contains "$first_line" "$needle" "$what: error message"
    done
    if (( STATUS != ${EXPECTED_STATUS:-$SV2_EXIT_BAD_INPUT} )); then
        wrong_status+=("$what: exit status $STATUS, expected ${EXPECTED_STATUS:-$SV2_EXIT_BAD_INPUT}: $(describe_command "$@")")
    fi
    return 0
}

finish_expect_error() {
    (( ${#wrong_status[@]} == 0 )) && return 0
    echo "The error messages were right, but these exited with another status ($SV2_EXIT_BAD_INPUT for bad input, $SV2_EXIT_USAGE for a usage error):" >&2
    local line
    for line in "${wrong_status[@]:0:10}"; do echo "  ${line:0:240}" >&2; done
    (( ${#wrong_status[@]} <= 10 )) || echo "  … and $(( ${#wrong_status[@]} - 10 )) more" >&2
    fail "${#wrong_status[@]} command(s) exited with an unexpected status"
}
