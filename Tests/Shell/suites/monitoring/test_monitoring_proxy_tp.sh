# sv2 tp, sv2 pool and sv2 proxy (aggregate mode) with --monitoring-address, two Sv2 CPU miners behind the proxy:
# the template provider lists the pool as its client with a fresh template; the proxy shows its devices as clients
# with the shares it judged and its one upstream channel as the server; the pool credits each device's shares to
# its worker through extension 0x0002 on the proxy's aggregated channel.
source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup"
monitor() { "$python" "$REPO_ROOT/Tests/Shell/suites/monitoring/monitoring.py" "$@"; }

tp_http="$(free_port)"
start_tp tp --datadir "$TEST_TMP/data" --monitoring-address "127.0.0.1:$tp_http"
BACKGROUND_PIDS+=("$TP_PID")
keys="$("$SV2" keygen)"
secret="$(grep -o 'authority_secret_key = "[^"]*"' <<< "$keys" | cut -d'"' -f2)"
pool_http="$(free_port)"
start_pool pool "$(free_port)" --tp-address "127.0.0.1:$TP_PORT" --tp-authority-public-key "$TP_KEY" --authority-secret-key "$secret" \
    --coinbase-reward-script "$REWARD_ADDRESS" --shares-per-minute 60 --monitoring-address "127.0.0.1:$pool_http"
proxy_http="$(free_port)"
start_server proxy 'devices on 127' proxy --listen-address "127.0.0.1:$(free_port)" --upstream "$POOL_URL" --channel-mode aggregate \
    --user-identity farm --monitoring-address "127.0.0.1:$proxy_http"
proxy_pid=$SERVER_PID
proxy_url=$SERVER_URL
wait_for_log proxy.log "upstream tracks each miner's shares \(extension 0x0002\)" 30 "$proxy_pid"
start_miner rig1 --threads 1 --report-interval 1 --user farm.rig1 "$proxy_url"
rig1=$MINER_PID
start_miner rig2 --threads 1 --report-interval 1 --standard --user farm.rig2 "$proxy_url"
rig2=$MINER_PID
deadline=$(( SECONDS + 60 ))
until (( $(accepted_count rig1.log) > 10 && $(accepted_count rig2.log) > 10 )); do
    (( SECONDS < deadline )) || { tail -n 5 ./*.log >&2; fail "the devices did not get 10 shares accepted each within 60 s"; }
    sleep 1
done
sleep 2

monitor get "http://127.0.0.1:$tp_http/api/v1/clients" > tp_clients.txt
monitor metrics "http://127.0.0.1:$tp_http/metrics" > tp_metrics.jsonl || fail "the template provider's /metrics does not parse"
monitor get "http://127.0.0.1:$proxy_http/api/v1/global" > proxy_global.txt
monitor get "http://127.0.0.1:$proxy_http/api/v1/server/channels" > proxy_server.txt
monitor metrics "http://127.0.0.1:$proxy_http/metrics" > proxy_metrics.jsonl || fail "the proxy's /metrics does not parse"
monitor metrics "http://127.0.0.1:$pool_http/metrics" > pool_metrics.jsonl || fail "the pool's /metrics does not parse"
"$python" - <<'PY' || fail "the monitoring of tp, proxy and pool does not match"
import json
def load(name):
    status, body = open(name).read().split("\n", 1)
    assert int(status) == 200, (name, status, body)
    return json.loads(body)
def samples(name):
    return [json.loads(line) for line in open(name)]
def value(rows, name, **labels):
    found = [row["value"] for row in rows if row["name"] == name and all(row["labels"].get(k) == v for k, v in labels.items())]
    assert len(found) == 1, f"{name} {labels}: {found}"
    return found[0]
tp = load("tp_clients.txt")
assert tp["total"] == 1, tp
tp_metrics = samples("tp_metrics.jsonl")
assert value(tp_metrics, "sv2_clients_total") == 1 and value(tp_metrics, "sv2_template_age_seconds") < 120
proxy = load("proxy_global.txt")
assert proxy["sv2_clients"]["total_clients"] == 2 and proxy["sv2_clients"]["extended_channels"] == 1, proxy
assert proxy["sv2_clients"]["standard_channels"] == 1 and proxy["server"]["extended_channels"] == 1, proxy
server = load("proxy_server.txt")["extended_channels"][0]
assert server["user_identity"] == "farm" and server["shares_acknowledged"] > 0, server
proxy_metrics = samples("proxy_metrics.jsonl")
devices = {row["labels"]["user_identity"]: row["value"] for row in proxy_metrics if row["name"] == "sv2_client_shares_accepted_total"}
assert sorted(devices) == ["farm.rig1", "farm.rig2"] and all(count > 0 for count in devices.values()), devices
assert value(proxy_metrics, "sv2_upstream_connected") == 1
pool = samples("pool_metrics.jsonl")
rig1 = value(pool, "sv2_worker_shares_accepted_total", user="farm", worker="rig1")
rig2 = value(pool, "sv2_worker_shares_accepted_total", user="farm", worker="rig2")
assert rig1 > 0 and rig2 > 0, (rig1, rig2)
print(f"tp: 1 client; proxy: devices {devices}, upstream acknowledged {server['shares_acknowledged']}; pool: farm.rig1 {rig1}, farm.rig2 {rig2}")
PY

for pid in "$rig1" "$rig2"; do kill -TERM "$pid"; wait "$pid" || fail "sv2 mine did not exit 0"; done
kill -TERM "$proxy_pid"
wait "$proxy_pid" || fail "sv2 proxy did not exit 0"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0"
stop_tp tp
