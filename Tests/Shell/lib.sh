# Helpers for the shell integration tests; Tests/Shell/run loads this file before each test.
#
# Each test runs in a fresh bash process with `set -eu -o pipefail` and its temporary directory as working
# directory. Variables: SV2 (the binary under test), REPO_ROOT, SUITE_DIR, FIXTURES, TEST_TMP, TEST_NAME.
#
#   fail MESSAGE...                  fail the test now
#   assert_eq EXPECTED ACTUAL [WHAT] fail unless the two strings are equal (shows a diff when multi-line)
#   assert_contains TEXT NEEDLE [WHAT]      fail unless TEXT contains NEEDLE
#   assert_not_contains TEXT NEEDLE [WHAT]  fail if TEXT contains NEEDLE
#   assert_exit CODE CMD [ARG...]    run CMD, fail unless it exits with CODE; CODE may be `nonzero` (any status
#                                    1-127). A status >= 128 (death by a signal) always fails, whatever CODE.
#                                    Afterwards $OUT and $ERR hold its stdout and stderr (also in the files
#                                    $TEST_TMP/.out and $TEST_TMP/.err, which survive a pipe into assert_exit),
#                                    $STATUS its exit status. With ASSERT_TIMEOUT=N set, CMD runs under
#                                    `timeout N` and a hang fails the test.

# Exit status of sv2 for bad input or a bad field value (documented in `sv2 decode --help`).
SV2_EXIT_BAD_INPUT=1
# Exit status of sv2 for a usage error such as an unknown option (swift-argument-parser's EX_USAGE).
SV2_EXIT_USAGE=64

OUT=""
ERR=""
STATUS=0

# Prints the message on stderr, marks the test failed (the runner checks the marker, so a failure inside a
# subshell or command substitution is not lost) and exits.
fail() {
    {
        echo "FAILED: $*"
        # Where in the test file (not in a helper) the failing check was made.
        local i
        for (( i = 1; i < ${#FUNCNAME[@]}; i++ )); do
            if [[ "${BASH_SOURCE[$i]##*/}" == test_*.sh ]]; then
                echo "  at ${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$(( i - 1 ))]}"
                break
            fi
        done
    } >&2
    : > "$TEST_TMP/.test-failed"
    exit 1
}

assert_eq() {
    local expected="$1" actual="$2" what="${3:-value}"
    [[ "$expected" == "$actual" ]] && return 0
    if [[ "$expected" == *$'\n'* || "$actual" == *$'\n'* ]]; then
        echo "$what differs (- expected, + actual):" >&2
        diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | tail -n +3 | head -n 60 >&2 || true
        fail "$what: not as expected"
    fi
    fail "$what: expected '$expected', got '$actual'"
}

assert_contains() {
    local text="$1" needle="$2" what="${3:-output}"
    [[ "$text" == *"$needle"* ]] && return 0
    echo "---- $what ----" >&2
    printf '%s\n' "$text" | head -n 40 >&2
    echo "----" >&2
    fail "$what does not contain this: $needle"
}

assert_not_contains() {
    local text="$1" needle="$2" what="${3:-output}"
    [[ "$text" != *"$needle"* ]] && return 0
    echo "---- $what ----" >&2
    printf '%s\n' "$text" | head -n 40 >&2
    echo "----" >&2
    fail "$what contains this: $needle"
}

# A readable name for signal number $1.
signal_name() {
    local name
    name="$(kill -l "$1" 2> /dev/null)" && echo "SIG$name" || echo "signal $1"
}

# Quotes a command line for messages.
describe_command() {
    local text
    printf -v text '%q ' "$@"
    text="${text% }"
    (( ${#text} > 300 )) && text="${text:0:300}..."
    printf '%s' "$text"
}

assert_exit() {
    local expected="$1"
    shift
    (( $# > 0 )) || fail "assert_exit: no command given"
    local status=0
    if [[ -n "${ASSERT_TIMEOUT:-}" ]]; then
        timeout --kill-after=2 "$ASSERT_TIMEOUT" "$@" > "$TEST_TMP/.out" 2> "$TEST_TMP/.err" || status=$?
    else
        "$@" > "$TEST_TMP/.out" 2> "$TEST_TMP/.err" || status=$?
    fi
    STATUS=$status
    OUT="$(cat "$TEST_TMP/.out")"
    ERR="$(cat "$TEST_TMP/.err")"
    local command
    command="$(describe_command "$@")"
    if [[ -n "${ASSERT_TIMEOUT:-}" ]] && (( status == 124 || status == 137 )); then
        fail "hang: '$command' did not finish within ${ASSERT_TIMEOUT}s (status $status)"
    fi
    if (( status >= 128 )); then
        echo "stderr: ${ERR:0:2000}" >&2
        fail "crash: '$command' was killed by $(signal_name $(( status - 128 ))) (exit status $status)"
    fi
    local ok=false
    if [[ "$expected" == nonzero ]]; then
        (( status != 0 )) && ok=true
    elif [[ "$expected" =~ ^[0-9]+$ ]]; then
        (( status == expected )) && ok=true
    else
        fail "assert_exit: CODE must be a number or 'nonzero', not '$expected'"
    fi
    if ! $ok; then
        echo "stdout: ${OUT:0:2000}" >&2
        echo "stderr: ${ERR:0:2000}" >&2
        fail "'$command' exited with $status, expected $expected"
    fi
    return 0
}
