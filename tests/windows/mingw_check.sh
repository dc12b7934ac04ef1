#!/usr/bin/env bash
# Windows compile check: cross-compiles every library and tool source for
# 64-bit Windows with mingw-w64, warnings as errors. Debian ships no Windows
# builds of ENet, libsodium, OpenSSL or hiredis, so nothing is linked: this
# proves the code compiles against their headers (ENet's carry win32.h) and
# Winsock, which is what a Windows toolchain needs to build netcore.
#
#   tests/windows/mingw_check.sh [ROOT]
# Exits 77 (skipped) when x86_64-w64-mingw32-gcc is not installed.
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cc=x86_64-w64-mingw32-gcc
if ! command -v "$cc" >/dev/null; then
    echo "SKIPPED: $cc not found (Debian package gcc-mingw-w64-x86-64)"
    exit 77
fi

# Third-party headers, copied apart so that no Linux system header is seen.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for h in enet sodium sodium.h openssl hiredis; do
    [[ -e /usr/include/$h ]] && cp -r "/usr/include/$h" "$stage/"
done
# OpenSSL's configuration header lives in the multiarch directory.
for conf in /usr/include/*-linux-gnu/openssl/*.h; do
    [[ -e $conf ]] && cp "$conf" "$stage/openssl/"
done

flags=(-std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
       -Werror -D_WIN32_WINNT=0x0600 -D__USE_MINGW_ANSI_STDIO=1 -I "$root/netcore/include" -I "$root/netcore/src" -I "$stage")

sources=()
while IFS= read -r f; do
    case $f in
    */platform/socket_posix.c | */platform/poller_epoll.c) ;; # the POSIX and Linux backends
    *) sources+=("$f") ;;
    esac
done < <(find "$root/netcore/src" "$root/netcore/tools" -name '*.c' | sort)

out=$(mktemp -d)
failed=0
for f in "${sources[@]}"; do
    if ! "$cc" "${flags[@]}" -c "$f" -o "$out/$(basename "$f").o" 2>"$out/err"; then
        echo "FAILED: ${f#"$root"/}"
        sed 's/^/    /' "$out/err" | head -n 20
        failed=$((failed + 1))
    fi
done
rm -rf "$out"
echo "${#sources[@]} sources compiled for Windows, $failed failed"
((failed == 0))
