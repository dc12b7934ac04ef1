#!/bin/sh
# A LAN in network namespaces: the server in one namespace, two headless bot
# clients in two others, each linked to the server by its own veth pair
# (private test addresses that exist only inside the namespaces), with
# nftables dropping 5% of the packets each way on the client ends. Asserts
# that both clients connected, played (snapshots, scores) and saw no decode
# error. Needs root, ip and nft; otherwise skipped (exit 77).
# Usage: lan_netns.sh DEMO_SERVER DEMO_GAME WORKDIR
set -u
. "$(dirname "$0")/stop.sh"
server_bin=$1
game_bin=$2
work=$3

skip() {
    echo "SKIP: $*"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "needs the ip tool (iproute2)"
command -v nft >/dev/null 2>&1 || skip "needs nft (nftables)"

tag="dg$$"
ns_srv="${tag}s"
ns_a="${tag}a"
ns_b="${tag}b"
pids=""

cleanup() {
    for p in $pids; do
        stop_within "$p" 10 TERM "a test process"
    done
    # Deleting a namespace removes its veth ends and nft tables with it.
    for ns in "$ns_srv" "$ns_a" "$ns_b"; do
        ip netns del "$ns" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$ns_srv" 2>/dev/null || skip "cannot create network namespaces here"
mkdir -p "$work"
rm -f "$work"/lan-*

fail() {
    echo "FAIL: $*"
    for f in "$work"/lan-*.log; do
        echo "--- $f"
        tail -n 15 "$f"
    done
    exit 1
}

in_ns() {
    ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# Client X gets 10.213.N.2, the server 10.213.N.1 on the other end.
link_client() {
    ns=$1
    n=$2
    ip netns add "$ns" || fail "cannot create namespace $ns"
    ip link add "${tag}c$n" netns "$ns" type veth peer name "${tag}s$n" netns "$ns_srv" || fail "veth $n"
    in_ns "$ns" ip link set lo up
    in_ns "$ns" ip addr add "10.213.$n.2/24" dev "${tag}c$n"
    in_ns "$ns" ip link set "${tag}c$n" up
    in_ns "$ns_srv" ip addr add "10.213.$n.1/24" dev "${tag}s$n"
    in_ns "$ns_srv" ip link set "${tag}s$n" up
    in_ns "$ns" nft -f - <<NFT || fail "nft in $ns"
table inet lossy {
    chain in { type filter hook input priority 0; numgen random mod 100 < 5 drop; }
    chain out { type filter hook output priority 0; oifname "${tag}c$n" numgen random mod 100 < 5 drop; }
}
NFT
}

in_ns "$ns_srv" ip link set lo up
link_client "$ns_a" 1
link_client "$ns_b" 2

timeout --foreground -k 5 60 ip netns exec "$ns_srv" "$server_bin" --duration 50 --stats "$work/lan-server.jsonl" \
    2>"$work/lan-server.log" &
server_pid=$!
pids="$pids $server_pid"
i=0
while [ $i -lt 100 ] && ! grep -q "lobby on TCP port" "$work/lan-server.log" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
grep -q "lobby on TCP port" "$work/lan-server.log" || fail "the server did not start"
# Its lobby speaks TLS; the clients pin the certificate the server printed.
pin=$(sed -n 's/.*certificate SHA-256 \([0-9A-F:]*\).*/\1/p' "$work/lan-server.log")
[ -n "$pin" ] || fail "the server did not report its certificate pin"

timeout --foreground 50 ip netns exec "$ns_a" "$game_bin" --headless --connect 10.213.1.1 --pin "$pin" --bots 1 --name alpha \
    --duration 25 --stats "$work/lan-a.jsonl" 2>"$work/lan-a.log" &
pid_a=$!
timeout --foreground 50 ip netns exec "$ns_b" "$game_bin" --headless --connect 10.213.2.1 --pin "$pin" --bots 1 --name beta \
    --duration 25 --stats "$work/lan-b.jsonl" 2>"$work/lan-b.log" &
pid_b=$!
pids="$pids $pid_a $pid_b"
wait "$pid_a"
rc_a=$?
wait "$pid_b"
rc_b=$?
stop_within "$server_pid" 20 INT demo-server || fail "demo-server did not stop cleanly on Ctrl-C"
[ $rc_a -eq 0 ] || fail "client alpha exited with $rc_a"
[ $rc_b -eq 0 ] || fail "client beta exited with $rc_b"

for c in a b; do
    f="$work/lan-$c.jsonl"
    last=$(tail -n 1 "$f")
    echo "$last" | grep -q '"connected": 1,' || fail "client $c not connected at the end"
    grep -o '"decode_errors": [0-9]*' "$f" | grep -vq ': 0$' && fail "client $c reports decode errors"
    snaps=$(echo "$last" | sed -n 's/.*"snapshots": \([0-9]*\).*/\1/p')
    [ "${snaps:-0}" -gt 300 ] || fail "client $c decoded only ${snaps:-0} snapshots"
done
max_clients=$(grep -o '"clients": [0-9]*' "$work/lan-server.jsonl" | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
[ "$max_clients" -eq 2 ] || fail "the server saw $max_clients clients at most, expected 2"
grep -o '"decode_errors": [0-9]*' "$work/lan-server.jsonl" | grep -vq ': 0$' && fail "the server reports decode errors"
shots=$(tail -n 1 "$work/lan-server.jsonl" | sed -n 's/.*"shots": \([0-9]*\).*/\1/p')
[ "${shots:-0}" -gt 0 ] || fail "nobody fired"
echo "PASS: 2 clients in 2 namespaces played over lossy veth links (server saw $max_clients, $shots shots)"
