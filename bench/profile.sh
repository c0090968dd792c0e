#!/bin/sh
# SPDX-License-Identifier: MIT
# Instruction counts of a case's timed part, every thread counted:
#
#   sh bench/profile.sh BUILD PROGRAM [ARGUMENTS...]
#   sh bench/profile.sh build-bench calx_bench --backend sqlite --case B2
#   sh bench/profile.sh build-bench raw_sqlite --case B2
#
# Runs BUILD/bench/PROGRAM at the quick size under callgrind. The
# programs' bench_timed_begin and bench_timed_end zero the counts and dump
# them around each timed part, so the setup and the checks are left out
# and the SQLite worker thread's instructions are in (callgrind's
# --toggle-collect would miss both the worker and what a task runs after
# it switches stacks). Prints each timed part's total and its costliest
# functions by their own instructions (bench/callgrind_self.py). The files
# stay in $PROFILE_DIR (default /tmp/calx-profile). Instruction counts do
# not move with the machine's load as times do: the yardstick for a
# change's CPU work (bench/README.md).
set -eu

if [ $# -lt 2 ]; then
    echo "usage: sh bench/profile.sh BUILD PROGRAM [ARGUMENTS...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
program=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
dir=${PROFILE_DIR:-/tmp/calx-profile}
mkdir -p "$dir"
out="$dir/$program.callgrind"
rm -f "$out" "$out".*
# The SQLite files go to the profile's directory, as the bench's do to its own.
(cd "$dir" && BENCH_QUICK=1 valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$build/bench/$program" "$@" >"$dir/$program.out" 2>"$dir/$program.log") || {
    echo "profile: $program failed; see $dir/$program.log" >&2
    exit 1
}
found=0
for f in "$out".*; do
    [ -e "$f" ] || continue
    found=1
    echo "== $f (timed part ${f##*.})"
    python3 "$here/callgrind_self.py" "$f" "${PROFILE_TOP:-25}"
done
if [ $found = 0 ]; then
    echo "profile: $program dumped no timed part (is the case's timing marked with bench_timed_begin/_end?)" >&2
    exit 1
fi
