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
# The HTTP example (examples/hero_api), when it was built: memcheck on the
# service for a short run of its tests (tests/hero_api_test.py --quick
# starts it under HERO_API_WRAPPER and fails on any exit but 0).
if [ -x "$build/hero_api" ]; then
    rc=0
    HERO_API_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9" \
        /usr/bin/python3 "$(dirname "$0")/../tests/hero_api_test.py" "$build/hero_api" --quick \
        >"$build/hero_api.valgrind.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "valgrind: hero_api clean"
    else
        failed=$((failed + 1))
        echo "valgrind: hero_api FAILED (exit $rc)"
        tail -40 "$build/hero_api.valgrind.log"
    fi
fi
echo "valgrind: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
