# Bad settings and a corrupt or foreign data directory are clear errors at start (exit 1), never a crash.
# A flag that is not of its type is refused by the parser (usage error, exit 64) naming the flag.
ASSERT_TIMEOUT=30 assert_exit 64 "$SV2" tp --listen-address nowhere
assert_contains "$ERR" "--listen-address"
assert_contains "$ERR" "expected HOST:PORT"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --template-interval 100000 --listen-address 127.0.0.1:0
assert_contains "$ERR" "--template-interval: 100000.0 is outside 0.0...86400.0 seconds"
printf 'listen_address = "127.0.0.1:0"\nfee_delta = "lots"\n' > bad.toml
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --config bad.toml
assert_contains "$ERR" "fee_delta in bad.toml: expected an integer"
printf 'listen_adress = "127.0.0.1:0"\n' > typo.toml
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --config typo.toml
assert_contains "$ERR" "listen_adress in typo.toml: unknown key"
ASSERT_TIMEOUT=30 assert_exit 1 env SV2_TP_FEE_DELTA=-5 "$SV2" tp --listen-address 127.0.0.1:0 --datadir data
assert_contains "$ERR" "SV2_TP_FEE_DELTA: -5 is outside"
# Flags override the environment, which overrides the file: the bad value that wins is the one named.
printf 'generation_rate = 99999\n' > rate.toml
ASSERT_TIMEOUT=30 assert_exit 1 env SV2_TP_GENERATION_RATE=-1 "$SV2" tp --config rate.toml --listen-address 127.0.0.1:0
assert_contains "$ERR" "SV2_TP_GENERATION_RATE: -1 is outside"
ASSERT_TIMEOUT=30 assert_exit 1 env SV2_TP_GENERATION_RATE=5 "$SV2" tp --config rate.toml --generation-rate 20000 --listen-address 127.0.0.1:0
assert_contains "$ERR" "--generation-rate: 20000 is outside"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --config rate.toml --listen-address 127.0.0.1:0
assert_contains "$ERR" "generation_rate in rate.toml: 99999 is outside"
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --authority-secret-key nonsense --listen-address 127.0.0.1:0
assert_contains "$ERR" "--authority-secret-key:"

mkdir corrupt
printf 'regtest\n' > corrupt/network
head -c 5000 /dev/urandom > corrupt/blocks.dat
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --datadir corrupt --listen-address 127.0.0.1:0
[[ -n "$ERR" ]] || fail "no message for a corrupt datadir"
mkdir foreign
printf 'mainnet\n' > foreign/network
ASSERT_TIMEOUT=30 assert_exit 1 "$SV2" tp --datadir foreign --listen-address 127.0.0.1:0
[[ -n "$ERR" ]] || fail "no message for a foreign datadir"
