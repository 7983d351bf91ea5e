# The SetupConnection `sv2 translate` sends upstream names it (spec 3.6.1: vendor, hardware_version and firmware
# SHOULD be filled): a scripted `sv2 repl` acting as the pool prints what arrived.
source "$SUITE_DIR/../repl/helpers.sh"
new_authority

start_listener pool <<EOS
listen 127.0.0.1:0 --authority-secret-key $AUTHORITY_SECRET
expect SetupConnection 60
sleep 1
EOS
sv1_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
"$SV2" translate --listen-address "127.0.0.1:$sv1_port" --upstream "stratum2+tcp://127.0.0.1:$PORT/$AUTHORITY_PUBLIC" > translate.log 2>&1 &
translate_pid=$!
trap 'kill -9 "$translate_pid" 2> /dev/null || true' EXIT
wait_listener 0 pool
setup="$(sed -n '/received SetupConnection /,/device_id/p' pool.out)"
printf '%s\n' "$setup"
assert_contains "$setup" 'vendor: "sv2"'
assert_contains "$setup" 'firmware: "sv2 translate"'
hardware="$(sed -n 's/^ *hardware_version: "\(.*\)"$/\1/p' <<< "$setup")"
[[ -n "$hardware" ]] || fail "hardware_version is empty"
assert_eq "$(uname -m) $(uname -s)" "$hardware" "hardware_version"
