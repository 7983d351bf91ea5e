# 200 bad inputs made from a fixed seed by fuzz_inputs.py (random hex, truncated frames, corrupted length
# prefixes, odd digit counts, non-hex characters, short payloads, huge length claims), given to sv2 decode as an
# argument, on stdin or with --file, some with --json. Each must be refused: a non-zero exit status below 128
# (never death by a signal), a message on stderr, and no hang (10 s per call).

"$SV2" encode --list > list.txt || fail "sv2 encode --list failed"
python3 "$SUITE_DIR/fuzz_inputs.py" list.txt inputs > manifest.txt || fail "fuzz_inputs.py failed"
assert_eq 200 "$(wc -l < manifest.txt | tr -d ' ')" "number of fuzz inputs"

problems=()
statuses=""
count=0
while read -r index mode kind; do
    input="inputs/$index.in"
    options=()
    (( 10#$index % 4 == 3 )) && options=(--json)
    status=0
    case "$mode" in
        arg)   timeout --kill-after=2 10 "$SV2" decode "${options[@]}" -- "$(cat "$input")" > out.txt 2> err.txt || status=$? ;;
        stdin) timeout --kill-after=2 10 "$SV2" decode "${options[@]}" < "$input" > out.txt 2> err.txt || status=$? ;;
        file)  timeout --kill-after=2 10 "$SV2" decode "${options[@]}" --file "$input" > out.txt 2> err.txt || status=$? ;;
        *)     fail "unknown mode '$mode' in manifest" ;;
    esac
    count=$(( count + 1 ))
    statuses+=" $status"
    what="input $index ($kind, $mode${options[*]:+, ${options[*]}}, $(head -c 80 "$input" | od -An -c -v | tr -s ' \n' ' ' | cut -c 1-120))"
    if (( status == 124 || status == 137 )); then
        problems+=("HANG: $what did not finish within 10 s")
    elif (( status >= 128 )); then
        problems+=("CRASH: $what killed by $(signal_name $(( status - 128 ))) (status $status): $(head -c 300 err.txt | tr -d '\0')")
    elif (( status == 0 )); then
        problems+=("ACCEPTED: $what exited 0, stdout: $(head -c 200 out.txt | tr -d '\0')")
    elif [[ ! -s err.txt ]]; then
        problems+=("SILENT: $what exited $status with nothing on stderr")
    elif [[ "$(head -n 1 err.txt | tr -d '\0')" != "Error: "* ]]; then
        problems+=("MESSAGE: $what: stderr does not start with 'Error: ': $(head -c 200 err.txt | tr -d '\0')")
    fi
done < manifest.txt
assert_eq 200 "$count" "number of inputs run"

echo "exit statuses seen: $(tr ' ' '\n' <<< "$statuses" | sed '/^$/d' | sort -n | uniq -c | tr -s ' \n' ' ')"
if (( ${#problems[@]} > 0 )); then
    printf '%s\n' "${problems[@]}" >&2
    fail "${#problems[@]} of 200 bad inputs were not refused cleanly (inputs kept in $TEST_TMP/inputs)"
fi
