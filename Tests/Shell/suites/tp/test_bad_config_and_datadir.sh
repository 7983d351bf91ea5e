# Bad settings and a corrupt or foreign data directory are clear errors at start (exit 1), never a crash.
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --listen-address nowhere
assert_contains "$ERR" "listen_address: expected HOST:PORT"
printf 'listen_address = "127.0.0.1:0"\nfee_delta = "lots"\n' > bad.toml
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --config bad.toml
assert_contains "$ERR" "bad.toml: fee_delta: expected an integer"
printf 'listen_adress = "127.0.0.1:0"\n' > typo.toml
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --config typo.toml
assert_contains "$ERR" "listen_adress: unknown key"
ASSERT_TIMEOUT=30 assert_exit 1 env SV2_TP_FEE_DELTA=-5 "$SV2" tp --listen-address 127.0.0.1:0 --datadir data
assert_contains "$ERR" "SV2_TP_FEE_DELTA"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --authority-secret-key nonsense --listen-address 127.0.0.1:0
assert_contains "$ERR" "authority_secret_key"

mkdir corrupt
printf 'regtest\n' > corrupt/network
head -c 5000 /dev/urandom > corrupt/blocks.dat
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --datadir corrupt --listen-address 127.0.0.1:0
[[ -n "$ERR" ]] || fail "no message for a corrupt datadir"
mkdir foreign
printf 'mainnet\n' > foreign/network
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --datadir foreign --listen-address 127.0.0.1:0
[[ -n "$ERR" ]] || fail "no message for a foreign datadir"
