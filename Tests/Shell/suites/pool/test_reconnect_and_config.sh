# A pool shutting down with --shutdown-reconnect-address sends its miners to another pool (Reconnect, spec 3.9),
# and the miner follows; bad settings are clear errors at start (exit 1) naming the key.
source "$SUITE_DIR/helpers.sh"
keys="$("$SV2" keygen)"
secret="$(grep -o 'authority_secret_key = "[^"]*"' <<< "$keys" | cut -d'"' -f2)"
public="$(grep -o 'authority_public_key = "[^"]*"' <<< "$keys" | cut -d'"' -f2)"
port_b="$(free_port)"
start_pool b "$port_b" --datadir "$TEST_TMP/b" --generation-rate 0 --authority-secret-key "$secret"
pid_b=$POOL_PID
start_pool a "$(free_port)" --datadir "$TEST_TMP/a" --generation-rate 0 --authority-secret-key "$secret" \
    --shutdown-reconnect-address "127.0.0.1:$port_b"
start_miner miner --threads 1 --report-interval 1 "$POOL_URL"
wait_for_log a.log 'block found' 60 "$POOL_PID"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "pool a did not exit 0"
assert_contains "$(cat a.log)" "sending 1 connection(s) to 127.0.0.1:$port_b"
wait_for_log b.log 'block found' 60 "$pid_b"
assert_contains "$(cat miner.log)" "$port_b"
kill -TERM "$MINER_PID" "$pid_b"

ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --tp-address 127.0.0.1:1 --authority-secret-key "$secret" --listen-address 127.0.0.1:0
assert_contains "$ERR" "coinbase_reward_script: required with tp_address"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --tp-address 127.0.0.1:1 --coinbase-reward-script "$REWARD_ADDRESS" --listen-address 127.0.0.1:0
assert_contains "$ERR" "authority_secret_key: required with tp_address"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --coinbase-reward-script bc1qnotanaddress --datadir "$TEST_TMP/c" --listen-address 127.0.0.1:0
assert_contains "$ERR" "--coinbase-reward-script: \"bc1qnotanaddress\""
ASSERT_TIMEOUT=30 assert_exit 1 env SV2_POOL_SHARES_PER_MINUTE=lots "$SV2" pool --datadir "$TEST_TMP/c" --listen-address 127.0.0.1:0
assert_contains "$ERR" "SV2_POOL_SHARES_PER_MINUTE"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --shares-per-minute 0 --datadir "$TEST_TMP/c" --listen-address 127.0.0.1:0
assert_contains "$ERR" "--shares-per-minute: must be above 0"
printf 'listen_address = "127.0.0.1:0"\npool_signatur = "x"\n' > typo.toml
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --config typo.toml
assert_contains "$ERR" "pool_signatur in typo.toml: unknown key"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --authority-public-key "$public" --datadir "$TEST_TMP/c" --listen-address 127.0.0.1:0
assert_contains "$ERR" "--authority-public-key: given without authority_secret_key"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --pool-signature "a/b" --datadir "$TEST_TMP/c" --listen-address 127.0.0.1:0
assert_contains "$ERR" "--pool-signature: at most 50"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" pool --tp-authority-public-key nonsense --datadir "$TEST_TMP/c" --listen-address 127.0.0.1:0
assert_contains "$ERR" "--tp-authority-public-key:"
