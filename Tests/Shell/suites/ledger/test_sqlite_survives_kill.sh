# The durability promise on SQLite: sv2 pool with --ledger sqlite:… and two CPU miners (extended and standard
# channels) that log every share the pool acknowledged. The pool is killed with SIGKILL three times in the middle of
# mining and restarted; after each kill, every share a miner had seen acknowledged is in the ledger. Then two fresh
# miners mine and stop (waiting for their answers): the ledger holds exactly as many of their shares as they counted
# acknowledged, with account and worker split from user_identity, and `sv2 pool stats` agrees.
source "$SUITE_DIR/helpers.sh"

ledger="$TEST_TMP/ledger.sqlite"
pool_port="$(free_port)"
secret="$("$SV2" keygen | grep -o 'authority_secret_key = "[^"]*"' | cut -d'"' -f2)"
pool_args=(--datadir "$TEST_TMP/node" --ledger "sqlite:$ledger" --authority-secret-key "$secret" --shares-per-minute 600)

# ledger_hashes: the hashes of every share in the ledger, one per line, sorted.
ledger_hashes() {
    python3 - "$ledger" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT lower(hex(hash)) FROM shares").fetchall()
print("\n".join(sorted(row[0] for row in rows)))
PY
}

start_pool pool0 "$pool_port" "${pool_args[@]}"
start_miner alice --threads 1 --extended --log-level debug --user alice.rig1 "$POOL_URL"
alice_pid=$MINER_PID
start_miner bob --threads 1 --standard --log-level debug --user bob.rig2 "$POOL_URL"
bob_pid=$MINER_PID

for round in 1 2 3; do
    before="$(acknowledged_hashes alice.log bob.log | wc -l)"
    deadline=$(( SECONDS + 30 ))
    while (( SECONDS < deadline )); do
        (( $(acknowledged_hashes alice.log bob.log | wc -l) >= before + 200 )) && break
        sleep 0.3
    done
    kill -9 "$POOL_PID"
    wait "$POOL_PID" 2> /dev/null || true
    acknowledged_hashes alice.log bob.log > acknowledged.txt
    ledger_hashes > ledger.txt
    acknowledged="$(wc -l < acknowledged.txt)"
    (( acknowledged >= before + 200 )) || { tail -n 20 "pool$((round - 1)).log" alice.log >&2; fail "round $round: only $acknowledged shares acknowledged"; }
    missing="$(comm -23 acknowledged.txt ledger.txt | wc -l)"
    (( missing == 0 )) || fail "round $round: $missing of $acknowledged acknowledged shares are not in the ledger after kill -9"
    echo "round $round: $acknowledged shares acknowledged so far, all in the ledger ($(wc -l < ledger.txt) rows)"
    start_pool "pool$round" "$pool_port" "${pool_args[@]}"
done
stop_miner "$alice_pid"
stop_miner "$bob_pid"

# Exact accounting: two fresh miners of account carol on the last pool process.
start_miner carol1 --threads 1 --extended --log-level debug --user carol.rig1 "$POOL_URL"
carol1_pid=$MINER_PID
start_miner carol2 --threads 1 --standard --log-level debug --user carol.rig2 "$POOL_URL"
carol2_pid=$MINER_PID
deadline=$(( SECONDS + 30 ))
while (( SECONDS < deadline )); do
    (( $(acknowledged_hashes carol1.log | wc -l) >= 100 && $(acknowledged_hashes carol2.log | wc -l) >= 100 )) && break
    sleep 0.3
done
stop_miner "$carol1_pid"
stop_miner "$carol2_pid"
counted=$(( $(miner_accepted carol1.log) + $(miner_accepted carol2.log) ))
(( counted >= 200 )) || fail "carol's miners counted only $counted acknowledged shares"
rows="$(python3 - "$ledger" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(" ".join(f"{worker}={count}" for worker, count in db.execute(
    "SELECT worker, COUNT(*) FROM shares WHERE user_name = 'carol' GROUP BY worker ORDER BY worker")))
PY
)"
assert_eq "rig1=$(miner_accepted carol1.log) rig2=$(miner_accepted carol2.log)" "$rows" "carol's shares in the ledger by worker"
assert_exit 0 "$SV2" pool stats --ledger "sqlite:$ledger" --user carol --json
accepted="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["accepted"])' <<< "$OUT")"
assert_eq "$counted" "$accepted" "sv2 pool stats --user carol"

kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0 on SIGTERM"
assert_contains "$(cat pool3.log)" "ledger sqlite:$ledger: recording shares"
