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

# start_postgres: a PostgreSQL cluster of its own in a temporary directory, listening on 127.0.0.1 only, with a
# database "sv2ledger"; stopped (and its directory removed) when the test exits. Run as the postgres user when the
# test runs as root (initdb and postgres refuse root). Sets PG_PORT and LEDGER_URL.
start_postgres() {
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)"
    [[ -x "$PG_BIN/initdb" ]] || fail "no PostgreSQL server in /usr/lib/postgresql: run scripts/setup"
    PG_DIR="$(mktemp -d /tmp/sv2-postgres.XXXXXX)"
    # From /, which the postgres user may enter (the test's own directory it may not).
    PG_AS=(env -C /)
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres "$PG_DIR"
        PG_AS=(env -C / runuser -u postgres --)
    fi
    trap 'for pid in "${BACKGROUND_PIDS[@]}"; do kill -9 "$pid" 2> /dev/null || true; done; stop_postgres; rm -rf "$PG_DIR"' EXIT
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 > "$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; fail "initdb failed"; }
    PG_PORT="$(free_port)"
    start_postgres_server
    "${PG_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres sv2ledger || fail "createdb failed"
    LEDGER_URL="postgresql://postgres@127.0.0.1:$PG_PORT/sv2ledger"
}

# start_postgres_server / stop_postgres: the cluster of start_postgres up (waiting until it accepts connections) and
# down (fast shutdown: open connections are cut).
start_postgres_server() {
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
        -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR" start > /dev/null \
        || { tail -n 20 "$PG_DIR/server.log" >&2; fail "PostgreSQL did not start"; }
}
stop_postgres() {
    [[ -n "${PG_DIR:-}" && -d "$PG_DIR/data" ]] || return 0
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop > /dev/null || true
}

# psql_value SQL: the result of one query on the sv2ledger database, unaligned.
psql_value() {
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d sv2ledger -Atc "$1"
}
