# sv2 pool stats on a fixed ledger: sv2 pool creates the schema (then stops), the test writes known rows with
# Python's sqlite3, and the report — text and JSON, whole, per account, since a time, with a PPLNS window — matches
# figures computed by hand (fixtures/stats_*.txt). Bad arguments fail with a clear message.
source "$SUITE_DIR/helpers.sh"

ledger="$TEST_TMP/ledger.sqlite"
start_pool pool "$(free_port)" --datadir "$TEST_TMP/node" --ledger "sqlite:$ledger"
wait_for_log pool.log 'recording shares as server 0' 30 "$POOL_PID"
kill -TERM "$POOL_PID"
wait "$POOL_PID" || fail "sv2 pool did not exit 0"

# Times: T = 2026-01-01T00:00:00Z = 1767225600 s. Difficulty 1 is 2^32 = 4294967296 expected hashes.
python3 - "$ledger" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
T = 1767225600 * 1000
D1 = 4294967296.0
shares = [  # (server, ms, user, worker, difficulty, block, hash byte)
    (1, T, "alice", "rig1", 1, 0, 1), (1, T + 60_000, "alice", "rig1", 1, 0, 2), (1, T + 120_000, "alice", "rig2", 2, 0, 3),
    (2, T + 180_000, "bob", "", 1, 1, 4), (2, T + 240_000, "bob", "", 4, 0, 5),
]
for server, ms, user, worker, difficulty, block, tag in shares:
    db.execute("INSERT INTO shares (server_id, time_ms, user_name, worker, channel_id, sequence_number, job_id, difficulty, work, hash, is_block) "
               "VALUES (?, ?, ?, ?, 1, ?, 1, ?, ?, ?, ?)", (server, ms, user, worker, tag, difficulty, difficulty * D1, bytes([tag]) * 32, block))
db.execute("INSERT INTO rejections VALUES (1, ?, 'alice', 'rig2', 'stale-share', 2)", (T // 60000,))
db.execute("INSERT INTO rejections VALUES (1, ?, 'alice', 'rig2', 'difficulty-too-low', 1)", (T // 60000 + 3,))
db.execute("INSERT INTO rejections VALUES (2, ?, 'bob', '', 'difficulty-too-low', 1)", (T // 60000 + 4,))
db.execute("INSERT INTO blocks (server_id, time_ms, hash, height, user_name, worker, template_id, previous_hash) VALUES (2, ?, ?, 200, 'bob', '', 7, ?)",
           (T + 180_000, bytes([4]) * 32, bytes([9]) * 32))
db.commit()
PY

assert_exit 0 "$SV2" pool stats --ledger "sqlite:$ledger" --pplns-window 3
assert_eq "$(cat "$SUITE_DIR/fixtures/stats_all.txt")" "$OUT" "the whole report"
assert_exit 0 "$SV2" pool stats --ledger "sqlite:$ledger" --user alice --since 2026-01-01T00:01:00Z
assert_eq "$(cat "$SUITE_DIR/fixtures/stats_alice_since.txt")" "$OUT" "alice since 00:01"
assert_exit 0 "$SV2" pool stats --ledger "sqlite:$ledger" --json --pplns-window 2
printf '%s' "$OUT" > stats.json
python3 - stats.json <<'PY' || fail "the JSON report differs from the hand-computed figures"
import json, sys
report = json.load(open(sys.argv[1]))
D1 = 4294967296
alice, bob = report["accounts"]
assert (alice["user"], alice["accepted"], alice["work"], alice["rejected"], alice["blocks"]) == ("alice", 3, 4 * D1, 3, 0), alice
assert alice["rejected_by_code"] == {"difficulty-too-low": 1, "stale-share": 2}, alice
assert [(w["worker"], w["accepted"], w["work"]) for w in alice["workers"]] == [("rig1", 2, 2 * D1), ("rig2", 1, 2 * D1)], alice
assert (bob["accepted"], bob["work"], bob["blocks"], bob["rejected"]) == (2, 5 * D1, 1, 1), bob
assert report["total"]["accepted"] == 5 and report["total"]["work"] == 9 * D1 and report["total"]["rejected"] == 4
(block,) = report["blocks"]
assert (block["height"], block["user"], block["server_id"], block["template_id"], block["hash"]) == (200, "bob", 2, 7, "04" * 32), block
assert block["time"] == "2026-01-01T00:03:00Z", block
# The newest two shares: bob's (difficulty 4) and bob's block share (difficulty 1): 5 x 2^32, all bob's.
assert report["pplns"] == {"window": 2, "work": 5 * D1, "users": [{"user": "bob", "work": 5 * D1, "fraction": 1.0}]}, report["pplns"]
PY

assert_exit nonzero "$SV2" pool stats --ledger "sqlite:$TEST_TMP/missing.sqlite"
assert_contains "$ERR" "no ledger at $TEST_TMP/missing.sqlite"
assert_exit nonzero "$SV2" pool stats --ledger "mysql://x/y"
assert_contains "$ERR" "expected sqlite:PATH or postgresql://USER:PASS@HOST:PORT/DB"
assert_exit nonzero "$SV2" pool stats --ledger "sqlite:$ledger" --since yesterday
assert_contains "$ERR" "--since: \"yesterday\" is not Unix seconds"
