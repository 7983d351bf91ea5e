# Several pool instances, one PostgreSQL ledger: a cluster of the test's own on a loopback port, two sv2 pool
# processes with --server-id 1 and 2 (each on its own embedded regtest node) writing to it, a CPU miner on each.
# PostgreSQL is stopped for 10 s in the middle: the pools keep validating and hold the acknowledgements; once it is
# back, the held acknowledgements go out (merged, so no miner's connection is swamped), mining goes on and every
# share a miner saw acknowledged is in the ledger under its instance. After the miners
# stop (waiting for their answers), each instance's row count equals its miner's acknowledged total, and
# `sv2 pool stats` reads the same ledger.
source "$SUITE_DIR/helpers.sh"
start_postgres

secret="$("$SV2" keygen | grep -o 'authority_secret_key = "[^"]*"' | cut -d'"' -f2)"
for server in 1 2; do
    start_pool "pool$server" "$(free_port)" --datadir "$TEST_TMP/node$server" --ledger "$LEDGER_URL" --server-id "$server" \
        --authority-secret-key "$secret" --shares-per-minute 600
    eval "pool${server}_pid=$POOL_PID pool${server}_url=$POOL_URL"
done
wait_for_log pool1.log 'recording shares as server 1' 30 "$pool1_pid"
wait_for_log pool2.log 'recording shares as server 2' 30 "$pool2_pid"
start_miner alice --threads 1 --extended --log-level debug --user alice.rig1 "$pool1_url"
alice_pid=$MINER_PID
start_miner bob --threads 1 --standard --log-level debug --user bob.rig1 "$pool2_url"
bob_pid=$MINER_PID

# wait_acknowledged LOG COUNT SECONDS: until the miner of LOG has seen COUNT shares acknowledged.
wait_acknowledged() {
    local deadline=$(( SECONDS + $3 ))
    while (( SECONDS < deadline )); do
        (( $(acknowledged_hashes "$1" | wc -l) >= $2 )) && return 0
        sleep 0.3
    done
    tail -n 20 "$1" >&2
    fail "$1: fewer than $2 shares acknowledged within $3 s"
}
wait_acknowledged alice.log 100 30
wait_acknowledged bob.log 100 30

stop_postgres
down_since=$SECONDS
sleep 10
before_alice="$(acknowledged_hashes alice.log | wc -l)"
kill -0 "$pool1_pid" && kill -0 "$pool2_pid" || fail "a pool died while PostgreSQL was down"
wait_for_log pool1.log 'acknowledgements wait, retrying' 5
start_postgres_server
echo "PostgreSQL down for $(( SECONDS - down_since )) s"
wait_for_log pool1.log 'the database is back' 30 "$pool1_pid"
wait_for_log pool2.log 'the database is back' 30 "$pool2_pid"
wait_acknowledged alice.log $(( before_alice + 100 )) 30
wait_acknowledged bob.log $(( $(acknowledged_hashes bob.log | wc -l) + 100 )) 30

stop_miner "$alice_pid"
stop_miner "$bob_pid"
# What was held during the outage went out merged, not as one message per read that would swamp the miners.
assert_not_contains "$(cat pool1.log pool2.log)" "the peer does not read" "the pools' logs"
for pair in alice:1 bob:2; do
    miner="${pair%%:*}" server="${pair##*:}"
    acknowledged_hashes "$miner.log" > "$miner.acknowledged"
    psql_value "SELECT encode(hash, 'hex') FROM shares WHERE server_id = $server AND user_name = '$miner' ORDER BY 1" > "$miner.ledger"
    missing="$(comm -23 "$miner.acknowledged" "$miner.ledger" | wc -l)"
    (( missing == 0 )) || fail "$missing of $(wc -l < "$miner.acknowledged") shares acknowledged to $miner are not in the ledger as server $server's"
    assert_eq "$(miner_accepted "$miner.log")" "$(psql_value "SELECT COUNT(*) FROM shares WHERE server_id = $server")" "server $server's shares"
    assert_eq "0" "$(psql_value "SELECT COUNT(*) FROM shares WHERE server_id <> $server AND user_name = '$miner'")" "$miner's shares on the other server"
    echo "server $server: $(miner_accepted "$miner.log") shares acknowledged to $miner, as many in the ledger"
done
(( $(psql_value "SELECT COUNT(*) FROM blocks WHERE server_id = 1") > 0 )) || fail "no block attributed to server 1"
(( $(psql_value "SELECT COUNT(*) FROM connections WHERE server_id = 2 AND closed_ms IS NOT NULL") >= 1 )) || fail "bob's connection not recorded closed"
assert_eq "2" "$(psql_value "SELECT MAX(version) FROM sv2_ledger_schema")" "schema version (migrated once by two instances)"
assert_eq "1 2" "$(psql_value "SELECT server_id FROM ledger_writers ORDER BY 1" | xargs)" "one writer row per instance"

assert_exit 0 "$SV2" pool stats --ledger "$LEDGER_URL" --json
printf '%s' "$OUT" > stats.json
python3 - stats.json "$(miner_accepted alice.log)" "$(miner_accepted bob.log)" <<'PY' || fail "sv2 pool stats disagrees with the miners"
import json, sys
report = json.load(open(sys.argv[1]))
accepted = {account["user"]: account["accepted"] for account in report["accounts"]}
assert accepted == {"alice": int(sys.argv[2]), "bob": int(sys.argv[3])}, accepted
assert {block["server_id"] for block in report["blocks"]} == {1, 2}, "blocks of both instances"
PY
kill -TERM "$pool1_pid" "$pool2_pid"
wait "$pool1_pid" || fail "pool 1 did not exit 0"
wait "$pool2_pid" || fail "pool 2 did not exit 0"
