# Tests/FFI/tp_server.c, a Template Provider written in C over libsv2c (built with AddressSanitizer), serves `sv2 pool
# --tp-address`; `sv2 mine --cpu` mines on the pool. The pool's SubmitSolution messages reach the C program, which
# rebuilds each header from its template and checks the proof of work: three valid blocks, each the next tip, then it
# exits 0 with no sanitizer report. The block hashes it computed are the ones the pool and the miner announced.
source "$SUITE_DIR/helpers.sh"

build_asan tp_server "$FFI_SOURCES/tp_server.c"
eval "$("$SV2" keygen | sed 's/ = /=/')"
tp_authority_secret="$authority_secret_key"
tp_authority_public="$authority_public_key"
eval "$("$SV2" keygen | sed 's/ = /=/')"

./tp_server tp.port "$tp_authority_secret" 3 > tp_server.log 2> tp_server.err &
tp_pid=$!
BACKGROUND_PIDS+=("$tp_pid")
wait_for_log tp_server.log 'listening on 127\.0\.0\.1:[0-9]+' 20 "$tp_pid"

start_pool pool "$(free_port)" --authority-secret-key "$authority_secret_key" --tp-address "127.0.0.1:$(cat tp.port)" \
    --tp-authority-public-key "$tp_authority_public" --coinbase-reward-script "$REWARD_ADDRESS"
start_miner miner --threads 1 "${POOL_URL/0.0.0.0/127.0.0.1}"

status=0
timeout 60 tail --pid="$tp_pid" -f /dev/null || fail "tp_server did not get its three blocks within 60 s"
wait "$tp_pid" || status=$?
cat tp_server.log
assert_no_sanitizer_report tp_server.err
(( status == 0 )) || { cat tp_server.err >&2; tail -n 20 pool.log >&2; fail "tp_server exited with $status"; }
assert_eq 3 "$(count_log tp_server.log 'meets the target: valid proof of work')" "valid solutions"
assert_eq 0 "$(count_log tp_server.log 'invalid')" "invalid solutions"
assert_eq 3 "$(count_log tp_server.log '^template [0-9]+ at height [0-9]+ sent')" "templates sent"
grep -q 'template 3 at height 3 sent' tp_server.log || fail "the tip did not move on with each block"

# Each block the C program checked was announced by the pool (hashes printed byte-reversed there).
for wire in $(sed -n 's/.*block hash \([0-9a-f]*\) meets.*/\1/p' tp_server.log); do
    display="$(python3 -c 'import sys; print(bytes.fromhex(sys.argv[1])[::-1].hex())' "$wire")"
    grep -q "$display" pool.log || { tail -n 20 pool.log >&2; fail "block $display is not in the pool's log"; }
done
(( $(accepted_count miner.log) > 0 )) || wait_for_log miner.log 'accepted [1-9]' 10 "$MINER_PID"
