# `sv2 probe --serve` grades our own clients as a spec-strict pool on its embedded regtest node, sending each one
# Reconnect 4 s after setup: `sv2 mine` on extended and standard channels (in a group channel, and alone with
# REQUIRES_STANDARD_JOBS), `sv2 translate` with an Sv1 `sv2 mine` behind it, and `sv2 proxy` in group and aggregate
# mode with a device each. Every
# graded connection passes (or skips what did not happen), every client follows Reconnect at least once, and SIGINT
# ends the run with the reports of the connections still open and exit status 0.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
port="$(free_port)"
keys="$("$SV2" keygen)"
public="$(sed -n 's/^authority_public_key = "\(.*\)"$/\1/p' <<< "$keys")"
secret="$(sed -n 's/^authority_secret_key = "\(.*\)"$/\1/p' <<< "$keys")"
"$SV2" probe --serve "127.0.0.1:$port" --datadir "$TEST_TMP/node" --authority-secret-key "$secret" --reconnect-after 4 \
    > serve.out 2> serve.log &
serve_pid=$!
BACKGROUND_PIDS+=("$serve_pid")
wait_for_log serve.log 'mining on 127\.0\.0\.1' 60 "$serve_pid"
url="stratum2+tcp://127.0.0.1:$port/$public"

start_miner extended --threads 1 --extended "$url"
start_miner standard --threads 1 --standard --channels 2 "$url"
start_miner standard-jobs --threads 1 --standard --require-standard-jobs "$url"
sv1_port="$(free_port)"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "$url" > translate.log 2>&1 &
BACKGROUND_PIDS+=("$!")
for mode in group aggregate; do
    proxy_port="$(free_port)"
    start_server "proxy-$mode" 'upstream set up' proxy --channel-mode "$mode" --listen-address "127.0.0.1:$proxy_port" --upstream "$url"
    start_miner "device-$mode" --threads 1 --standard "$SERVER_URL"
done
wait_for_log translate.log 'upstream set up|Sv1 miners on' 30
start_miner sv1 --threads 1 --user farm.w1 "stratum+tcp://127.0.0.1:$sv1_port"

# Each client is sent Reconnect 4 s after its setup (checked at the pool's 5 s ticks) and comes back.
for _ in $(seq 300); do
    (( $(count_log serve.out '^PASS  honours-reconnect') >= 6 )) && break
    sleep 0.1
done
kill -INT "$serve_pid"
status=0
wait "$serve_pid" || status=$?
cat serve.out
(( status == 0 )) || { tail -n 20 serve.log >&2; fail "sv2 probe --serve exited with $status"; }
assert_not_contains "$(cat serve.out)" "FAIL  " "reports"
assert_not_contains "$(cat serve.out)" "WARN  " "reports"
for client in "sv2 sv2-cpu-miner" "sv2 sv2 translate" "sv2 sv2 proxy"; do
    (( $(grep -c "($client): .* conforms" serve.out) >= 1 )) || fail "no conforming report for $client"
done
(( $(count_log serve.out '^PASS  honours-reconnect') >= 6 )) || fail "fewer than 6 clients followed Reconnect"
(( $(count_log serve.out '^PASS  share-fields  .* [1-9][0-9]* accepted') >= 3 )) || fail "fewer than 3 connections had shares accepted"
