# sv2 pool and sv2 translate with --monitoring-address: two Sv2 CPU miners (extended alice.rig1, standard bob) and
# two Sv1 miners (farm.w1, farm.w2) behind one aggregated translator channel. SRI's JSON API lists the connected
# clients, channels and Sv1 miners; /metrics parses with prometheus_client; after the miners stop, the pool's
# per-worker counters equal what each Sv2 miner saw accepted, and the translator's two workers appear apart in the
# pool's figures (extension 0x0002) adding up to what its upstream channel had acknowledged. Bad HTTP requests get
# their status and never stall mining.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup"
monitor() { "$python" "$REPO_ROOT/Tests/Shell/suites/monitoring/monitoring.py" "$@"; }

pool_http="$(free_port)"
start_pool pool "$(free_port)" --datadir "$TEST_TMP/data" --shares-per-minute 60 --monitoring-address "127.0.0.1:$pool_http"
wait_for_log pool.log "monitoring on http://127.0.0.1:$pool_http" 10 "$POOL_PID"
translate_http="$(free_port)"
sv1_port="$(free_port)"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "$POOL_URL" --user-identity farm --initial-difficulty 0.001 \
    --shares-per-minute 60 --monitoring-address "127.0.0.1:$translate_http" > translate.log 2>&1 &
translate_pid=$!
BACKGROUND_PIDS+=("$translate_pid")
wait_for_log translate.log 'upstream channel [0-9]+ open' 30 "$translate_pid"
assert_contains "$(cat translate.log)" "upstream tracks each miner's shares (extension 0x0002)"

