#!/usr/bin/env bash
# Installs with apt-get (through sudo when not root) the Debian packages that
# netcore's build, tests and demo need, when any of them is missing; does
# nothing when all are installed or when this is not a Debian-like system.
# Used by tests/run.sh and demo-game/run.sh so that each works on a fresh
# machine; .ci/run calls it too.
set -euo pipefail

packages=(build-essential cmake pkg-config clang
          libenet-dev libsdl2-dev libsdl2-ttf-dev libcriterion-dev libsodium-dev
          libssl-dev openssl libhiredis-dev redis-server doxygen gcc-mingw-w64-x86-64
          nftables iproute2 xvfb fonts-dejavu-core python3)

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || exit 0
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} > 0)) || exit 0

echo "== installing ${missing[*]}"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo --preserve-env=DEBIAN_FRONTEND)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
