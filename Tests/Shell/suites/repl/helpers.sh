# Helpers for the repl suite: a scripted `sv2 repl` listening in the background.

# Makes a fresh authority key pair: sets AUTHORITY_SECRET and AUTHORITY_PUBLIC.
new_authority() {
    local json
    json="$("$SV2" keygen --json)"
    AUTHORITY_SECRET="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["authority_secret_key"])' <<< "$json")"
    AUTHORITY_PUBLIC="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["authority_public_key"])' <<< "$json")"
}

# scripted_job: the parts of a job a scripted pool sends (the test picks its own coinbase prefix): sets NOW (Unix
# time), SUFFIX (coinbase suffix: one 50 BTC output to OP_TRUE), PREV (a prevhash) and TARGET (one hash in 2^20 meets
# it; U256 in wire order, the most significant byte last).
scripted_job() {
    NOW="$(date +%s)"
    SUFFIX="ffffffff0100f2052a01000000015100000000"
    PREV="$(printf '11%.0s' $(seq 32))"
    TARGET="$(printf 'ff%.0s' $(seq 29))0f0000"
}

# start_listener NAME < SCRIPT: runs `sv2 repl` on the script in the background, output in NAME.out; waits until
# it listens and sets LISTENER_PID and PORT (the script's listen command should use port 0).
start_listener() {
    local name="$1"
    # A background job's standard input is /dev/null unless redirected: keep the script in a file.
    cat > "$name.in"
    "$SV2" repl < "$name.in" > "$name.out" 2>&1 &
    LISTENER_PID=$!
    PORT=""
    for _ in $(seq 200); do
        PORT="$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$name.out" | head -n 1 | cut -d: -f2 || true)"
        [[ -n "$PORT" ]] && return 0
        kill -0 "$LISTENER_PID" 2> /dev/null || break
        sleep 0.05
    done
    cat "$name.out" >&2
    fail "the listening repl did not report its port"
}

# wait_listener EXPECTED_STATUS NAME: waits for the background repl and checks its exit status.
wait_listener() {
    local expected="$1" name="$2" status=0
    wait "$LISTENER_PID" || status=$?
    if (( status != expected )); then
        cat "$name.out" >&2
        fail "the listening repl exited with $status, expected $expected"
    fi
}
