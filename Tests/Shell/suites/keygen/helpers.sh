# Helpers shared by the keygen tests (sourced by them, after lib.sh).

# The value of `NAME = "value"` in the TOML text $2, for NAME $1.
toml_value() {
    local value
    value="$(printf '%s\n' "$2" | sed -n "s/^$1 = \"\\([^\"]*\\)\"\$/\\1/p")"
    [[ -n "$value" ]] || fail "no line '$1 = \"...\"' in: $2"
    printf '%s' "$value"
}

# expect_key_error WHAT NEEDLE... -- CMD [ARG...]
# CMD must exit with $SV2_EXIT_BAD_INPUT, print nothing on stdout, and print one line "Error: …" on stderr that
# contains every NEEDLE.
expect_key_error() {
    local what="$1" needles=() needle
    shift
    while (( $# > 0 )) && [[ "$1" != -- ]]; do needles+=("$1"); shift; done
    (( $# > 1 )) || fail "expect_key_error: no command after --"
    shift
    assert_exit "$SV2_EXIT_BAD_INPUT" "$@"
    assert_eq "" "$OUT" "$what: stdout"
    [[ "$ERR" == "Error: "* ]] || fail "$what: stderr does not start with 'Error: ': '${ERR:0:300}'"
    [[ "$ERR" != *$'\n'* ]] || fail "$what: more than one line on stderr: '${ERR:0:300}'"
    for needle in "${needles[@]}"; do
        assert_contains "$ERR" "$needle" "$what: error message"
    done
}
