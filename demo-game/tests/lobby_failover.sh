#!/bin/sh
# A lobby with two game servers on loopback, and one of them killed.
#
# netcore-lobby on an ephemeral port, two demo-server processes in game
# server only mode (--register, same key), and a swarm of 4 headless bots,
# each in its own one-seat room. The lobby places the matches least loaded
# first, so both game servers get some. Then one game server is killed with
# SIGKILL: its players lose their game connection (timeout), return to their
# rooms (the lobby sends MATCH_END), and their next match lands on the
# survivor, while the survivor's own players never notice. Asserts from the
# JSON Lines of the bots and the servers and from the lobby's exit summary.
# Usage: lobby_failover.sh NETCORE_LOBBY DEMO_SERVER DEMO_GAME WORKDIR
set -u
. "$(dirname "$0")/stop.sh"
lobby_bin=$1
server_bin=$2
game_bin=$3
work=$4
mkdir -p "$work"
cd "$work" || exit 1
rm -f key lobby.json lobby.log a.jsonl a.log b.jsonl b.log bots.jsonl bots.log

lobby_pid=""
a_pid=""
b_pid=""
bots_pid=""
cleanup() {
    for p in $bots_pid $a_pid $b_pid $lobby_pid; do
        kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in lobby.log a.log b.log bots.log; do
        echo "--- $f"
        tail -n 15 "$f" 2>/dev/null
    done
    echo "--- last bot line"
    tail -n 1 bots.jsonl 2>/dev/null
    exit 1
}

# Waits up to 10 s for a pattern in a file; prints the first match of the
# sed expression.
wait_sed() {
    expr=$1
    file=$2
    out=""
    i=0
    while [ $i -lt 100 ] && [ -z "$out" ]; do
        out=$(sed -n "$expr" "$file" 2>/dev/null | head -n 1)
        [ -n "$out" ] || sleep 0.1
        i=$((i + 1))
    done
    echo "$out"
}

# One line per bot from the last bots stats line, and a field of such a line.
bots_now() { tail -n 1 bots.jsonl | grep -o '{"name": "[^}]*}'; }
field() { sed -n "s/.*\"$1\": \"\{0,1\}\([a-z0-9.]*\).*/\1/p"; }
last_value() { tail -n 1 "$2" | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }

"$lobby_bin" --generate-key >key || fail "no key"
# The lobby speaks TLS with a certificate made here for 127.0.0.1: the game
# servers verify it as their CA (chain and address), the bots by its pin.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout lobby-key.pem -out lobby-cert.pem \
    >openssl.log 2>&1 || fail "openssl could not make a certificate"
# The fallback game address is never used: the bots start once both game
# servers are registered.
"$lobby_bin" --bind 127.0.0.1 --port 0 --game-address 127.0.0.1:9 --key-file key --max-game-servers 2 \
    --tls-cert lobby-cert.pem --tls-key lobby-key.pem --seconds 55 >lobby.json 2>lobby.log &
