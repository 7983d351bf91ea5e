# Explicit plaintext mode carries raw frames; script errors (an unknown command, an expect that times out, a bad
# authority key) end the repl with status 1 and say what failed.
source "$SUITE_DIR/helpers.sh"

start_listener server <<'EOS'
listen 127.0.0.1:0 --plaintext
expect SetupConnection.Success 20
raw 0000 1e 000000   # msg_type 0x1e is reserved: the peer prints the error and stays
sleep 0.5
EOS

ASSERT_TIMEOUT=30 assert_exit 0 "$SV2" repl <<EOS
connect 127.0.0.1:$PORT --plaintext
raw 000001060000020000000000
sleep 1
EOS
assert_contains "$OUT" "connected in plaintext"
assert_contains "$OUT" ">> sent raw frame of 12 bytes"
assert_contains "$OUT" "unknown message type 0x1e"
wait_listener 0 server
assert_contains "$(cat server.out)" "<< received SetupConnection.Success"

ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" repl <<< "frobnicate"
assert_contains "$ERR" "unknown command 'frobnicate'"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" repl <<< "expect SetupConnection 0.2"
assert_contains "$ERR" "no SetupConnection within 0.2 s"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" repl <<< "connect 127.0.0.1:1 9bDuixKmZqAJnrmP746n8zU1wyAQRrus7th9dxnkPg6RzQvCnam"
assert_contains "$ERR" "checksum"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" repl <<< "send SetupConnection.Success used_version=2 flags=0"
assert_contains "$ERR" "not connected"
