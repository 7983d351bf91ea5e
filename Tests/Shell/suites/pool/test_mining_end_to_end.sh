# The real binaries on loopback: sv2 tp (embedded regtest node with JSON-RPC), sv2 pool on it, and two CPU miners,
# one on a standard channel and one on an extended channel. Within 60 s shares are accepted and at least 10 blocks
# are connected; killing a miner leaves the pool serving; a restarted pool gets the other miner back; every block
# of the chain then passes libbitcoinkernel (Bitcoin Core's consensus engine).
source "$SUITE_DIR/helpers.sh"
python="$REPO_ROOT/.venv/bin/python"
[[ -x "$python" ]] || fail "no $python: run scripts/setup (it installs py-bitcoinkernel)"

rpc_port="$(free_port)"
start_tp tp --datadir "$TEST_TMP/data" --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p
BACKGROUND_PIDS+=("$TP_PID")
keys="$("$SV2" keygen)"
secret="$(grep -o 'authority_secret_key = "[^"]*"' <<< "$keys" | cut -d'"' -f2)"
start_height="$(block_count "$rpc_port")"

pool_port="$(free_port)"
pool_args=(--tp-address "127.0.0.1:$TP_PORT" --tp-authority-public-key "$TP_KEY" --authority-secret-key "$secret"
           --coinbase-reward-script "$REWARD_ADDRESS" --shares-per-minute 30 --pool-signature shell-test)
start_pool pool "$pool_port" "${pool_args[@]}"

start_miner standard --threads 1 --standard --report-interval 1 --user alice "$POOL_URL"
standard_pid=$MINER_PID
start_miner extended --threads 1 --extended --report-interval 1 --user bob "$POOL_URL"
extended_pid=$MINER_PID

deadline=$(( SECONDS + 60 ))
while (( SECONDS < deadline )); do
    blocks=$(( $(block_count "$rpc_port") - start_height ))
    (( blocks >= 10 && $(accepted_count standard.log) > 0 && $(accepted_count extended.log) > 0 )) && break
    sleep 1
done
(( blocks >= 10 )) || { tail -n 20 pool.log standard.log extended.log >&2; fail "only $blocks blocks in 60 s"; }
(( $(accepted_count standard.log) > 0 )) || { tail -n 20 standard.log >&2; fail "no accepted share on the standard channel"; }
(( $(accepted_count extended.log) > 0 )) || { tail -n 20 extended.log >&2; fail "no accepted share on the extended channel"; }
assert_contains "$(cat pool.log)" "block found by \"alice\""
assert_contains "$(cat pool.log)" "block found by \"bob\""

# Killing one miner leaves the pool serving the other.
kill -9 "$standard_pid"
before="$(accepted_count extended.log)"
for _ in $(seq 150); do
    (( $(accepted_count extended.log) > before )) && break
    sleep 0.2
done
kill -0 "$POOL_PID" || fail "the pool died when a miner was killed"
(( $(accepted_count extended.log) > before )) || fail "the extended miner stopped getting shares accepted after the other miner died"

# The pool restarts on the same port: the miner reconnects and resumes.
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0 on SIGTERM"
assert_contains "$(cat pool.log)" "final: user \"bob\""
reconnects_before="$(count_log extended.log 'channel .*open')"
start_pool pool2 "$pool_port" "${pool_args[@]}"
deadline=$(( SECONDS + 45 ))
while (( SECONDS < deadline )); do
    (( $(count_log extended.log 'channel .*open') > reconnects_before )) && (( $(count_log pool2.log 'block found') > 0 )) && break
    sleep 0.5
done
(( $(count_log pool2.log 'block found') > 0 )) || { tail -n 30 extended.log pool2.log >&2; fail "the miner did not resume on the restarted pool"; }

kill -TERM "$extended_pid"
wait "$extended_pid" || fail "sv2 mine did not exit 0 on SIGTERM"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || true
ASSERT_TIMEOUT=180 assert_exit 0 "$python" "$REPO_ROOT/Tests/Kernel/validate_chain.py" --rpc "http://127.0.0.1:$rpc_port" --user u --password p
assert_contains "$OUT" "VALID: all"
stop_tp tp
