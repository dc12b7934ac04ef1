#!/bin/sh
# LAN discovery by broadcast, for real, between two network namespaces
# joined by a veth pair (test addresses that exist only inside them). A
# netcore-lobby with --discovery must answer probes sent to the subnet
# broadcast, to 255.255.255.255 and to its own address, both on the default
# bind and with --bind naming its LAN address; one bound elsewhere (127.0.0.1)
# must not answer broadcasts on the LAN. Needs root and ip; otherwise
# skipped (exit 77) with the reason printed.
# Usage: test_lobby_discovery_netns.sh NETCORE_LOBBY WORKDIR
set -u
. "$(dirname "$0")/../../demo-game/tests/stop.sh"
lobby_bin=$1
work=$2

skip() {
    echo "SKIP: $*"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "needs the ip tool (iproute2)"

tag="nd$$"
ns_srv="${tag}s"
ns_cli="${tag}c"
pid=""
cleanup() {
    [ -n "$pid" ] && stop_within "$pid" 10 TERM netcore-lobby >/dev/null
    ip netns del "$ns_srv" 2>/dev/null
    ip netns del "$ns_cli" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$ns_srv" 2>/dev/null || skip "cannot create network namespaces here"
ip netns add "$ns_cli" || skip "cannot create a second network namespace"
mkdir -p "$work"
rm -f "$work"/disc-*

fail() {
    echo "FAIL: $*"
    for f in "$work"/disc-*; do
        echo "--- $f"
        tail -n 15 "$f"
    done
    exit 1
}

ip link add "${tag}c" netns "$ns_cli" type veth peer name "${tag}s" netns "$ns_srv" || skip "cannot create a veth pair"
for ns in "$ns_srv" "$ns_cli"; do
    ip netns exec "$ns" ip link set lo up
done
ip netns exec "$ns_srv" ip addr add 10.214.0.1/24 broadcast 10.214.0.255 dev "${tag}s"
ip netns exec "$ns_cli" ip addr add 10.214.0.2/24 broadcast 10.214.0.255 dev "${tag}c"
ip netns exec "$ns_srv" ip link set "${tag}s" up
ip netns exec "$ns_cli" ip link set "${tag}c" up
# 255.255.255.255 leaves by the default route.
ip netns exec "$ns_cli" ip route add default dev "${tag}c"

key=0101010101010101010101010101010101010101010101010101010101010101

# start_lobby LABEL [--bind ADDR]: a lobby with discovery on UDP 47777.
start_lobby() {
    label=$1
    shift
    timeout --foreground -k 5 60 ip netns exec "$ns_srv" "$lobby_bin" --game-address 10.214.0.1:7778 \
        --key-hex $key --port 47778 --discovery --discovery-port 47777 --name "disc $label" "$@" \
        2>"$work/disc-lobby-$label.log" &
    pid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q "answering discovery" "$work/disc-lobby-$label.log" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "answering discovery" "$work/disc-lobby-$label.log" || fail "the lobby ($label) did not start"
}

stop_lobby() {
    stop_within "$pid" 10 TERM netcore-lobby >/dev/null || fail "netcore-lobby did not stop"
    pid=""
}

# probe LABEL TARGET: one probe run from the client namespace.
probe() {
    timeout --foreground 20 ip netns exec "$ns_cli" "$lobby_bin" --probe "$2:47777" --seconds 1.5 \
        >"$work/disc-probe-$1-$2.out" 2>&1
}

for mode in default bound; do
    if [ $mode = bound ]; then
        start_lobby $mode --bind 10.214.0.1
    else
        start_lobby $mode
    fi
    for target in 10.214.0.255 255.255.255.255 10.214.0.1; do
        probe $mode $target || fail "no answer to a probe for $target ($mode bind)"
        grep -q '"lobby":"10.214.0.1:47778"' "$work/disc-probe-$mode-$target.out" ||
            fail "the answer to $target ($mode bind) does not name 10.214.0.1:47778"
        echo "ok: $mode bind answers a probe sent to $target"
    done
    stop_lobby
done

# A lobby bound to its loopback address is not on the LAN: broadcasts there go unanswered.
start_lobby loopback --bind 127.0.0.1
probe loopback 10.214.0.255 && fail "a lobby bound to 127.0.0.1 answered a LAN broadcast"
echo "ok: a lobby bound to 127.0.0.1 stays silent on the LAN"
stop_lobby
echo "PASS: discovery by broadcast works on the default bind and with --bind"
