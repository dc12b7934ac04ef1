#!/usr/bin/env bash
# Set up and run the demo on Debian or Ubuntu, from a fresh clone:
#   1. installs the packages it needs (tests/install-deps.sh: apt-get, sudo
#      when not root),
#   2. builds the demo in Release in build-demo/,
#   3. with a display: opens the game's lobby menu (arguments go to demo-game,
#      e.g. --connect 192.168.1.20 or --host);
#      without one: runs a dedicated server and a swarm of headless bot
#      clients on this machine for NETCORE_DEMO_SECONDS (default 60) and
#      prints what they saw.
#
# Environment: NETCORE_DEMO_BUILD_DIR (default build-demo in the repository),
# NETCORE_DEMO_SECONDS, NETCORE_DEMO_BOTS (headless bot clients, default 4),
# NETCORE_DEMO_HEADLESS=1 to run the headless show even with a display.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${NETCORE_DEMO_BUILD_DIR:-$root/build-demo}
seconds=${NETCORE_DEMO_SECONDS:-60}
bots=${NETCORE_DEMO_BOTS:-4}

"$root/tests/install-deps.sh"

echo "== building the demo in $build_dir"
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DNETCORE_BUILD_TESTS=OFF -DNETCORE_BUILD_DEMO=ON >/dev/null
cmake --build "$build_dir" --parallel "$(nproc 2>/dev/null || echo 2)" \
    --target demo-server demo-game >/dev/null
bin=$build_dir/demo-game

if [[ ${NETCORE_DEMO_HEADLESS:-0} != 1 && ( -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} ) ]]; then
    echo "== starting the game: type a name, then Host, or join a lobby from the list"
    exec "$bin/demo-game" "$@"
fi

# No display: a dedicated server with two server bots, and headless bot
# clients that go through the lobby, get connect tokens and play.
work=$(mktemp -d)
trap 'kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
echo "== no display: demo-server and $bots headless bot clients for $seconds s"
"$bin/demo-server" --lobby-port 0 --game-port 0 --bots 2 --duration $((seconds + 15)) \
    --stats "$work/server.jsonl" 2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/.*lobby on TCP port \([0-9]*\).*/\1/p' "$work/server.log")
    [[ -n $port ]] && break
    sleep 0.1
done
if [[ -z $port ]]; then
    echo "demo-server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi
# The lobby speaks TLS with the host's self-signed certificate: the bots pin
# it, as a player joining with --connect would.
pin=$(sed -n 's/.*certificate SHA-256 \([0-9A-F:]*\).*/\1/p' "$work/server.log")
"$bin/demo-game" --headless --connect "127.0.0.1:$port" --pin "$pin" --bots "$bots" --duration "$seconds" \
    --stats "$work/bots.jsonl" 2>"$work/bots.log"
kill -INT "$server_pid"
wait "$server_pid" || true

# The first "key": number of a JSON line (top-level keys come before per-bot ones).
field() { grep -o "\"$1\": *[0-9.]*" | head -n 1 | sed 's/.*: *//'; }
echo "== after $seconds s"
echo "bot clients connected:  $(tail -n 1 "$work/bots.jsonl" | field connected) of $bots"
echo "server clients:         $(tail -n 1 "$work/server.jsonl" | field clients)"
echo "server out kbps:        $(tail -n 1 "$work/server.jsonl" | field out_kbps)"
echo "server tick ms p99:     $(tail -n 1 "$work/server.jsonl" | field tick_ms_p99)"
echo "kills:                  $(tail -n 1 "$work/server.jsonl" | field kills)"
echo "decode errors (bots):   $(tail -n 1 "$work/bots.jsonl" | field decode_errors)"
echo "Run it with a display (or over ssh -X) to play; demo-game/README.md explains LAN play."
