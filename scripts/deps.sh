#!/bin/sh
# Installs the Debian packages that calx's build, demo and tests need, when
# they are missing. Run as root it installs them; run as another user it
# prints the exact apt-get command and fails, instead of failing later in
# the build with a missing header.
#
# The list below is the project's one list of system dependencies.
set -eu

PACKAGES="
gcc
clang
libclang-rt-14-dev
make
cmake
pkg-config
libuv1-dev
libsqlite3-dev
libpq-dev
postgresql
pgbouncer
valgrind
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "calx: missing Debian packages:$missing" >&2
    echo "calx: install them as root with:" >&2
    echo "    apt-get update && apt-get install -y$missing" >&2
    exit 1
fi

echo "calx: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once when needed.
if ! apt-get install -y -qq $missing >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq $missing
fi
