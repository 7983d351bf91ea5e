# Helpers for the tp suite: an `sv2 tp` in the background on free loopback ports.

# start_tp NAME ARGS...: starts `sv2 tp ARGS` with output in NAME.log; waits until it serves; sets TP_PID,
# TP_PORT (Template Distribution) and TP_KEY (its authority public key).
start_tp() {
    local name="$1"
    shift
    "$SV2" tp --listen-address 127.0.0.1:0 "$@" > "$name.log" 2>&1 &
    TP_PID=$!
    TP_PORT=""
    for _ in $(seq 300); do
        TP_PORT="$(grep -o 'Template Distribution on 127\.0\.0\.1:[0-9]*' "$name.log" | head -n 1 | cut -d: -f2 || true)"
        [[ -n "$TP_PORT" ]] && break
        kill -0 "$TP_PID" 2> /dev/null || break
        sleep 0.1
    done
    [[ -n "$TP_PORT" ]] || { cat "$name.log" >&2; fail "sv2 tp did not start"; }
    TP_KEY="$(grep -o 'authority_public_key = "[^"]*"' "$name.log" | head -n 1 | cut -d'"' -f2 || true)"
}

# stop_tp NAME: SIGTERM, then the exit status must be 0.
stop_tp() {
    local status=0
    kill -TERM "$TP_PID"
    wait "$TP_PID" || status=$?
    (( status == 0 )) || { cat "$1.log" >&2; fail "sv2 tp exited with $status after SIGTERM"; }
}

# free_port: a TCP port nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
