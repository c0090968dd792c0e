#!/bin/sh
# Runs every test program of a build under valgrind's memcheck; fails on
# any error or definite/indirect leak. Usage: scripts/valgrind.sh BUILD_DIR
set -eu
build=${1:-build}
export CALX_TEST_TMP="$(cd "$build" && pwd)/testtmp"
failed=0
passed=0
for t in "$build"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=9 "$t" >"$build/$name.valgrind.log" 2>&1; then
        passed=$((passed + 1))
        echo "valgrind: $name clean"
    else
        failed=$((failed + 1))
        echo "valgrind: $name FAILED"
        tail -40 "$build/$name.valgrind.log"
    fi
done
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
