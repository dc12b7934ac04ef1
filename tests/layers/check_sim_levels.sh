#!/usr/bin/env bash
# The simulated backend's files form a chain, not a circle: each file calls
# functions of, and includes headers of, only the files below it.
#   0 transport_sim_net    the simulated network, datagram output, events
#   1 transport_sim_lane   lanes: queues, acks, resends, fragments
#   2 transport_sim_recv   the receive path
#   3 transport_sim_conn   connections: handshake, dispatch, timers
#   4 transport_sim        the backend operations (header: transport_sim_internal.h)
# Calls are read from the object files (which file defines and which uses each
# symbol, with nm), includes from the sources. A transport_sim* file missing
# from the list above fails the check, so a new file has to be placed.
#
#   check_sim_levels.sh SRC_DIR OBJECT...   check the sources in SRC_DIR
#                                           (netcore/src/transport) and the
#                                           library's objects (others ignored)
#   check_sim_levels.sh --self-test CC      compile small files with CC and check
#                                           that an upward call or include fails
# Environment: NM, the nm to use (default: nm).
set -euo pipefail

nm_tool=${NM:-nm}

declare -A level=(
    [transport_sim_net]=0 [transport_sim_lane]=1 [transport_sim_recv]=2
    [transport_sim_conn]=3 [transport_sim]=4 [transport_sim_internal]=4
)

# transport_sim_conn.c.o, transport_sim_conn.o, transport_sim_conn.h -> transport_sim_conn
unit_of() {
    local name
    name=$(basename "$1")
    name=${name%.o}
    name=${name%.obj}
    echo "${name%.[ch]}"
}

level_of() { # unit -> level, or "unknown"
    echo "${level[$1]:-unknown}"
}

