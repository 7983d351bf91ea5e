# Helpers for the pool suite: sv2 tp, sv2 pool and sv2 mine in the background on loopback ports. Every process
# started here is killed when the test exits.

source "$REPO_ROOT/Tests/Shell/suites/tp/helpers.sh"

BACKGROUND_PIDS=()
trap 'for pid in "${BACKGROUND_PIDS[@]}"; do kill -9 "$pid" 2> /dev/null || true; done' EXIT

# A regtest P2WPKH address for block rewards (hash160 of nothing in particular).
REWARD_ADDRESS="bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

# wait_for_log FILE PATTERN SECONDS [PID]: waits until FILE has a line matching PATTERN (grep -E); fails with the
# file's tail after SECONDS, or at once if PID (given) has died.
wait_for_log() {
    local file="$1" pattern="$2" seconds="$3" pid="${4:-}"
    local deadline=$(( SECONDS + seconds ))
    while (( SECONDS < deadline )); do
        grep -Eq -- "$pattern" "$file" 2> /dev/null && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2> /dev/null; then
            tail -n 30 "$file" >&2
            fail "process $pid died before '$pattern' appeared in $file"
        fi
        sleep 0.2
    done
    tail -n 30 "$file" >&2
    fail "no '$pattern' in $file within $seconds s"
}

# count_log FILE PATTERN: the number of lines of FILE matching PATTERN (0 when none or no file).
count_log() {
    grep -Ec -- "$2" "$1" 2> /dev/null || true
}

# start_server NAME PATTERN ARGS...: `sv2 ARGS` in the background with output in NAME.log; waits until a line matches
# PATTERN; sets SERVER_PID and SERVER_URL (the first stratum2+tcp URL it logged).
start_server() {
    local name="$1" pattern="$2"
    shift 2
    "$SV2" "$@" > "$name.log" 2>&1 &
    SERVER_PID=$!
    BACKGROUND_PIDS+=("$SERVER_PID")
    wait_for_log "$name.log" "$pattern" 60 "$SERVER_PID"
    SERVER_URL="$(grep -Eo 'stratum2\+tcp://[^)]*' "$name.log" | head -n 1)"
    [[ -n "$SERVER_URL" ]] || fail "sv2 $1 did not log its URL"
}

# start_pool NAME PORT ARGS...: `sv2 pool` on 127.0.0.1:PORT with output in NAME.log; waits until it serves;
# sets POOL_PID and POOL_URL.
start_pool() {
    local name="$1" port="$2"
    shift 2
    start_server "$name" 'mining on 127\.0\.0\.1:[0-9]+' pool --listen-address "127.0.0.1:$port" "$@"
    POOL_PID=$SERVER_PID
    POOL_URL=$SERVER_URL
}

# start_miner NAME ARGS...: `sv2 mine --cpu ARGS` with output in NAME.log; sets MINER_PID.
start_miner() {
    local name="$1"
    shift
    "$SV2" mine --cpu "$@" > "$name.log" 2>&1 &
    MINER_PID=$!
    BACKGROUND_PIDS+=("$MINER_PID")
}

# accepted_count FILE: the last "accepted N" figure a miner printed (0 before the first report).
accepted_count() {
    local last
    last="$(grep -Eo 'accepted [0-9]+' "$1" 2> /dev/null | tail -n 1 | awk '{print $2}' || true)"
    echo "${last:-0}"
}

# block_count RPC_PORT: the node's block count over its JSON-RPC (user u, password p).
block_count() {
    python3 - "$1" <<'PY'
import base64, json, sys, urllib.request
request = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}", data=json.dumps({"id": 1, "method": "getblockcount", "params": []}).encode(),
    headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode(), "Content-Type": "application/json"})
print(json.loads(urllib.request.urlopen(request, timeout=10).read())["result"])
PY
}

# start_scripted_repl: `sv2 repl` in the background reading commands from a FIFO (file descriptor 3), its output in
# repl.out; sets REPL_PID. Then:
#   send COMMAND...     writes one REPL command
#   field NAME [N]      the N-th value (default the last) printed for field NAME so far
#   wait_for PATTERN    waits (20 s) until repl.out has a line matching PATTERN
# and finish_scripted_repl ends the script and fails the test if a command of it failed.
start_scripted_repl() {
    mkfifo repl.in
    "$SV2" repl < repl.in > repl.out 2>&1 &
    REPL_PID=$!
    BACKGROUND_PIDS+=("$REPL_PID")
    exec 3> repl.in
}
send() { echo "$*" >&3; }
field() { grep -E "^  $1: " repl.out | sed -E "s/^  $1: ([^ ]*).*/\1/" | sed -n "${2:-\$}p"; }
wait_for() { wait_for_log repl.out "$1" 20 "$REPL_PID"; }
finish_scripted_repl() {
    exec 3>&-
    wait "$REPL_PID" || { cat repl.out >&2; fail "the scripted client failed"; }
}
