# A throwaway PostgreSQL cluster, for scripts/with-postgres and the ledger's shell tests (sourced, bash).
#
#   pg_create DATABASE   a new cluster in a temporary directory on a free 127.0.0.1 port, started, with DATABASE;
#                        sets PG_BIN, PG_DIR, PG_AS, PG_PORT and PG_URL; returns non-zero (with the server's log on
#                        stderr) when a step fails
#   pg_start / pg_stop   the server up (waiting until it takes connections) / down (fast: connections are cut)
#   pg_destroy           stopped and its directory removed
# As root the server runs as the postgres user (initdb and postgres refuse root), always from / (which that user may
# enter, unlike the caller's directory).

pg_create() {
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)"
    [[ -x "$PG_BIN/initdb" ]] || { echo "no PostgreSQL server in /usr/lib/postgresql (scripts/setup installs it)" >&2; return 1; }
    PG_DIR="$(mktemp -d /tmp/sv2-postgres.XXXXXX)"
    PG_AS=(env -C /)
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres "$PG_DIR"
        PG_AS=(env -C / runuser -u postgres --)
    fi
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 > "$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    pg_start || return 1
    "${PG_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$1" || return 1
    PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/$1"
}

pg_start() {
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
        -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR" start > /dev/null \
        || { tail -n 20 "$PG_DIR/server.log" >&2; return 1; }
}

pg_stop() {
    [[ -n "${PG_DIR:-}" && -d "$PG_DIR/data" ]] || return 0
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop > /dev/null || true
}

pg_destroy() {
    pg_stop
    [[ -n "${PG_DIR:-}" ]] && rm -rf "$PG_DIR"
}
