#!/bin/sh
# SPDX-License-Identifier: MIT
# The typed forms of calx/session.h (CALX_GET ...) and calx/future.h
# (CALX_AWAIT, CALX_WAIT, CALX_FUTURE_TAKE) catch a wrong out-parameter at
# compile time: tests/typed_out.c compiles as written, and fails to
# compile with each -DWRONG=N, one wrong pointer per case (a Hero * where
# a Hero ** is needed, another model's pointer, a calx_result ** for a
# connection, ...). CTest runs this as check_typed_out.
#   scripts/check-typed-out.sh CC SOURCE_DIR
set -eu
cc=$1
src=$2
cases=7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$cc" -std=gnu11 -Wall -Werror -c -I "$src/include" "$src/tests/typed_out.c" \
        -o "$tmp/right.o" 2>"$tmp/right.log"; then
    cat "$tmp/right.log"
    echo "check-typed-out: the right program does not compile"
    exit 1
fi
# Without -Werror: each wrong case must be an error, not a warning.
n=1
while [ "$n" -le "$cases" ]; do
    if "$cc" -std=gnu11 -c -I "$src/include" -DWRONG="$n" "$src/tests/typed_out.c" \
            -o "$tmp/wrong.o" 2>"$tmp/wrong.log"; then
        echo "check-typed-out: case WRONG == $n of tests/typed_out.c compiled; it must not"
        exit 1
    fi
    # And the error is the typed form's, not a mistake elsewhere in the case.
    if ! grep -q 'not a pointer to' "$tmp/wrong.log"; then
        cat "$tmp/wrong.log"
        echo "check-typed-out: case WRONG == $n failed to compile, but not on its out-parameter"
        exit 1
    fi
    n=$((n + 1))
done
echo "check-typed-out: the right calls compile, and each of the $cases wrong pointers is a compile error: $(grep -m1 'error' "$tmp/wrong.log")"
