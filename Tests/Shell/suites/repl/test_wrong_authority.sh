# A client configured with another authority key refuses the server's certificate (a named error, exit 1); the
# server keeps serving and the next, correctly configured client gets its answer.
source "$SUITE_DIR/helpers.sh"
new_authority
server_public="$AUTHORITY_PUBLIC"
server_secret="$AUTHORITY_SECRET"
new_authority
stranger_public="$AUTHORITY_PUBLIC"

start_listener server <<EOS
listen 127.0.0.1:0 --authority-secret-key $server_secret
expect SetupConnection 20
send SetupConnection.Success used_version=2 flags=0
sleep 0.5
EOS

ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" repl <<EOS
connect 127.0.0.1:$PORT $stranger_public
EOS
assert_contains "$ERR" "certificate is not signed by the configured authority public key"

ASSERT_TIMEOUT=30 assert_exit 0 "$SV2" repl <<EOS
connect 127.0.0.1:$PORT $server_public
send SetupConnection protocol=0 min_version=2 max_version=2 flags=0 endpoint_host=h endpoint_port=1 vendor=v hardware_version=h firmware=f device_id=d
expect SetupConnection.Success 20
EOS
wait_listener 0 server
