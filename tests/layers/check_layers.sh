#!/usr/bin/env bash
# Includes point downwards only: a file of netcore/src/<layer>/ or a public
# header may include headers of its own layer or of a lower one, never of a
# higher one. The layers, lowest first:
#   core < platform < transport < replication < netcode < lobby
# Public headers (netcore/include/netcore/*.h) each belong to one layer, listed
# below; a new public header must be added to the list or the check fails.
# Only platform/ meets the operating system's sockets: no other library file,
# public header or tool includes a system socket or poller header. No library
# file is longer than max_lines.
#
#   check_layers.sh [ROOT]     check the tree at ROOT (default: this repository)
#   check_layers.sh --self-test
#                              check that a tree with an upward include, or
#                              a socket header outside platform/, fails
set -euo pipefail

layers=(core platform transport replication netcode lobby)
max_lines=800

declare -A public_layer=(
    [netcore.h]=core
    [address.h]=platform
    [transport.h]=transport [token.h]=transport [admission.h]=transport
    [bitpack.h]=replication [schema.h]=replication [snapshot.h]=replication
    [timesync.h]=netcode [interp.h]=netcode [input.h]=netcode [predict.h]=netcode
    [lagcomp.h]=netcode [session.h]=netcode
    [lobby.h]=lobby
)

# System headers of sockets, interfaces and pollers (POSIX, Linux, Winsock).
os_net_headers='sys/socket\.h|sys/select\.h|sys/epoll\.h|poll\.h|netinet/[^>]*|arpa/[^>]*|netdb\.h|net/if\.h|ifaddrs\.h|winsock2\.h|ws2tcpip\.h|mswsock\.h|iphlpapi\.h'

os_net_includes() { # file -> prints each system socket header it includes
    { grep -E "^[[:space:]]*#[[:space:]]*include[[:space:]]*<(${os_net_headers})>" "$1" || true; } |
        sed -E 's%.*<([^>]*)>.*%\1%'
}

check_os_net() { # root -> prints violations
    local root=$1 file inc
    while IFS= read -r file; do
        case $file in "$root/netcore/src/platform/"*) continue ;; esac
        while IFS= read -r inc; do
            echo "$file: includes <$inc>; only netcore/src/platform/ touches the system's sockets"
        done < <(os_net_includes "$file")
    done < <(find "$root/netcore/src" "$root/netcore/include" "$root/netcore/tools" \
                  -name '*.[ch]' 2>/dev/null | sort)
}

rank_of() {
    local i
    for i in "${!layers[@]}"; do
        [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }
    done
    echo -1
}

# Layer of an included path ("transport/x.h", "netcore/lobby.h"), or nothing
# for includes outside the library (system and third-party headers).
layer_of_include() {
    local inc=$1
    case $inc in
    netcore/*)
        local name=${inc#netcore/}
        echo "${public_layer[$name]:-unknown-public:$name}"
        ;;
    */*) echo "${inc%%/*}" ;;
    *) echo "bare:$inc" ;;
    esac
}

check_file() { # file layer -> prints violations
    local file=$1 layer=$2 rank inc target trank
    rank=$(rank_of "$layer")
    while IFS= read -r inc; do
        target=$(layer_of_include "$inc")
        case $target in
        unknown-public:*) echo "$file: includes $inc, a public header with no layer (add it to check_layers.sh)"; continue ;;
        bare:*) echo "$file: includes \"${target#bare:}\" without its layer folder"; continue ;;
        esac
        trank=$(rank_of "$target")
        if ((trank < 0)); then
            echo "$file: includes $inc from an unknown layer '$target'"
        elif ((trank > rank)); then
            echo "$file: layer $layer includes $inc of the higher layer $target"
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
}

check_tree() { # root -> exit status 1 on any violation
    local root=$1 violations="" file layer name
    for layer in "${layers[@]}"; do
        [[ -d $root/netcore/src/$layer ]] || continue
        for file in "$root/netcore/src/$layer"/*.[ch]; do
            [[ -e $file ]] || continue
            violations+=$(check_file "$file" "$layer")$'\n'
        done
    done
    for file in "$root/netcore/include/netcore"/*.h; do
        name=$(basename "$file")
        layer=${public_layer[$name]:-}
        if [[ -z $layer ]]; then
            violations+="$file: public header with no layer (add it to check_layers.sh)"$'\n'
            continue
        fi
        violations+=$(check_file "$file" "$layer")$'\n'
    done
    for file in "$root/netcore/src"/*.[ch]; do
        [[ -e $file ]] && violations+="$file: library source outside a layer folder"$'\n'
    done
    violations+=$(check_os_net "$root")$'\n'
    while IFS= read -r file; do
        if (($(wc -l <"$file") > max_lines)); then
            violations+="$file: over $max_lines lines; split it by concern"$'\n'
        fi
    done < <(find "$root/netcore/src" -name '*.[ch]' | sort)
    violations=$(sed '/^$/d' <<<"$violations")
    if [[ -n $violations ]]; then
        echo "upward, unplaced or system socket includes, or files too long:"
        echo "$violations"
        return 1
    fi
    echo "includes point downwards in $(find "$root/netcore/src" -name '*.[ch]' | wc -l) library files;" \
         "system socket headers only in platform/; none over $max_lines lines"
}

self_test() {
    local tmp status
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    mkdir -p "$tmp/netcore/src/transport" "$tmp/netcore/src/lobby" "$tmp/netcore/src/platform" \
             "$tmp/netcore/include/netcore" "$tmp/netcore/tools"
    printf '#include "netcore/netcore.h"\n' >"$tmp/netcore/include/netcore/transport.h"
    printf '#include "transport/x.h"\n#include "netcore/transport.h"\n' >"$tmp/netcore/src/lobby/ok.c"
    printf '#include <sys/socket.h>\n#include <winsock2.h>\n' >"$tmp/netcore/src/platform/ok.c"
    check_tree "$tmp" >/dev/null || { echo "self-test: a clean tree was refused"; return 1; }
    # refused FILE WHAT: the tree with FILE (just written) must fail the check.
    refused() {
        local status
        set +e
        check_tree "$tmp" >/dev/null
        status=$?
        set -e
        rm "$1"
        ((status != 0)) || { echo "self-test: $2 was accepted"; return 1; }
    }
    printf '#include "lobby/lobby_internal.h"\n' >"$tmp/netcore/src/transport/bad.c"
    refused "$tmp/netcore/src/transport/bad.c" "an upward include" || return 1
    local header
    for header in sys/socket.h netinet/in.h arpa/inet.h netdb.h sys/epoll.h poll.h winsock2.h \
                  ws2tcpip.h; do
        for place in netcore/src/lobby netcore/tools; do
            printf '#include <stdio.h>\n#  include <%s>\n' "$header" >"$tmp/$place/bad.c"
            refused "$tmp/$place/bad.c" "<$header> in $place" || return 1
        done
    done
    seq $((max_lines + 1)) | sed 's%.*%/* line */%' >"$tmp/netcore/src/lobby/long.c"
    refused "$tmp/netcore/src/lobby/long.c" "a file over $max_lines lines" || return 1
    check_tree "$tmp" >/dev/null || { echo "self-test: the cleaned tree was refused"; return 1; }
    echo "self-test: an upward include, a socket header outside platform/ and a file over" \
         "$max_lines lines are refused, a clean tree accepted"
}

if [[ ${1:-} == --self-test ]]; then
    self_test
else
    check_tree "${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
fi
