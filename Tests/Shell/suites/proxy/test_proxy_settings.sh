# sv2 proxy's settings: each bad value is named at start with where it came from (flag, environment or file key),
# exit 1; a listen port in use is an error; a TOML file with SRI's [[upstreams]] tables and the SV2_PROXY_ environment
# configure a proxy that reaches its pool; SIGTERM exits 0 even while no pool is reachable.
source "$SUITE_DIR/helpers.sh"
key="$("$SV2" keygen | grep -o 'authority_public_key = "[^"]*"' | cut -d'"' -f2)"
nowhere="stratum2+tcp://127.0.0.1:1/$key"

ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0
assert_contains "$ERR" "upstream: no pool given"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream stratum2+tcp://127.0.0.1:1
assert_contains "$ERR" "--upstream: stratum2+tcp://127.0.0.1:1 has no authority public key"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream stratum2+tcp://127.0.0.1:1/nonsense
assert_contains "$ERR" "--upstream: authority public key"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream "$nowhere" --channel-mode bogus
assert_contains "$ERR" "--channel-mode: expected group or aggregate, got \"bogus\""
ASSERT_TIMEOUT=30 assert_exit 1 env SV2_PROXY_SHARES_PER_MINUTE=lots "$SV2" proxy --listen-address 127.0.0.1:0 --upstream "$nowhere"
assert_contains "$ERR" "SV2_PROXY_SHARES_PER_MINUTE"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream "$nowhere" --downstream-extranonce-size 40
assert_contains "$ERR" "--downstream-extranonce-size: 40 is outside 8...32"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream "$nowhere" --authority-secret-key nonsense
assert_contains "$ERR" "--authority-secret-key:"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream "$nowhere" --upstream stratum+tcp://127.0.0.1:1
assert_contains "$ERR" "--upstream: mixes stratum+tcp:// (Stratum V1) and stratum2+tcp:// (Stratum V2) pools"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream stratum+tcp://127.0.0.1:99999
assert_contains "$ERR" "--upstream: stratum+tcp://127.0.0.1:99999 is not stratum+tcp://HOST:PORT"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream "$nowhere" --datadir "$TEST_TMP/node"
assert_contains "$ERR" "--datadir: sets the embedded node, which runs only with jd_address and no tp_address"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address 127.0.0.1:0 --upstream "$nowhere" --jd-address "127.0.0.1:1/$key" \
    --tp-address 127.0.0.1:2 --coinbase-reward-script "$REWARD_ADDRESS" --follow http://u:p@127.0.0.1:3
assert_contains "$ERR" "--follow: sets the embedded node"
printf '[[upstreams]]\naddress = "127.0.0.1"\nport = 99999\nauthority_pubkey = "%s"\n' "$key" > bad.toml
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --config bad.toml --listen-address 127.0.0.1:0
assert_contains "$ERR" "upstreams[0] in bad.toml: needs address (string), port (1-65535) and authority_pubkey"
printf 'channel_mod = "group"\n' > typo.toml
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --config typo.toml --upstream "$nowhere"
assert_contains "$ERR" "channel_mod in typo.toml: unknown key"

# A port already in use.
start_pool pool "$(free_port)" --datadir "$TEST_TMP/data" --generation-rate 0
pool_port="$(grep -Eo 'mining on 127\.0\.0\.1:[0-9]+' pool.log | head -n 1 | cut -d: -f2)"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" proxy --listen-address "127.0.0.1:$pool_port" --upstream "$nowhere"
assert_contains "$ERR" "127.0.0.1:$pool_port"

# The file names the pool (SRI's tables), the environment the mode; the proxy reaches the pool.
pool_key="${POOL_URL##*/}"
printf '[[upstreams]]\naddress = "127.0.0.1"\nport = %s\nauthority_pubkey = "%s"\nuser_identity = "from-file"\n' "$pool_port" "$pool_key" > proxy.toml
SV2_PROXY_CHANNEL_MODE=aggregate start_proxy proxy "$(free_port)" --config proxy.toml
wait_for_log pool.log 'extended channel [0-9]+ for "from-file"' 30 "$PROXY_PID"
assert_contains "$(cat proxy.log)" "aggregate mode"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "sv2 proxy did not exit 0 on SIGTERM"

# No pool reachable: the proxy keeps trying and still stops cleanly.
start_proxy lonely "$(free_port)" --upstream "$nowhere"
wait_for_log lonely.log 'cannot connect' 30 "$PROXY_PID"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "sv2 proxy did not exit 0 on SIGTERM without a pool"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0"
