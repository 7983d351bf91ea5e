# sv2 tp on its embedded regtest node: a Noise client (a scripted sv2 repl) sets up Template Distribution and
# receives NewTemplate + SetNewPrevHash; the JSON-RPC serves the chain, and Bitcoin Core's consensus engine
# (libbitcoinkernel, py-bitcoinkernel) accepts every block of it; SIGTERM exits 0 and a restart keeps the tip.
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"
rpc_port="$(free_port)"
start_tp tp --datadir "$TEST_TMP/data" --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p
[[ -n "$TP_KEY" ]] || fail "sv2 tp did not log its authority public key"

ASSERT_TIMEOUT=60 assert_exit 0 "$SV2" repl <<EOS
connect 127.0.0.1:$TP_PORT $TP_KEY
send SetupConnection protocol=2 min_version=2 max_version=2 flags=0 endpoint_host=127.0.0.1 endpoint_port=$TP_PORT vendor=sv2 hardware_version=test firmware=0 device_id=shell
expect SetupConnection.Success 20
send CoinbaseOutputConstraints coinbase_output_max_additional_size=100 coinbase_output_max_additional_sigops=0
expect NewTemplate 20
expect TemplateDistribution.SetNewPrevHash 20
send RequestTransactionData template_id=1
expect RequestTransactionData.Success 20
EOS
assert_contains "$OUT" "future_template: true"
assert_contains "$OUT" "coinbase_tx_value_remaining: 5000000000"

ASSERT_TIMEOUT=120 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$rpc_port" --user u --password p
assert_contains "$OUT" "VALID: all 110 blocks accepted by libbitcoinkernel"
tip="$(grep -o 'tip [0-9a-f]\{64\}' <<< "$OUT" | cut -d' ' -f2)"

stop_tp tp
[[ ! -e "$TEST_TMP/data/.cookie" ]] || fail "the RPC cookie was left behind"
start_tp again --datadir "$TEST_TMP/data"
assert_contains "$(cat again.log)" "tip $tip at height 110"
stop_tp again
