# `sv2 probe` grades our own servers: `sv2 pool` (its embedded node) and its in-process job declarator, `sv2 proxy` in
# both channel modes in front of it, and `sv2 tp` over Noise and in plaintext. Every check passes or is skipped (group-mode proxies do not group
# standard channels), the exit status is 0, the share checks really ran (a stale share needs a block, found by the
# probe itself on regtest), --json parses, --only narrows, and an unknown check name is a usage error.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"

# probe_all NAME ARGS...: runs `sv2 probe ARGS` into NAME.out; fails unless it exits 0 with no FAIL or WARN line.
probe_all() {
    local name="$1"
    shift
    local status=0
    "$SV2" probe "$@" > "$name.out" 2> "$name.err" || status=$?
    cat "$name.out"
    (( status == 0 )) || fail "sv2 probe $name exited with $status"
    assert_not_contains "$(cat "$name.out")" "FAIL  " "probe of $name"
    assert_not_contains "$(cat "$name.out")" "WARN  " "probe of $name"
    assert_contains "$(tail -n 1 "$name.out")" "0 fail, 0 warn" "summary of $name"
}

pool_port="$(free_port)"
jn_port="$(free_port)"
start_pool pool "$pool_port" --datadir "$TEST_TMP/pool" --generation-rate 5 --jd-listen-address "127.0.0.1:$jn_port"
probe_all pool "$POOL_URL"
for check in share-stale share-duplicate share-accounting share-low-difficulty open-standard-channel group-channel; do
    grep -Eq "^PASS  $check " pool.out || fail "$check did not pass against sv2 pool"
done
probe_all jn "stratum2+tcp://127.0.0.1:$jn_port/${POOL_URL##*/}" --protocol job-declaration
for check in jd-allocate-token jd-declare-forged-token jd-provide-missing-transactions; do
    grep -Eq "^PASS  $check " jn.out || fail "$check did not pass against the pool's job declarator"
done

for mode in group aggregate; do
    proxy_port="$(free_port)"
    start_server "proxy-$mode" 'upstream set up' proxy --channel-mode "$mode" \
        --listen-address "127.0.0.1:$proxy_port" --upstream "$POOL_URL"
    probe_all "proxy-$mode" "$SERVER_URL"
done

source "$REPO_ROOT/Tests/Shell/suites/tp/helpers.sh"
start_tp tp --datadir "$TEST_TMP/tp"
BACKGROUND_PIDS+=("$TP_PID")
probe_all tp "stratum2+tcp://127.0.0.1:$TP_PORT/$TP_KEY" --protocol template-distribution
grep -Eq '^PASS  td-request-transaction-data ' tp.out || fail "td-request-transaction-data did not pass"

start_tp tp-plain --datadir "$TEST_TMP/tp-plain" --plaintext
BACKGROUND_PIDS+=("$TP_PID")
probe_all tp-plain "127.0.0.1:$TP_PORT" --plaintext --protocol template-distribution
grep -Eq '^SKIP  noise-handshake ' tp-plain.out || fail "noise-handshake not skipped in plaintext"

# --json: one object, every check with its verdict; --only narrows to the checks named.
"$SV2" probe "$POOL_URL" --json --only setup-connection share-invalid-job > probe.json
python3 - probe.json <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["passed"] is True, report
assert [check["name"] for check in report["checks"]] == ["setup-connection", "share-invalid-job"], report
assert all(check["verdict"] == "PASS" and check["section"] for check in report["checks"]), report
PY
assert_exit "$SV2_EXIT_USAGE" "$SV2" probe "$POOL_URL" --only no-such-check
assert_contains "$ERR" "no check named no-such-check"
assert_exit "$SV2_EXIT_USAGE" "$SV2" probe "stratum2+tcp://127.0.0.1:$pool_port/notakey"
