#!/bin/sh
# End to end on loopback: demo-server on ephemeral ports and a swarm of 4
# headless bot clients for 30 s (lobby, room, match, connect token, game).
# Asserts from the JSON Lines both write: every bot connected, scores moved,
# no decode error anywhere. Usage: e2e_headless.sh DEMO_SERVER DEMO_GAME WORKDIR
set -u
. "$(dirname "$0")/stop.sh"
server_bin=$1
game_bin=$2
work=$3
mkdir -p "$work"
srv_stats="$work/e2e-server.jsonl"
srv_log="$work/e2e-server.log"
bot_stats="$work/e2e-bots.jsonl"
rm -f "$srv_stats" "$srv_log" "$bot_stats"

fail() {
    echo "FAIL: $*"
    echo "--- server log"; tail -n 20 "$srv_log" 2>/dev/null
    echo "--- last bot line"; tail -n 1 "$bot_stats" 2>/dev/null
    exit 1
}

timeout --foreground -k 5 50 "$server_bin" --lobby-port 0 --game-port 0 --duration 45 --stats "$srv_stats" 2>"$srv_log" &
server_pid=$!
trap 'stop_within "$server_pid" 10 TERM demo-server >/dev/null' EXIT

# The server prints its ports once they are open.
port=""
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's/.*lobby on TCP port \([0-9]*\).*/\1/p' "$srv_log" 2>/dev/null)
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || fail "the server did not report its lobby port"
# The lobby speaks TLS with the host certificate (made on first run in
# XDG_CONFIG_HOME); the bots pin it as a player would from the server's output.
pin=$(sed -n 's/.*certificate SHA-256 \([0-9A-F:]*\).*/\1/p' "$srv_log")
[ -n "$pin" ] || fail "the server did not report its certificate pin"

timeout --foreground 50 "$game_bin" --headless --connect "127.0.0.1:$port" --pin "$pin" --bots 4 --duration 30 \
    --stats "$bot_stats" 2>"$work/e2e-bots.log"
rc=$?
[ $rc -eq 0 ] || fail "the bot swarm exited with $rc"
stop_within "$server_pid" 20 INT demo-server || fail "demo-server did not stop cleanly on Ctrl-C"
trap - EXIT

last=$(tail -n 1 "$bot_stats")
[ -n "$last" ] || fail "no bot stats"
echo "$last" | grep -q '"connected": 4,' || fail "not every bot was connected at the end"
[ "$(echo "$last" | grep -o '"connected": true' | wc -l)" -eq 4 ] || fail "a bot reports connected false"
lines=$(wc -l <"$bot_stats")
[ "$lines" -ge 25 ] || fail "only $lines bot stats lines for 30 s"

# Decode errors: every line of both files, every bot.
grep -o '"decode_errors": [0-9]*' "$bot_stats" "$srv_stats" | grep -vq ': 0$' && fail "decode errors reported"

# Scores changed: some bot scored, and the server counted kills.
max_score=$(grep -o '"score_total": [0-9]*' "$bot_stats" | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
[ "$max_score" -gt 0 ] || fail "no bot ever scored"
kills=$(tail -n 1 "$srv_stats" | sed -n 's/.*"kills": \([0-9]*\).*/\1/p')
[ "${kills:-0}" -gt 0 ] || fail "the server counted no kill"
max_clients=$(grep -o '"clients": [0-9]*' "$srv_stats" | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
[ "$max_clients" -eq 4 ] || fail "the server saw $max_clients clients at most, expected 4"
grep -q '"tick_ms_p99"' "$srv_stats" || fail "server stats without tick_ms_p99"
echo "PASS: 4 bots connected, best score total $max_score, $kills kills, no decode error"
