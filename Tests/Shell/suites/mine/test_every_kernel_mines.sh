# Every SHA-256d kernel this CPU has, forced with --kernel, mines on a regtest `sv2 pool` (embedded node): the miner
# names the kernel it runs, the pool accepts its shares and blocks; a kernel the CPU lacks is refused with a clear
# error and exit status 1, and an unknown name is a usage error.
source "$SUITE_DIR/../pool/helpers.sh"

start_pool pool "$(free_port)" --datadir "$TEST_TMP/data"
url="${POOL_URL/0.0.0.0/127.0.0.1}"
ran=0
for kernel in portable sha-ni sha-ni-x2 sha-ni-x4 sha-ni-x4-avx512 avx2 avx512; do
    "$SV2" mine --cpu --threads 1 --kernel "$kernel" --report-interval 0.5 "$url" > "miner-$kernel.log" 2>&1 &
    pid=$!
    BACKGROUND_PIDS+=("$pid")
    for _ in $(seq 100); do
        grep -Eq 'accepted [1-9]|does not run on this CPU' "miner-$kernel.log" && break
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    if grep -q 'does not run on this CPU' "miner-$kernel.log"; then
        status=0
        wait "$pid" || status=$?
        assert_eq 1 "$status" "exit status of --kernel $kernel on a CPU without it"
        echo "$kernel: not on this CPU (refused)"
        continue
    fi
    grep -q "on the $kernel kernel" "miner-$kernel.log" || { cat "miner-$kernel.log" >&2; fail "the miner does not name the $kernel kernel"; }
    grep -Eq 'accepted [1-9]' "miner-$kernel.log" || { tail -n 20 "miner-$kernel.log" pool.log >&2; fail "no accepted share with --kernel $kernel"; }
    kill -TERM "$pid"
    wait "$pid" || fail "sv2 mine --kernel $kernel did not exit 0 on SIGTERM"
    echo "$kernel: $(grep -Eo 'hashrate [0-9.]+ [kMG]?H/s, accepted [0-9]+' "miner-$kernel.log" | tail -n 1)"
    ran=$(( ran + 1 ))
done
(( ran >= 1 )) || fail "no kernel ran"
# The pool saw blocks from these miners (regtest: half of all hashes are blocks).
(( $(count_log pool.log 'block found') >= ran )) || { tail -n 20 pool.log >&2; fail "fewer blocks than kernels that ran"; }

assert_exit "$SV2_EXIT_USAGE" "$SV2" mine --cpu --kernel sha-ni-x9 "$url"
assert_contains "$ERR" "--kernel must be one of auto, portable, sha-ni, sha-ni-x2, sha-ni-x4, sha-ni-x4-avx512, avx2, avx512"