check_includes() { # src_dir -> prints violations
    local file unit lv inc target tlv
    for file in "$1"/transport_sim*.[ch]; do
        [[ -e $file ]] || continue
        unit=$(unit_of "$file")
        lv=$(level_of "$unit")
        if [[ $lv == unknown ]]; then
            echo "$file: a simulated-backend file with no level (add it to check_sim_levels.sh)"
            continue
        fi
        while IFS= read -r inc; do
            target=$(unit_of "$inc")
            tlv=$(level_of "$target")
            if [[ $tlv == unknown ]]; then
                echo "$file: includes $inc, which has no level"
            elif ((tlv > lv)); then
                echo "$file: level $lv includes $inc of level $tlv"
            fi
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(transport\/transport_sim[^"]*\)".*/\1/p' "$file")
    done
}

check_calls() { # src_dir object... -> prints violations
    local src_dir=$1 obj unit sym kind
    shift
    declare -A definer=() seen=()
    local -a uses=()
    for obj in "$@"; do
        unit=$(unit_of "$obj")
        [[ $unit == transport_sim* ]] || continue
        [[ -n ${level[$unit]:-} ]] || { echo "$obj: an object with no level"; continue; }
        seen[$unit]=1
        while read -r kind sym; do
            if [[ $kind == U ]]; then
                uses+=("$unit $sym")
            else
                definer[$sym]=$unit
            fi
        done < <("$nm_tool" -g "$obj" | awk 'NF == 3 { print $2, $3 } NF == 2 { print $1, $2 }')
    done
    # Every source must have been looked at, or a circle could hide in a file
    # the caller forgot to pass.
    local file
    for file in "$src_dir"/transport_sim*.c; do
        [[ -e $file ]] || continue
        unit=$(unit_of "$file")
        [[ -n ${seen[$unit]:-} ]] || echo "$file: no object file given for it"
    done
    local use user target
    for use in "${uses[@]+"${uses[@]}"}"; do
        user=${use%% *}
        sym=${use#* }
        target=${definer[$sym]:-}
        [[ -n $target && $target != "$user" ]] || continue
        if ((level[$target] >= level[$user])); then
            echo "$user (level ${level[$user]}) calls $sym of $target (level ${level[$target]})"
        fi
    done
}

check() { # src_dir object... -> status 1 on any violation
    local violations
    violations=$( (check_includes "$1"; check_calls "$@") | sed '/^$/d')
    if [[ -n $violations ]]; then
        echo "the simulated backend's files call or include upwards:"
        echo "$violations"
        return 1
    fi
    echo "simulated backend: $(ls "$1"/transport_sim*.c | wc -l) files call and include only downwards"
}

self_test() {
    local cc=$1 tmp status
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    mkdir -p "$tmp/src/transport"
    local src=$tmp/src/transport
    printf 'int nci_sim_low(void) { return 1; }\n' >"$src/transport_sim_net.c"
    printf 'int nci_sim_low(void);\nint nci_sim_mid(void) { return nci_sim_low(); }\n' \
        >"$src/transport_sim_lane.c"
    printf '#include "transport/transport_sim_lane.h"\n' >"$src/transport_sim_conn.h"
    local f
    for f in transport_sim_net transport_sim_lane; do
        "$cc" -c "$src/$f.c" -o "$tmp/$f.c.o"
    done
    check "$src" "$tmp/transport_sim_net.c.o" "$tmp/transport_sim_lane.c.o" >/dev/null ||
        { echo "self-test: a downward chain was refused"; return 1; }

    # The network calls up into the lanes: a circle.
    printf 'int nci_sim_mid(void);\nint nci_sim_low(void) { return nci_sim_mid() - 1; }\n' \
        >"$src/transport_sim_net.c"
    "$cc" -c "$src/transport_sim_net.c" -o "$tmp/transport_sim_net.c.o"
    set +e
    check "$src" "$tmp/transport_sim_net.c.o" "$tmp/transport_sim_lane.c.o" >/dev/null
    status=$?
    set -e
    ((status != 0)) || { echo "self-test: an upward call was accepted"; return 1; }
    printf 'int nci_sim_low(void) { return 1; }\n' >"$src/transport_sim_net.c"
    "$cc" -c "$src/transport_sim_net.c" -o "$tmp/transport_sim_net.c.o"

    # The lanes include the connections' header.
    printf '#include "transport/transport_sim_conn.h"\n' >"$src/transport_sim_lane.h"
    set +e
    check "$src" "$tmp/transport_sim_net.c.o" "$tmp/transport_sim_lane.c.o" >/dev/null
    status=$?
    set -e
    ((status != 0)) || { echo "self-test: an upward include was accepted"; return 1; }
    rm "$src/transport_sim_lane.h"

    # A source left out of the objects, and a file with no level.
    set +e
    check "$src" "$tmp/transport_sim_lane.c.o" >/dev/null
    status=$?
    set -e
    ((status != 0)) || { echo "self-test: a missing object was accepted"; return 1; }
    : >"$src/transport_sim_extra.c"
    set +e
    check "$src" "$tmp/transport_sim_net.c.o" "$tmp/transport_sim_lane.c.o" >/dev/null
    status=$?
    set -e
    ((status != 0)) || { echo "self-test: a file with no level was accepted"; return 1; }
    rm "$src/transport_sim_extra.c"

    check "$src" "$tmp/transport_sim_net.c.o" "$tmp/transport_sim_lane.c.o" >/dev/null ||
        { echo "self-test: the repaired chain was refused"; return 1; }
    echo "self-test: an upward call, an upward include, a missing object and an unplaced file" \
         "are refused, a downward chain accepted"
}

if [[ ${1:-} == --self-test ]]; then
    self_test "${2:-cc}"
else
    (($# >= 2)) || { echo "usage: $0 SRC_DIR OBJECT... | --self-test CC" >&2; exit 2; }
    # CMake's $<TARGET_OBJECTS:...> arrives as one ;-separated argument.
    src_dir=$1
    shift
    objects=()
    for arg in "$@"; do
        IFS=';' read -r -a parts <<<"$arg"
        objects+=("${parts[@]}")
    done
    check "$src_dir" "${objects[@]}"
fi
