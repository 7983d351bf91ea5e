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
