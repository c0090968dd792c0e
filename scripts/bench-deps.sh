#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages that `make bench` needs, when they are
# missing. Kept apart from scripts/deps.sh so that `make test` never needs
# PostgreSQL, libpq or the Python peers. Run as root it installs them; run
# as another user it prints the exact apt-get command and fails.
#
# The benchmark's Python peers run on Debian's own interpreter
# (/usr/bin/python3) and Debian's packages of them, never on pip.
set -eu

PACKAGES="
gcc
make
cmake
pkg-config
libuv1-dev
libsqlite3-dev
libpq-dev
postgresql
python3
python3-sqlalchemy
python3-greenlet
python3-sqlmodel
python3-aiosqlite
python3-asyncpg
gnuplot-nox
wrk
libh2o-dev
libjansson-dev
python3-fastapi
python3-uvicorn
python3-psycopg2
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "calx bench: missing Debian packages:$missing" >&2
    echo "calx bench: install them as root with:" >&2
    echo "    apt-get update && apt-get install -y$missing" >&2
    exit 1
fi

echo "calx bench: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once when needed.
if ! apt-get install -y -qq $missing >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq $missing
fi
