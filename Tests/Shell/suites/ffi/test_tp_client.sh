# Tests/FFI/tp_client.c, built with AddressSanitizer: connects to `sv2 tp` over Noise, checks the certificate against
# the authority key, and prints the first NewTemplate and SetNewPrevHash -- whose prev_hash is the node's tip. With the
# wrong authority key it refuses the server. No sanitizer report either way.
source "$SUITE_DIR/helpers.sh"

build_asan tp_client "$FFI_SOURCES/tp_client.c"
rpc_port="$(free_port)"
start_tp tp --datadir "$TEST_TMP/data" --rpc-listen "127.0.0.1:$rpc_port" --rpc-user u --rpc-password p
BACKGROUND_PIDS+=("$TP_PID")

ASSERT_TIMEOUT=30 assert_exit 0 ./tp_client 127.0.0.1 "$TP_PORT" "$TP_KEY"
printf '%s\n' "$OUT"
assert_no_sanitizer_report "$TEST_TMP/.err"
assert_contains "$OUT" "NewTemplate"
assert_contains "$OUT" "coinbase_tx_value_remaining = "
assert_contains "$OUT" "TemplateDistribution.SetNewPrevHash"
template_ids="$(grep -o 'template_id = [0-9]*' <<< "$OUT" | sort -u | wc -l)"
assert_eq 1 "$template_ids" "distinct template ids (the SetNewPrevHash is for the template printed)"
prev_hash="$(sed -n 's/^  prev_hash = //p' <<< "$OUT")"
tip="$(python3 - "$rpc_port" <<'PY'
import base64, json, sys, urllib.request
request = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}", data=json.dumps({"id": 1, "method": "getbestblockhash", "params": []}).encode(),
    headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode()})
print(json.loads(urllib.request.urlopen(request, timeout=10).read())["result"])
PY
)"
# The wire carries U256 little-endian; the RPC prints the hash byte-reversed.
assert_eq "$tip" "$(python3 -c 'import sys; print(bytes.fromhex(sys.argv[1])[::-1].hex())' "$prev_hash")" "prev_hash against getbestblockhash"

# Another authority's key: the certificate is refused.
other_key="$("$SV2" keygen | sed -n 's/^authority_public_key = "\(.*\)"$/\1/p')"
ASSERT_TIMEOUT=30 assert_exit 1 ./tp_client 127.0.0.1 "$TP_PORT" "$other_key"
assert_contains "$ERR" "act 2: certificate refused (certificate is not signed by the configured authority public key)"
assert_no_sanitizer_report "$TEST_TMP/.err"
# A key that does not parse.
ASSERT_TIMEOUT=30 assert_exit 2 ./tp_client 127.0.0.1 "$TP_PORT" "not-a-key"
assert_contains "$ERR" "authority public key: invalid key"
stop_tp tp
