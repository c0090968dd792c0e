#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every fuzz target of a build for a while: scripts for make fuzz.
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]  (default 60 seconds per target)
#
# Each target reads its committed seeds (fuzz/corpus/<target>, left
# untouched) and grows a working corpus of its own in
# BUILD_DIR/fuzz-corpus/<target>, kept between runs. An input that crashes
# or breaks a property is written to BUILD_DIR/fuzz-artifacts/ and fails
# the run.
set -eu
build=$1
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
failed=0
mkdir -p "$build/fuzz-artifacts"
for target in url sql_text pg_value; do
    program="$build/fuzz_$target"
    work="$build/fuzz-corpus/$target"
    mkdir -p "$work"
    echo "fuzz: $target for ${seconds}s"
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$program" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
           -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$target-" \
           "$work" "$here/corpus/$target" >"$build/fuzz-$target.log" 2>&1; then
        echo "fuzz: $target clean ($(grep -c . "$build/fuzz-$target.log") log lines," \
             "$(ls "$work" | wc -l) inputs in its corpus)"
    else
        failed=$((failed + 1))
        echo "fuzz: $target FAILED (log: $build/fuzz-$target.log)"
        tail -40 "$build/fuzz-$target.log"
    fi
done
[ "$failed" -eq 0 ]
