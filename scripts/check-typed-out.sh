#!/bin/sh
# SPDX-License-Identifier: MIT
# The typed forms of calx/session.h catch a wrong out-parameter at compile
# time: tests/typed_out.c compiles as written, and fails to compile with
# -DWRONG (a Hero * where a Hero ** is needed). CTest runs this as
# check_typed_out.
#   scripts/check-typed-out.sh CC SOURCE_DIR
set -eu
cc=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$cc" -std=gnu11 -Wall -Werror -c -I "$src/include" "$src/tests/typed_out.c" \
        -o "$tmp/right.o" 2>"$tmp/right.log"; then
    cat "$tmp/right.log"
    echo "check-typed-out: the right program does not compile"
    exit 1
fi
if "$cc" -std=gnu11 -c -I "$src/include" -DWRONG "$src/tests/typed_out.c" -o "$tmp/wrong.o" \
        2>"$tmp/wrong.log"; then
    echo "check-typed-out: a Hero * passed for a Hero ** compiled"
    exit 1
fi
echo "check-typed-out: a Hero * for a Hero ** is a compile error: $(grep -m1 'error' "$tmp/wrong.log")"
