#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs an example program as a test, in a scratch directory of its own
# that starts without database files, and checks that it exits 0 and that
# its output has a line matching PATTERN (a grep regular expression).
#   tests/run-example.sh DIR PROGRAM PATTERN
set -eu
dir=$1
prog=$2
pattern=$3
mkdir -p "$dir"
cd "$dir"
rm -f ./*.db ./*.db-wal ./*.db-shm ./*.db-journal
out=$("$prog") || { echo "$prog exited with $?"; exit 1; }
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q -- "$pattern" || { echo "no line matches: $pattern"; exit 1; }
