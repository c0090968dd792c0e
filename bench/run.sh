#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every benchmark case for every implementation in one run, then writes
# bench/results.json, bench/results.md and bench/results.png and prints the
# table on stdout (progress goes to stderr).
#
#   bench/run.sh [BUILD_DIR]          (BUILD_DIR defaults to build-bench)
#
# `make bench` installs what is needed, builds the programs and calls this.
# BENCH_QUICK=1 shrinks every case tenfold. BENCH_CASES="B6" (a list) runs
# only those cases, for working on one; the targets of the others read n/a,
# unless BENCH_MERGE=1 keeps the other cases of the results.json there (the
# table names the run they come from).
#
# A throwaway PostgreSQL server runs for the length of the run (the shared
# scripts/pg-test-server.sh when the tree has it, else bench/pg-server.sh);
# SQLite files go to a temporary directory. Every program invocation runs one
# case (B2 one variant per process, so its peak RSS is that variant's own).
# calx runs when BUILD_DIR/bench/calx_bench exists; until then the table says
# "calx: not built yet". A program that fails is reported and makes the run
# exit non-zero, after the table is written.
set -eu

cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
BIN=$BUILD/bench
PY=/usr/bin/python3
OUT=bench

die() { echo "bench: $*" >&2; exit 1; }

QUICK=0
case "${BENCH_QUICK:-0}" in 0|"") ;; *) QUICK=1 ;; esac
export BENCH_QUICK=$QUICK
CASES=${BENCH_CASES:-B1 B2 B3 B4 B5 B6 B7}
want() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }

for p in raw_sqlite raw_libpq; do
    [ -x "$BIN/$p" ] || die "$BIN/$p is missing: build with 'make bench' (or cmake -DCALX_BENCH=ON)"
done
[ -x "$PY" ] || die "$PY is missing: the Python peers run on Debian's python3 (sh scripts/bench-deps.sh)"
command -v gnuplot >/dev/null 2>&1 || die "gnuplot is missing (sh scripts/bench-deps.sh installs gnuplot-nox)"
for m in sqlalchemy greenlet sqlmodel aiosqlite asyncpg; do
    "$PY" -c "import $m" 2>/dev/null || die "$PY cannot import $m (sh scripts/bench-deps.sh installs python3-$m)"
done

if [ -x scripts/pg-test-server.sh ]; then
    PGSERVER=scripts/pg-test-server.sh
else
    PGSERVER=bench/pg-server.sh
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/calx-bench.XXXXXX")
chmod 755 "$WORK"      # the PostgreSQL server may run as another user
mkdir "$WORK/sqlite"
LINES=$WORK/lines.jsonl
SKIPPED=$WORK/skipped.tsv
FAILURES=$WORK/failures.tsv
: >"$LINES"
: >"$SKIPPED"
: >"$FAILURES"

