#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages that `make bench` needs, when they are
# missing. Kept apart from scripts/deps.sh so that `make test` never needs
# PostgreSQL, libpq or the Python peers. Run as root it installs them; run
# as another user it prints the exact apt-get command and fails.
#
# The benchmark's Python peers run on Debian's own interpreter
# (/usr/bin/python3) and Debian's packages of them, never on pip. The
# MikroORM peer (bench/mikroorm) runs on Node.js: Debian's nodejs and npm
# when the machine has no node of its own, and MikroORM itself from the npm
# registry, pinned by bench/mikroorm/package-lock.json and installed with
# `npm ci` into bench/mikroorm/node_modules (never globally); that step runs
# as whoever calls this script, root or not.
set -eu

cd "$(dirname "$0")/.."

PACKAGES="
gcc
g++
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
valgrind
"
# valgrind: its callgrind.h marks each case's timed part (bench_common.c),
# and bench/profile.sh counts the part's instructions under it.

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
# Node.js and npm by command, not by package: a machine may have its own
# node (NodeSource's nodejs package brings npm inside it, and Debian's npm
# package would conflict with it).
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

# shellcheck disable=SC2086  # one word per package
sh scripts/apt-install.sh "calx bench" $missing

# MikroORM 6 wants Node.js 18.12 or later (Debian 12's is 18.20).
NODE_MAJOR_MINOR=$(node -p 'process.versions.node.split(".").slice(0, 2).join(" ")')
set -- $NODE_MAJOR_MINOR
if [ "$1" -lt 18 ] || { [ "$1" -eq 18 ] && [ "$2" -lt 12 ]; }; then
    echo "calx bench: node $(node --version) is too old for MikroORM 6 (18.12 or later)" >&2
    exit 1
fi

# The MikroORM peer's packages, exactly as the lock file pins them. `npm ci`
# starts from an empty node_modules (and compiles better-sqlite3 when no
# prebuilt binary fits: a minute or two), so it runs only when the lock file
# changed since the last install or the install is not whole.
MIKRO=bench/mikroorm
STAMP=$MIKRO/node_modules/.calx-installed-lock
if ! cmp -s "$MIKRO/package-lock.json" "$STAMP" 2>/dev/null ||
   ! (cd "$MIKRO" && node -e 'require("@mikro-orm/postgresql"); require("@mikro-orm/better-sqlite"); new (require("better-sqlite3"))(":memory:").close()') >/dev/null 2>&1; then
    echo "calx bench: installing MikroORM into $MIKRO/node_modules (npm ci)" >&2
    if ! (cd "$MIKRO" && npm ci --no-audit --no-fund --loglevel=error >&2); then
        echo "calx bench: npm ci failed in $MIKRO (above); the npm registry must be reachable," >&2
        echo "calx bench: and g++, make and python3 there to build better-sqlite3; then run: sh scripts/bench-deps.sh" >&2
        exit 1
    fi
    if ! (cd "$MIKRO" && node -e 'new (require("better-sqlite3"))(":memory:").close()'); then
        echo "calx bench: better-sqlite3 was installed but does not load (above); remove $MIKRO/node_modules and run sh scripts/bench-deps.sh" >&2
        exit 1
    fi
    cp "$MIKRO/package-lock.json" "$STAMP"
fi
