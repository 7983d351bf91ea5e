# `sv2 probe --serve` against a deliberately broken client (broken_client.py, written from the spec with sv2noise's
# Noise): the report names exactly its four faults (a repeated sequence number, a version bit outside the BIP320 mask,
# an ntime an hour ahead, ignoring Reconnect until the probe closes the connection 10 s later) and warns about its
# empty hardware_version; --connections 1 ends the run after it with exit status 1.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs coincurve and cryptography)"
port="$(free_port)"
"$SV2" probe --serve "127.0.0.1:$port" --datadir "$TEST_TMP/node" --generation-rate 0 --reconnect-after 2 --connections 1 \
    > serve.out 2> serve.log &
serve_pid=$!
BACKGROUND_PIDS+=("$serve_pid")
wait_for_log serve.log 'mining on 127\.0\.0\.1' 60 "$serve_pid"
ASSERT_TIMEOUT=90 assert_exit 0 "$python" "$SUITE_DIR/broken_client.py" "$port"
status=0
wait "$serve_pid" || status=$?
cat serve.out
assert_eq 1 "$status" "exit status of sv2 probe --serve"
failed="$(grep -E '^FAIL ' serve.out | awk '{print $2}' | sort | tr '\n' ' ')"
assert_eq "honours-reconnect share-ntime share-sequence share-version-bits " "$failed" "failed checks"
warned="$(grep -E '^WARN ' serve.out | awk '{print $2}' | tr '\n' ' ')"
assert_eq "setup-fields " "$warned" "warnings"
assert_contains "$(cat serve.out)" "got channel 1: 1 after 1"
assert_contains "$(cat serve.out)" "hardware_version empty"
assert_contains "$(cat serve.out)" "still here after 10 s"
assert_contains "$(cat serve.out)" "(broken-client 0.1): 7 pass, 4 fail, 1 warn, 0 skip — DOES NOT CONFORM"