cleanup() {
    "$PGSERVER" stop "$WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START=$(date +%s)
echo "bench: starting PostgreSQL ($PGSERVER)" >&2
"$PGSERVER" start "$WORK/pg" >/dev/null || die "could not start PostgreSQL with $PGSERVER"
set -a
. "$WORK/pg/env"
set +a
[ -n "${CALX_TEST_PG_URL:-}" ] || die "$PGSERVER wrote no CALX_TEST_PG_URL to $WORK/pg/env"
export BENCH_DIR="$WORK/sqlite"

# run LABEL COMMAND...: one program invocation; its JSON lines go to $LINES.
# Exit status 77 means "not implemented yet" (calx_bench uses it for a case
# or backend it does not have yet): recorded as skipped, not as a failure.
run() {
    label=$1
    shift
    echo "bench: $label" >&2
    rc=0
    "$@" >>"$LINES" 2>"$WORK/stderr" || rc=$?
    if [ $rc -eq 77 ]; then
        printf '%s\t%s\t%s\n' "${label%% *}" "$label" "$(tr '\t\n' '  ' <"$WORK/stderr" | cut -c1-300)" >>"$SKIPPED"
    elif [ $rc -ne 0 ]; then
        echo "bench: FAILED (exit $rc): $label" >&2
        cat "$WORK/stderr" >&2
        printf '%s\t%s\t%s\n' "$label" "$rc" "$(tr '\t\n' '  ' <"$WORK/stderr" | cut -c1-600)" >>"$FAILURES"
    elif [ -s "$WORK/stderr" ]; then
        cat "$WORK/stderr" >&2
    fi
}

CALX=""
if [ -x "$BIN/calx_bench" ]; then
    CALX=$BIN/calx_bench
else
    echo "bench: calx: not built yet ($BIN/calx_bench does not exist)" >&2
    printf 'calx\tall cases\tnot built yet\n' >>"$SKIPPED"
fi

py() { run "$1 $2 $3${4:+ $4}" "$PY" bench/py/bench.py --impl "$1" --backend "$2" --case "$3" ${4:+--journal "$4"}; }

# Case by case, every implementation in turn, so that drift in the machine's
# load touches them alike.
for c in B1 B2 B3 B4; do
    want $c || continue
    journals="delete"
    [ $c = B1 ] && journals="delete wal"
    for j in $journals; do
        jarg=""
        [ $j = wal ] && jarg=wal
        [ -n "$CALX" ] && run "calx sqlite $c $j" "$CALX" --backend sqlite --case $c --journal $j
        # The SQLite driver's opt-in inline reads matter for single gets.
        [ -n "$CALX" ] && [ $c = B3 ] &&
            run "calx sqlite $c inline_reads" "$CALX" --backend sqlite --case $c --variant inline_reads
        run "raw_c sqlite $c $j" "$BIN/raw_sqlite" --case $c --journal $j
        py sqlalchemy_async sqlite $c $jarg
        py sqlmodel_async sqlite $c $jarg
    done
done

for c in B1 B2 B3 B4 B5; do
    want $c || continue
    [ -n "$CALX" ] && run "calx postgresql $c" "$CALX" --backend postgresql --case $c
    if [ $c = B2 ]; then
        for v in text binary; do
            run "raw_c postgresql B2 $v" "$BIN/raw_libpq" --case B2 --variant $v
        done
    else
        run "raw_c postgresql $c" "$BIN/raw_libpq" --case $c
    fi
    py sqlalchemy_async postgresql $c
    py sqlmodel_async postgresql $c
    py asyncpg postgresql $c
done

# B6 (issue 10): teams loaded with their heroes, on both databases. calx
# runs its two loaders (selectinload, joinedload), raw C its two ways (two
# queries joined in memory, one JOIN), each on a fresh database.
for b in sqlite postgresql; do
    want B6 || continue
    [ -n "$CALX" ] && run "calx $b B6" "$CALX" --backend $b --case B6
    if [ $b = sqlite ]; then
        run "raw_c sqlite B6" "$BIN/raw_sqlite" --case B6
    else
        run "raw_c postgresql B6" "$BIN/raw_libpq" --case B6
    fi
    py sqlalchemy_async $b B6
    py sqlmodel_async $b B6
done

# B7 (issue 14): the hero web API end to end, the calx service against
# FastAPI + SQLModel under uvicorn, on both databases (bench/b7.sh).
want B7 && run "B7 web API" env PY="$PY" sh bench/b7.sh "$BUILD" "$WORK"

END=$(date +%s)
mergeflag=""
[ "${BENCH_MERGE:-0}" = 1 ] && [ -f "$OUT/results.json" ] && mergeflag="--merge-from $OUT/results.json"
quickflag=""
[ $QUICK = 1 ] && quickflag=--quick
"$PY" bench/report.py collect --lines "$LINES" --out "$OUT/results.json" $quickflag \
    --skipped "$SKIPPED" --failures "$FAILURES" --seconds $((END - START)) --pg-url "$CALX_TEST_PG_URL" \
    $mergeflag
"$PY" bench/report.py table "$OUT/results.json" --md "$OUT/results.md" --chart-data "$WORK/chart.dat"

sub="$(date -u +%Y-%m-%d)"
[ $QUICK = 1 ] && sub="$sub, BENCH_QUICK=1 (every case a tenth of full size)"
if [ -n "$mergeflag" ]; then
    sub="$sub: $CASES; the other cases kept from the earlier run (results.md says which)"
elif [ -n "${BENCH_CASES:-}" ]; then
    sub="$sub, only $CASES"
fi
[ -z "$CALX" ] && sub="$sub; calx: not built yet"
gnuplot -e "datafile='$WORK/chart.dat'; outfile='$OUT/results.png'; subtitle='$sub'" bench/chart.gp \
    || die "gnuplot failed to draw $OUT/results.png"
echo "bench: wrote $OUT/results.json, $OUT/results.md, $OUT/results.png ($((END - START)) s)" >&2

if [ -s "$FAILURES" ]; then
    echo "bench: $(wc -l <"$FAILURES") program run(s) failed; see above" >&2
    exit 1
fi
