# Two scripted repls, one listening and one connecting, exchange SetupConnection / SetupConnection.Success over
# Noise with a certificate signed by an authority from `sv2 keygen`.
source "$SUITE_DIR/helpers.sh"
new_authority

start_listener server <<EOS
listen 127.0.0.1:0 --authority-secret-key $AUTHORITY_SECRET
expect SetupConnection 20
send SetupConnection.Success used_version=2 flags=0
sleep 0.5
EOS

ASSERT_TIMEOUT=30 assert_exit 0 "$SV2" repl <<EOS
connect 127.0.0.1:$PORT $AUTHORITY_PUBLIC
send SetupConnection protocol=0 min_version=2 max_version=2 flags=0 endpoint_host=pool.example endpoint_port=3333 vendor=sv2 hardware_version=test firmware=0 device_id=repl
expect SetupConnection.Success 20
EOS
assert_contains "$OUT" "Noise handshake complete"
assert_contains "$OUT" "<< received SetupConnection.Success"
assert_contains "$OUT" "used_version: 2"

wait_listener 0 server
server_out="$(cat server.out)"
assert_contains "$server_out" "authority_public_key = \"$AUTHORITY_PUBLIC\""
assert_contains "$server_out" "<< received SetupConnection  (extension_type 0x0, msg_type 0x0"
assert_contains "$server_out" 'endpoint_host: "pool.example"'
assert_contains "$server_out" ">> sent SetupConnection.Success"
