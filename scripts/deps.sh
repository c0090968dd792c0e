#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages that calx needs, when they are missing. Run
# as root it installs them; run as another user it prints the exact
# apt-get command and fails, instead of failing later in the build with a
# missing header.
#   scripts/deps.sh build   what building the library and the demo needs
#   scripts/deps.sh test    that, and what the test suite runs: the
#                           PostgreSQL server and PgBouncer it starts,
#                           valgrind, clang and its sanitizer runtime,
#                           the HTTP example's libh2o and the python3
#                           its test client runs on, and the locale
#                           sources a test builds a Turkish locale from
#                           (the default)
#
# The lists below are the project's one list of system dependencies
# (bench/ keeps its own, scripts/bench-deps.sh). Unversioned names only,
# so that the next Debian release needs no edit.
set -eu

BUILD_PACKAGES="
gcc
make
cmake
pkg-config
libuv1-dev
libsqlite3-dev
libpq-dev
libjansson-dev
"
TEST_PACKAGES="
clang
libclang-rt-dev
postgresql
pgbouncer
valgrind
libh2o-dev
python3
locales
"

case "${1:-test}" in
build) PACKAGES=$BUILD_PACKAGES ;;
test) PACKAGES="$BUILD_PACKAGES $TEST_PACKAGES" ;;
*)
    echo "usage: scripts/deps.sh [build|test]" >&2
    exit 2
    ;;
esac

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0
# shellcheck disable=SC2086  # one word per package
exec sh "$(dirname "$0")/apt-install.sh" calx $missing