lobby_pid=$!
port=$(wait_sed 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' lobby.log)
[ -n "$port" ] || fail "the lobby did not report its port"
pin=$(wait_sed 's/.*certificate SHA-256 \([0-9A-F:]*\).*/\1/p' lobby.log)
[ -n "$pin" ] || fail "the lobby did not report its certificate pin"

"$server_bin" --register "127.0.0.1:$port" --key-file key --lobby-ca lobby-cert.pem --bind 127.0.0.1 \
    --game-port 0 --duration 50 --stats a.jsonl 2>a.log &
a_pid=$!
"$server_bin" --register "127.0.0.1:$port" --key-file key --lobby-ca lobby-cert.pem --bind 127.0.0.1 \
    --game-port 0 --duration 50 --stats b.jsonl 2>b.log &
b_pid=$!
a_port=$(wait_sed 's/.*game on UDP port \([0-9]*\).*/\1/p' a.log)
b_port=$(wait_sed 's/.*game on UDP port \([0-9]*\).*/\1/p' b.log)
[ -n "$a_port" ] && [ -n "$b_port" ] || fail "a game server did not report its port"
[ -n "$(wait_sed '/registered with the lobby/p' a.log)" ] || fail "game server A did not register"
[ -n "$(wait_sed '/registered with the lobby/p' b.log)" ] || fail "game server B did not register"

timeout 50 "$game_bin" --headless --connect "127.0.0.1:$port" --pin "$pin" --bots 4 --duration 28 \
    --stats bots.jsonl 2>bots.log &
bots_pid=$!

# Every bot playing, on either server.
i=0
while [ $i -lt 150 ] && ! tail -n 1 bots.jsonl 2>/dev/null | grep -q '"connected": 4,'; do
    sleep 0.1
    i=$((i + 1))
done
tail -n 1 bots.jsonl | grep -q '"connected": 4,' || fail "the bots did not all reach a game"
on_a=$(bots_now | grep -c "\"game_port\": $a_port}")
on_b=$(bots_now | grep -c "\"game_port\": $b_port}")
[ "$on_a" -ge 1 ] && [ "$on_b" -ge 1 ] || fail "matches not spread: $on_a on A, $on_b on B"
[ $((on_a + on_b)) -eq 4 ] || fail "a bot plays on neither game server"
victims=$(bots_now | grep "\"game_port\": $a_port}" | field name)
survivors=$(bots_now | grep "\"game_port\": $b_port}" | field name)

# Let both arenas run a moment and write a stats line, then kill A.
sleep 2
assigned_a=$(last_value matches_assigned a.jsonl)
[ "${assigned_a:-0}" -eq "$on_a" ] || fail "game server A counts ${assigned_a:-0} matches, bots say $on_a"
kill -KILL "$a_pid"
wait "$a_pid" 2>/dev/null
a_pid=""

wait "$bots_pid"
rc=$?
bots_pid=""
[ $rc -eq 0 ] || fail "the bot swarm exited with $rc (a bot is not playing at the end)"

# A's players: lost the game, back in the room, playing on B now.
for name in $victims; do
    entry=$(bots_now | grep "\"name\": \"$name\"")
    [ "$(echo "$entry" | field state)" = playing ] || fail "$name is not playing again"
    # The lobby ends A's matches at once; a bot may also see its game connection time out first.
    [ "$(echo "$entry" | field game_lost)" -le 1 ] || fail "$name lost its game more than once"
    [ "$(echo "$entry" | field returned_to_room)" -ge 1 ] || fail "$name was not returned to its room"
    grep -q "\[$name\]: back in the room: the game server was lost" bots.log ||
        fail "$name was not told that its game server was lost"
    [ "$(echo "$entry" | field matches)" = 2 ] || fail "$name did not start exactly one new match"
    [ "$(echo "$entry" | field game_port)" = "$b_port" ] || fail "$name's new match is not on game server B"
done
# B's players: one match throughout, never disconnected once playing.
for name in $survivors; do
    entry=$(bots_now | grep "\"name\": \"$name\"")
    [ "$(echo "$entry" | field matches)" = 1 ] || fail "$name on game server B changed matches"
    [ "$(echo "$entry" | field game_lost)" = 0 ] || fail "$name on game server B lost its game"
    [ "$(echo "$entry" | field returned_to_room)" = 0 ] || fail "$name on game server B was sent back to its room"
done
seen=0
bad=0
while read -r line; do
    if echo "$line" | grep -q '"connected": 4,'; then
        seen=1
    elif [ $seen -eq 1 ]; then
        for name in $survivors; do
            echo "$line" | grep -o '{"name": "[^}]*}' | grep "\"name\": \"$name\"" |
                grep -q '"connected": true' || bad=1
        done
    fi
done <bots.jsonl
[ $bad -eq 0 ] || fail "a player of game server B was disconnected at some point"
grep -o '"decode_errors": [0-9]*' bots.jsonl a.jsonl b.jsonl | grep -vq ': 0$' && fail "decode errors reported"

stop_within "$b_pid" 20 INT "game server B" || fail "game server B did not stop cleanly on Ctrl-C"
b_pid=""
stop_within "$lobby_pid" 20 INT netcore-lobby || fail "netcore-lobby did not stop cleanly on Ctrl-C"
lobby_pid=""
trap - EXIT

# B took its own matches and A's refugees, admitted every player with a
# token of this lobby and a valid address proof, and refused nothing.
assigned_b=$(last_value matches_assigned b.jsonl)
[ "${assigned_b:-0}" -eq $((on_b + on_a)) ] || fail "game server B counts ${assigned_b:-0} matches, expected $((on_b + on_a))"
[ "$(last_value admission_accepted b.jsonl)" -eq $((on_b + on_a)) ] || fail "game server B admissions"
for key in guard_proof_dropped token_auth_rejected token_mismatch_rejected token_policy_rejected \
    lobby_registration_failures lobby_connection_lost; do
    [ "$(last_value $key b.jsonl)" = 0 ] || fail "game server B: $key is not 0"
done
summary=$(cat lobby.json)
started=$(echo "$summary" | sed -n 's/.*"matches_started":\([0-9]*\).*/\1/p')
[ "${started:-0}" -eq $((4 + on_a)) ] || fail "the lobby started ${started:-0} matches, expected $((4 + on_a))"
echo "$summary" | grep -q '"registrations_rejected":0,' || fail "the lobby refused a registration"
lost=$(echo "$summary" | sed -n 's/.*"matches_ended_server_lost":\([0-9]*\).*/\1/p')
[ "${lost:-0}" -eq "$on_a" ] || fail "the lobby ended ${lost:-0} matches for the lost server, expected $on_a"
echo "PASS: $on_a matches on A and $on_b on B; A killed, its players back in their rooms and playing on B"
