# The README's two commands on regtest: `sv2 pool --datadir DIR` on its embedded node and `sv2 mine --cpu URL`.
# Half of all regtest hashes solve a block, so the pool's channel target is the network target and the miner
# submits every block it finds: the first block comes within 5 s of the miner's start (the goal is 2 s).
source "$SUITE_DIR/helpers.sh"

start_pool pool "$(free_port)" --datadir "$TEST_TMP/data"
started=$(date +%s%N)
start_miner miner --threads 1 "${POOL_URL/0.0.0.0/127.0.0.1}"
for _ in $(seq 100); do
    grep -q 'block found' pool.log && break
    sleep 0.05
done
grep -q 'block found' pool.log || { tail -n 20 pool.log miner.log >&2; fail "no block within 5 s of the miner's start"; }
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "first block ${elapsed_ms} ms after the miner started"
(( elapsed_ms <= 5000 )) || fail "the first block took ${elapsed_ms} ms"
# More follow at once: every block is a new tip and new work.
sleep 2
(( $(count_log pool.log 'block found') >= 3 )) || { tail -n 20 pool.log >&2; fail "blocks did not keep coming"; }
kill -TERM "$MINER_PID"
wait "$MINER_PID" || fail "sv2 mine did not exit 0"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0"
