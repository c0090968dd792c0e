#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every test program of a build under valgrind's memcheck; fails on
# any error or definite/indirect leak. A program that exits 77 skipped every
# case (tests/test.h): counted as skipped, not failed (memcheck's own
# errors exit 9, so a 77 means it found none). Any other non-zero exit
# fails. Usage: scripts/valgrind.sh BUILD_DIR
set -eu
build=${1:-build}
export CALX_TEST_TMP="$(cd "$build" && pwd)/testtmp"
failed=0
passed=0
skipped=0
# run NAME PROGRAM: one program under memcheck, its log in BUILD/NAME.valgrind.log.
run() {
    rc=0
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=9 "$2" >"$build/$1.valgrind.log" 2>&1 || rc=$?
    case $rc in
    0)
        passed=$((passed + 1))
        echo "valgrind: $1 clean" ;;
    77)
        skipped=$((skipped + 1))
        echo "valgrind: $1 skipped (every case skipped)" ;;
    *)
        failed=$((failed + 1))
        echo "valgrind: $1 FAILED (exit $rc)"
        tail -40 "$build/$1.valgrind.log" ;;
    esac
}
for t in "$build"/test_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    case "$t" in *.log) continue ;; esac
    run "$(basename "$t")" "$t"
done
# The backend-agnostic programs once more on PostgreSQL, when a server is
# up (make valgrind starts one).
if [ -n "${CALX_TEST_PG_URL:-}" ] && [ -f "$build/backend_tests.txt" ]; then
    CALX_TEST_URL=$CALX_TEST_PG_URL
    export CALX_TEST_URL
    while read -r name; do
        [ -n "$name" ] && [ -x "$build/$name" ] || continue
        run "${name}_pg" "$build/$name"
    done <"$build/backend_tests.txt"
fi
echo "valgrind: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