start_miner alice --threads 1 --report-interval 1 --user alice.rig1 "$POOL_URL"
alice=$MINER_PID
start_miner bob --threads 1 --report-interval 1 --standard --user bob "$POOL_URL"
bob=$MINER_PID
start_miner w1 --threads 1 --report-interval 1 --user farm.w1 "stratum+tcp://127.0.0.1:$sv1_port"
w1=$MINER_PID
start_miner w2 --threads 1 --report-interval 1 --user farm.w2 "stratum+tcp://127.0.0.1:$sv1_port"
w2=$MINER_PID
wait_for_log alice.log 'the pool tracks this worker \(extension 0x0002\): shares carry user_identity "rig1"' 30 "$alice"
deadline=$(( SECONDS + 60 ))
until (( $(accepted_count alice.log) > 20 && $(accepted_count bob.log) > 20 && $(accepted_count w1.log) > 20 && $(accepted_count w2.log) > 20 )); do
    (( SECONDS < deadline )) || { tail -n 5 ./*.log >&2; fail "the miners did not get 20 shares accepted each within 60 s"; }
    sleep 1
done

# The JSON API while everyone mines.
monitor get "http://127.0.0.1:$pool_http/api/v1/clients" > clients.txt
monitor get "http://127.0.0.1:$translate_http/api/v1/sv1/clients" > sv1.txt
monitor get "http://127.0.0.1:$translate_http/api/v1/server/channels" > server.txt
monitor get "http://127.0.0.1:$pool_http/api/v1/server" > no_server.txt
for id in 0 1 2; do monitor get "http://127.0.0.1:$pool_http/api/v1/clients/$id/channels" > "channels_$id.txt"; done
"$python" - <<'PY' || fail "the JSON API does not match the connected miners"
import json
def load(name):
    status, body = open(name).read().split("\n", 1)
    return int(status), json.loads(body)
status, clients = load("clients.txt")
assert status == 200 and clients["total"] == 3 and clients["offset"] == 0 and clients["limit"] == 25, clients
kinds = sorted(item["client_kind"] for item in clients["items"])
assert kinds == ["miner", "miner", "translator_proxy"], kinds
channels = {}
for id in range(3):
    status, body = load(f"channels_{id}.txt")
    assert status == 200, body
    for kind in ("extended", "standard"):
        for channel in body[f"{kind}_channels"]:
            channels[channel["user_identity"]] = (kind, channel)
assert sorted(channels) == ["alice.rig1", "bob", "farm"], sorted(channels)
assert channels["alice.rig1"][0] == "extended" and channels["bob"][0] == "standard" and channels["farm"][0] == "extended"
assert all(channel["shares_accepted"] > 0 for _, channel in channels.values()), channels
status, missing = load("no_server.txt")
assert status == 404 and missing == {"error": "Server monitoring not available"}, missing
status, sv1 = load("sv1.txt")
assert status == 200 and sv1["total"] == 2, sv1
assert sorted((m["sv1_username"], m["sv1_worker_name"]) for m in sv1["items"]) == [("farm", "w1"), ("farm", "w2")], sv1
assert all(m["connection_ip"] == "127.0.0.1" and m["hashrate"] > 0 for m in sv1["items"]), sv1
status, server = load("server.txt")
assert status == 200 and server["total_extended"] == 1 and server["extended_channels"][0]["user_identity"] == "farm", server
print("JSON API: 3 clients (2 miners, 1 translator), channels alice.rig1/bob/farm, Sv1 workers w1 and w2")
PY

# Bad requests: an unknown path, a huge header, slow clients; the pool keeps answering and mining meanwhile.
monitor get "http://127.0.0.1:$pool_http/nope" > nope.txt
assert_eq "404" "$(head -n 1 nope.txt)" "an unknown path"
monitor get "http://127.0.0.1:$pool_http/api/v1/clients/abc" > abc.txt
assert_eq "400" "$(head -n 1 abc.txt)" "a client id that is not a number"
big="$(monitor raw "$pool_http" 200000)"
[[ "$big" =~ ^HTTP/1.1\ 4[0-9][0-9] || "$big" == closed ]] || fail "a 200 KB header got '$big'"
echo "a 200 KB header: $big"
before=$(accepted_count alice.log)
monitor slow "$pool_http" 10 4 > slow.txt &
slow_pid=$!
sleep 1
started=$SECONDS
monitor get "http://127.0.0.1:$pool_http/api/v1/health" > health.txt
assert_eq "200" "$(head -n 1 health.txt)" "health while 10 clients hold half requests"
(( SECONDS - started <= 2 )) || fail "health took $(( SECONDS - started )) s beside slow clients"
wait "$slow_pid"
sleep 1
(( $(accepted_count alice.log) > before )) || fail "mining stalled while slow HTTP clients were connected"
kill -0 "$POOL_PID" || fail "the pool died"

# Stop the Sv1 miners, let their last shares drain, and compare the translator's channel with the pool's workers.
for pid in "$w1" "$w2"; do kill -TERM "$pid"; wait "$pid" || fail "an Sv1 miner did not exit 0"; done
sleep 2
monitor get "http://127.0.0.1:$translate_http/api/v1/server/channels" > server_after.txt
# Stop the Sv2 miners: each waits for the answers to its shares, so its last "accepted" figure is final.
for pid in "$alice" "$bob"; do kill -TERM "$pid"; wait "$pid" || fail "sv2 mine did not exit 0"; done
sleep 2
monitor metrics "http://127.0.0.1:$pool_http/metrics" > pool_metrics.jsonl || fail "the pool's /metrics does not parse"
monitor metrics "http://127.0.0.1:$translate_http/metrics" > translate_metrics.jsonl || fail "the translator's /metrics does not parse"
ALICE=$(accepted_count alice.log) BOB=$(accepted_count bob.log) "$python" - <<'PY' || fail "the metrics do not match what the miners saw"
import json, os
def samples(name):
    return [json.loads(line) for line in open(name)]
pool = samples("pool_metrics.jsonl")
def value(rows, name, **labels):
    found = [row["value"] for row in rows if row["name"] == name and all(row["labels"].get(k) == v for k, v in labels.items())]
    assert len(found) == 1, f"{name} {labels}: {found}"
    return found[0]
alice, bob = int(os.environ["ALICE"]), int(os.environ["BOB"])
assert value(pool, "sv2_worker_shares_accepted_total", user="alice", worker="rig1") == alice, (alice, pool)
assert value(pool, "sv2_worker_shares_accepted_total", user="bob", worker="") == bob, bob
w1 = value(pool, "sv2_worker_shares_accepted_total", user="farm", worker="w1")
w2 = value(pool, "sv2_worker_shares_accepted_total", user="farm", worker="w2")
status, body = open("server_after.txt").read().split("\n", 1)
acknowledged = json.loads(body)["extended_channels"][0]["shares_acknowledged"]
assert w1 > 0 and w2 > 0 and w1 + w2 == acknowledged, (w1, w2, acknowledged)
assert value(pool, "sv2_user_shares_accepted_total", user="farm") == w1 + w2
assert value(pool, "sv2_clients_total") == 1  # the translator is still connected
assert value(pool, "sv2_client_shares_accepted_total", user_identity="farm") == acknowledged
assert value(pool, "sv2_share_latency_seconds_count") > 0  # the ledger's commits
assert value(pool, "sv2_uptime_seconds") > 0 and value(pool, "sv2_template_age_seconds") >= 0
translate = samples("translate_metrics.jsonl")
assert value(translate, "sv2_server_channels", channel_type="extended") == 1
assert value(translate, "sv2_server_shares_accepted_total", user_identity="farm") == acknowledged
assert value(translate, "sv1_clients_total") == 0
assert value(translate, "sv2_upstream_connected") == 1
assert value(translate, "sv2_share_latency_seconds_count") >= acknowledged  # each share's round trip upstream
print(f"metrics: alice.rig1 {alice}, bob {bob}, farm.w1 {w1} + farm.w2 {w2} = {acknowledged} acknowledged upstream")
PY

kill -TERM "$translate_pid"
wait "$translate_pid" || fail "sv2 translate did not exit 0"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0"
