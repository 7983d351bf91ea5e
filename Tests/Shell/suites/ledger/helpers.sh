# Helpers for the ledger suite: the pool suite's (sv2 pool and sv2 mine in the background), and reading what miners
# saw acknowledged and what a ledger holds.

source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"

# acknowledged_hashes LOG...: every share hash the miners (run with --log-level debug) logged as acknowledged by a
# SubmitShares.Success, one per line, sorted.
acknowledged_hashes() {
    { grep -h 'share(s) accepted: ' "$@" 2> /dev/null || true; } | sed 's/.*share(s) accepted: //' | { grep -Eo '[0-9a-f]{64}' || true; } | sort -u
}

# miner_accepted LOG: the "accepted N" of a stopped miner's summary line.
miner_accepted() {
    grep -Eo 'stopped after .* accepted [0-9]+' "$1" | grep -Eo 'accepted [0-9]+$' | awk '{print $2}'
}

# stop_miner PID: SIGINT (the miner waits for the answers to the shares it sent), then waits for it.
stop_miner() {
    kill -INT "$1"
    wait "$1" || fail "sv2 mine $1 did not exit 0 on SIGINT"
}

# start_postgres: a PostgreSQL cluster of its own (scripts/lib/postgres.sh) with a database "sv2ledger", on
# 127.0.0.1 only; destroyed when the test exits. Sets PG_PORT and LEDGER_URL; start_postgres_server and stop_postgres
# bring it up and down in the middle of a test.
start_postgres() {
    source "$REPO_ROOT/scripts/lib/postgres.sh"
    trap 'for pid in "${BACKGROUND_PIDS[@]}"; do kill -9 "$pid" 2> /dev/null || true; done; pg_destroy' EXIT
    pg_create sv2ledger || fail "PostgreSQL did not start"
    LEDGER_URL="$PG_URL"
}
start_postgres_server() { pg_start || fail "PostgreSQL did not start"; }
stop_postgres() { pg_stop; }

# psql_value SQL: the result of one query on the sv2ledger database, unaligned.
psql_value() {
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d sv2ledger -Atc "$1"
}
