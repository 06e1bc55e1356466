#!/bin/sh
# install-deps.sh — install the Debian 12 packages asynclab's build and tests need.
#
# Idempotent: asks dpkg which packages are already installed and installs only
# the missing ones. Works as root or through sudo. The Makefile runs it when a
# dependency is missing, so `make run` / `make test` set up a fresh machine.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report what is missing (exit 1 if anything is)
set -eu

# Build: compilers, pkg-config. Tests: Criterion (test framework), Jansson
# (parses the Perfetto export), the sanitizer runtimes come with gcc-12
# (libasan8, libubsan1, libtsan2).
# Fuzzing (make fuzz): clang's libFuzzer and sanitizer runtimes are in
# libclang-rt-14-dev, which clang only recommends.
# Later layers: Lua 5.4 (REPL), readline (line editing), SDL2 + SDL2_ttf + the
# DejaVu fonts (visualizer), libpng (its screenshots).
PACKAGES="
  build-essential
  clang
  libclang-rt-14-dev
  pkg-config
  libcriterion-dev
  libjansson-dev
  liblua5.4-dev
  lua5.4
  libreadline-dev
  libsdl2-dev
  libsdl2-ttf-dev
  libpng-dev
  fonts-dejavu-core
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

if [ "${1:-}" = "--check" ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root or sudo to install:$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only if they are missing or stale (older than a day).
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mtime -1 2>/dev/null | head -n 1)" ]; then
    $SUDO apt-get update -q
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
