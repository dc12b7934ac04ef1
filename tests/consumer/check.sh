#!/usr/bin/env bash
# Installs a netcore build tree into a temporary prefix, then builds the
# consumer game (game/) against the installed files the ways a user would --
# pkg-config (shared and static), find_package with netcore::netcore (shared)
# and with netcore::static -- and runs each binary. It also builds the world
# example (examples/world, the session layer) against the installed package,
# headless, and runs it.
#
# usage: check.sh CMAKE BUILD_DIR WORK_DIR C_COMPILER BUILD_TYPE C_FLAGS LINK_FLAGS
# C_FLAGS and LINK_FLAGS are the main build's (sanitizers included), so the
# consumer links against an instrumented library.
set -euo pipefail

cmake_bin=$1 build_dir=$2 work=$3 cc=$4 build_type=$5
read -r -a cflags <<<"$6"
read -r -a ldflags <<<"$7"
game_src=$(cd "$(dirname "$0")/game" && pwd)
world_src=$(cd "$(dirname "$0")/../../examples/world" && pwd)
prefix=$work/prefix

step() { printf '\n== %s\n' "$*"; }

rm -rf "$work"
mkdir -p "$work"

step "install $build_dir into $prefix"
"$cmake_bin" --install "$build_dir" --prefix "$prefix"

pc_file=$(find "$prefix" -name netcore.pc -path '*/pkgconfig/*' | head -n 1)
[[ -n $pc_file ]] || { echo "netcore.pc was not installed" >&2; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc_file")
export PKG_CONFIG_PATH

step "pkg-config build"
libdir=$(pkg-config --variable=libdir netcore)
read -r -a pc_flags <<<"$(pkg-config --cflags --libs netcore)"
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "${cflags[@]}" "$game_src/main.c" \
    -o "$work/consumer-pkg-config" "${pc_flags[@]}" "${ldflags[@]}" "-Wl,-rpath,$libdir"

step "pkg-config build, static library"
# As the README shows: the static archive plus everything --static lists for it.
read -r -a pc_cflags <<<"$(pkg-config --cflags netcore)"
read -r -a pc_static <<<"$(pkg-config --static --libs netcore | sed 's/-lnetcore /-l:libnetcore.a /')"
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "${cflags[@]}" "$game_src/main.c" \
    -o "$work/consumer-pkg-config-static" "${pc_cflags[@]}" "${pc_static[@]}" "${ldflags[@]}"

cmake_build() { # name, extra cmake arguments...
    local name=$1
    shift
    step "find_package build ($name)"
    "$cmake_bin" -S "$game_src" -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_C_FLAGS="${cflags[*]} -Werror" \
        -DCMAKE_EXE_LINKER_FLAGS="${ldflags[*]}" "$@"
    "$cmake_bin" --build "$work/$name"
}
cmake_build cmake-shared
cmake_build cmake-static -DNETCORE_CONSUMER_STATIC=ON

# netcore::netcore must be the shared library, netcore::static must not need it.
needs_shared() { readelf -d "$1" | grep -q 'NEEDED.*libnetcore\.so'; }
needs_shared "$work/consumer-pkg-config" || { echo "pkg-config build is not dynamic" >&2; exit 1; }
needs_shared "$work/cmake-shared/consumer" || { echo "netcore::netcore is not shared" >&2; exit 1; }
for binary in "$work/cmake-static/consumer" "$work/consumer-pkg-config-static"; do
    if needs_shared "$binary"; then
        echo "$binary, linked statically, needs libnetcore.so" >&2
        exit 1
    fi
done

for binary in "$work/consumer-pkg-config" "$work/consumer-pkg-config-static" \
    "$work/cmake-shared/consumer" "$work/cmake-static/consumer"; do
    step "run $binary"
    "$binary" </dev/null
done
step "world example against the installed package (pkg-config, headless)"
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "${cflags[@]}" "$world_src/world.c" \
    -o "$work/world" "${pc_flags[@]}" -lm "${ldflags[@]}" "-Wl,-rpath,$libdir"
needs_shared "$work/world" || { echo "world is not linked against libnetcore.so" >&2; exit 1; }
"$work/world" --headless --clients 2 --seconds 3 </dev/null

step "all consumer builds ran"
