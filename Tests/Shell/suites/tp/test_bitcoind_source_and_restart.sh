# sv2 tp --bitcoind takes its templates from another sv2 tp's JSON-RPC (getblocktemplate with long polling);
# wrong credentials are a clear error at start; when the RPC server goes away and comes back, templates resume.
source "$SUITE_DIR/helpers.sh"
rpc_port="$(free_port)"
start_tp node --datadir "$TEST_TMP/data" --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p --generation-rate 5
node_pid=$TP_PID

ASSERT_TIMEOUT=60 assert_exit 1 "$SV2" tp --listen-address 127.0.0.1:0 --bitcoind "http://127.0.0.1:$rpc_port" --rpc-user u --rpc-password wrong
assert_contains "$ERR" "refused the credentials"

start_tp bridge --bitcoind "http://127.0.0.1:$rpc_port" --rpc-user u --rpc-password p --fee-delta 0 --template-interval 0
bridge_pid=$TP_PID
ASSERT_TIMEOUT=60 assert_exit 0 "$SV2" repl <<EOS
connect 127.0.0.1:$TP_PORT $TP_KEY
send SetupConnection protocol=2 min_version=2 max_version=2 flags=0 endpoint_host=127.0.0.1 endpoint_port=$TP_PORT vendor=sv2 hardware_version=test firmware=0 device_id=shell
expect SetupConnection.Success 20
send CoinbaseOutputConstraints coinbase_output_max_additional_size=100 coinbase_output_max_additional_sigops=0
expect NewTemplate 20
expect TemplateDistribution.SetNewPrevHash 20
EOS
assert_contains "$(cat bridge.log)" "templates from bitcoind"

# The RPC server goes away: the bridge logs the outage and retries; it comes back: templates resume (a
# faster generator after the restart makes the fees pass the last template's soon, as a new template needs).
TP_PID=$node_pid
stop_tp node
sleep 3
assert_contains "$(cat bridge.log)" "retrying in"
before="$(grep -c 'tp: template ' bridge.log || true)"
"$SV2" tp --listen-address 127.0.0.1:0 --datadir "$TEST_TMP/data" --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p --generation-rate 50 > node2.log 2>&1 &
node_pid=$!
for _ in $(seq 200); do
    after="$(grep -c 'tp: template ' bridge.log || true)"
    (( after > before )) && break
    sleep 0.1
done
(( after > before )) || { cat bridge.log >&2; fail "no template from the bridge after the RPC server came back"; }
TP_PID=$node_pid
stop_tp node2
TP_PID=$bridge_pid
stop_tp bridge
