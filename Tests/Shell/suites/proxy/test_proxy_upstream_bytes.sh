# Upstream bytes in group mode, measured from the pool's side (the kernel's bytes_sent of the pool's socket to the
# proxy): with 3 and then with 30 standard-channel devices behind the proxy, each new block costs the pool what one
# group job costs (NewExtendedMiningJob and SetNewPrevHash to the group), not one job per device; every device still
# gets its own NewMiningJob for every block. Devices are sv2noise.py clients (an independent Noise implementation).
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup"

rpc_port="$(free_port)"
pool_port="$(free_port)"
start_pool pool "$pool_port" --datadir "$TEST_TMP/data" --generation-rate 0 --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p
proxy_port="$(free_port)"
start_proxy proxy "$proxy_port" --upstream "$POOL_URL"

rpc() {
    "$python" - "$rpc_port" "$@" <<'PY'
import base64, json, sys, urllib.request
port, method, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
request = urllib.request.Request(
    f"http://127.0.0.1:{port}", data=json.dumps({"id": 1, "method": method, "params": params}).encode(),
    headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode(), "Content-Type": "application/json"})
print(json.loads(urllib.request.urlopen(request, timeout=10).read())["result"])
PY
}

# pool_bytes_sent: what the pool's socket to the proxy has sent so far, from the kernel.
pool_bytes_sent() {
    local sent
    sent="$(ss -tinH state established "( sport = :$pool_port )" | grep -Eo 'bytes_sent:[0-9]+' | awk -F: '{ sum += $2 } END { if (NR) print sum }')"
    [[ -n "$sent" ]] || fail "no established socket of the pool on port $pool_port"
    echo "$sent"
}

# status_field FILE FIELD: the number after FIELD in a devices.py status file (0 before the first).
status_field() {
    local value
    value="$(grep -Eo "$2 [0-9]+" "$1" 2> /dev/null | awk '{print $2}' || true)"
    echo "${value:-0}"
}

# wait_devices FILE OPEN JOBS: until OPEN devices of FILE have their channel and each has at least JOBS jobs.
wait_devices() {
    local deadline=$(( SECONDS + 60 ))
    while (( SECONDS < deadline )); do
        grep -q failed "$1" 2> /dev/null && fail "$(cat "$1")"
        (( $(status_field "$1" open) >= $2 && $(status_field "$1" jobs) >= $3 && $(status_field "$1" prevhashes) >= $3 )) && return 0
        sleep 0.2
    done
    fail "devices of $1: $(cat "$1" 2> /dev/null) (wanted open $2, jobs and prevhashes $3)"
}

# bytes_per_block STATUS...: mines 3 blocks on the node, waiting after each until every device of the STATUS files
# has the new job; prints the pool's bytes to the proxy per block.
bytes_per_block() {
    local before after file
    local -A jobs
    for file in "$@"; do jobs[$file]="$(status_field "$file" jobs)"; done
    before="$(pool_bytes_sent)"
    for block in 1 2 3; do
        rpc generatetoaddress "[1, \"$REWARD_ADDRESS\"]" > /dev/null
        for file in "$@"; do wait_devices "$file" 0 $(( jobs[$file] + block )); done
    done
    sleep 0.5
    after="$(pool_bytes_sent)"
    echo $(( (after - before) / 3 ))
}

"$python" "$SUITE_DIR/devices.py" "$proxy_port" 3 few few.status &
BACKGROUND_PIDS+=($!)
wait_devices few.status 3 1
few="$(bytes_per_block few.status)"

"$python" "$SUITE_DIR/devices.py" "$proxy_port" 27 many many.status &
BACKGROUND_PIDS+=($!)
wait_devices many.status 27 1
many="$(bytes_per_block few.status many.status)"
echo "pool bytes to the proxy per block: $few with 3 devices, $many with 30"

assert_eq 1 "$(count_log pool.log 'mining connection set up')" "connections the pool saw"
assert_eq 30 "$(grep -Ec 'standard channel [0-9]+ for "(few|many)\.[0-9]+" at .* in group [0-9]+' pool.log)" "devices' channels in a group"
assert_eq 1 "$(grep -Eo 'for "(few|many)\.[0-9]+" at .* in group [0-9]+' pool.log | grep -Eo 'group [0-9]+' | sort -u | wc -l)" "groups"
# One group job per block whatever the number of devices: 30 devices cost no more than 3 (a few bytes of slack for
# the coinbase's height push), and far less than even two standard jobs per extra device would.
(( many <= few + few / 10 )) || fail "30 devices cost $many bytes per block against $few for 3: jobs are not sent once per group"
(( few > 0 )) || fail "no bytes measured"
