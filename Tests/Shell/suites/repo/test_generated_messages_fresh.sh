# The message structs in Sources/Sv2Messages are what scripts/gen-messages makes from scripts/messages.json.
assert_exit 0 "$REPO_ROOT/scripts/gen-messages" --check
