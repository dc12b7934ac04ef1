#!/bin/sh
# A full demo server on loopback: --max-players 64 with 60 server bots, and a
# swarm of 4 headless bot clients for 20 s through the lobby. Asserts from the
# JSON Lines both write: 64 players in the world, every client connected, no
# decode error anywhere. Usage: full_server.sh DEMO_SERVER DEMO_GAME WORKDIR
set -u
. "$(dirname "$0")/stop.sh"
server_bin=$1
game_bin=$2
work=$3
mkdir -p "$work"
srv_stats="$work/full-server.jsonl"
srv_log="$work/full-server.log"
bot_stats="$work/full-bots.jsonl"
rm -f "$srv_stats" "$srv_log" "$bot_stats"

fail() {
    echo "FAIL: $*"
    echo "--- server log"; tail -n 20 "$srv_log" 2>/dev/null
    echo "--- last server line"; tail -n 1 "$srv_stats" 2>/dev/null
    echo "--- last bot line"; tail -n 1 "$bot_stats" 2>/dev/null
    exit 1
}

timeout --foreground -k 5 45 "$server_bin" --lobby-port 0 --game-port 0 --duration 40 \
    --max-players 64 --bots 60 --stats "$srv_stats" 2>"$srv_log" &
server_pid=$!
trap 'stop_within "$server_pid" 10 TERM demo-server >/dev/null' EXIT

port=""
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's/.*lobby on TCP port \([0-9]*\).*/\1/p' "$srv_log" 2>/dev/null)
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || fail "the server did not report its lobby port"

# The lobby speaks TLS with the server's self-signed certificate; the bots
# pin it as a player would from the server's output.
pin=$(sed -n 's/.*certificate SHA-256 \([0-9A-F:]*\).*/\1/p' "$srv_log")
[ -n "$pin" ] || fail "the server did not report its certificate pin"

timeout --foreground 40 "$game_bin" --headless --connect "127.0.0.1:$port" --pin "$pin" --bots 4 --duration 20 \
    --stats "$bot_stats" 2>"$work/full-bots.log"
rc=$?
[ $rc -eq 0 ] || fail "the bot swarm exited with $rc"
stop_within "$server_pid" 20 INT demo-server || fail "demo-server did not stop cleanly on Ctrl-C"
trap - EXIT

last=$(tail -n 1 "$bot_stats")
[ -n "$last" ] || fail "no bot stats"
echo "$last" | grep -q '"connected": 4,' || fail "not every client was connected at the end"
grep -o '"decode_errors": [0-9]*' "$bot_stats" "$srv_stats" | grep -vq ': 0$' && fail "decode errors reported"
max_players=$(grep -o '"players": [0-9]*' "$srv_stats" | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
[ "$max_players" -eq 64 ] || fail "the world held $max_players players at most, expected 64"
max_clients=$(grep -o '"clients": [0-9]*' "$srv_stats" | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
[ "$max_clients" -eq 4 ] || fail "the server saw $max_clients clients at most, expected 4"
echo "PASS: 64 players (60 server bots, 4 clients), no decode error"
