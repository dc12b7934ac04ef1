#!/usr/bin/env bash
# Runs the chat example as a test: starts netcore-lobby on a free port, then
# alice (who waits for bob's line) and bob (who says it), and stops the lobby.
# usage: run_chat_test.sh NETCORE_LOBBY CHAT
set -euo pipefail
lobby_bin=$1 chat_bin=$2
work=$(mktemp -d)
lobby_pid=
cleanup() {
    if [[ -n $lobby_pid ]]; then kill "$lobby_pid" 2>/dev/null || true; wait "$lobby_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$lobby_bin" --generate-key >"$work/key"
timeout --foreground 40 "$lobby_bin" --key-file "$work/key" --game-address 127.0.0.1:7778 \
    --bind 127.0.0.1 --port 0 --seconds 30 2>"$work/lobby.log" &
lobby_pid=$!
address=
for _ in $(seq 100); do
    address=$(sed -n 's/^netcore-lobby: listening on \([0-9.:]*\),.*/\1/p' "$work/lobby.log")
    [[ -n $address ]] && break
    sleep 0.1
done
[[ -n $address ]] || { echo "netcore-lobby did not start"; cat "$work/lobby.log"; exit 1; }
echo "lobby on $address"

timeout --foreground 30 "$chat_bin" --lobby "$address" --name alice --room hall \
    --expect "hello from bob" --seconds 20 </dev/null >"$work/alice.log" 2>&1 &
alice=$!
for _ in $(seq 100); do
    grep -q "joined room" "$work/alice.log" && break
    sleep 0.1
done
timeout --foreground 30 "$chat_bin" --lobby "$address" --name bob --room hall \
    --say "hello from bob" --seconds 2 </dev/null >"$work/bob.log" 2>&1 || { cat "$work/bob.log"; exit 1; }
status=0
wait "$alice" || status=$?
echo "-- alice"; cat "$work/alice.log"
echo "-- bob"; cat "$work/bob.log"
exit "$status"
