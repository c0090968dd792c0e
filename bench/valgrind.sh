#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the C benchmark programs once under valgrind memcheck at BENCH_QUICK=1
# size, every case, against a throwaway PostgreSQL server: any memory error
# or leak (definite, indirect, possible) fails. Not part of `make bench`
# (valgrind is ~50x slower); run it after changing a C program.
#
#   bench/valgrind.sh [BUILD_DIR]      (default build-bench; make bench builds it)
#
# libpq's connect probes GSSAPI credentials, and libkrb5 keeps ~150 bytes
# "still reachable" for the life of the process: not a leak, not ours, so
# reachable blocks are not counted.
set -eu
cd "$(dirname "$0")/.."
BIN=${1:-build-bench}/bench
command -v valgrind >/dev/null 2>&1 || { echo "bench: valgrind is missing (sh scripts/deps.sh)" >&2; exit 1; }
for p in raw_sqlite raw_libpq; do
    [ -x "$BIN/$p" ] || { echo "bench: $BIN/$p is missing: build with 'make bench'" >&2; exit 1; }
done
if [ -x scripts/pg-test-server.sh ]; then PGSERVER=scripts/pg-test-server.sh; else PGSERVER=bench/pg-server.sh; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/calx-bench-vg.XXXXXX")
chmod 755 "$WORK"
trap '"$PGSERVER" stop "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
"$PGSERVER" start "$WORK/pg" >/dev/null
set -a
. "$WORK/pg/env"
set +a
export BENCH_QUICK=1 BENCH_DIR="$WORK"

VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=9"
fail=0
check() {
    echo "valgrind: $*" >&2
    rc=0
    $VG "$@" >/dev/null || rc=$?
    if [ $rc -eq 77 ]; then
        echo "valgrind: skipped (not implemented yet): $*" >&2
    elif [ $rc -ne 0 ]; then
        echo "valgrind: FAILED (exit $rc): $*" >&2
        fail=1
    fi
}
for c in B1 B2 B3 B4 B6; do check "$BIN/raw_sqlite" --case $c; done
check "$BIN/raw_sqlite" --case B1 --journal wal
for c in B1 B2 B3 B4 B5 B6; do check "$BIN/raw_libpq" --case $c; done
if [ -x "$BIN/calx_bench" ]; then
    for c in B1 B2 B3 B4 B6; do check "$BIN/calx_bench" --backend sqlite --case $c; done
    for c in B1 B2 B3 B4 B5 B6; do check "$BIN/calx_bench" --backend postgresql --case $c; done
fi
[ $fail -eq 0 ] && echo "valgrind: bench programs clean" >&2
exit $fail
