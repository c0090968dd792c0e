#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every benchmark case for every implementation, in rounds, then writes
# the results (every figure of every round), the table of medians and the
# chart, and prints the table on stdout (progress goes to stderr).
#
#   bench/run.sh [BUILD_DIR]          (BUILD_DIR defaults to build-bench)
#
# `make bench` installs what is needed, builds the programs and calls this.
# A full run writes bench/results.json, bench/results.md, bench/results.png;
# BENCH_QUICK=1 shrinks every case tenfold and writes
# BUILD_DIR/results-quick.{json,md,png} instead, so that a quick run never
# overwrites the committed full results. BENCH_CASES="B6" (a list) runs
# only those cases, for working on one; the targets of the others read
# n/a, unless BENCH_MERGE=1 keeps the other cases of the results.json the
# run writes to (the table names the run they come from).
#
# BENCH_ROUNDS (default 3, quick 2) is how many times the whole set runs.
# Within a round every case runs for every implementation in turn, the
# order rotated by one each round, so that a noisy minute on this shared
# machine hits calx, raw C and the peers alike; report.py pairs the figures
# of one round (calx over raw C, calx over each peer), and reports the
# median of those ratios with their spread (min-max). Every line of
# results.json carries its "round".
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
NODE=node
MIKRO=bench/mikroorm

die() { echo "bench: $*" >&2; exit 1; }

QUICK=0
case "${BENCH_QUICK:-0}" in 0|"") ;; *) QUICK=1 ;; esac
export BENCH_QUICK=$QUICK
CASES=${BENCH_CASES:-B1 B2 B3 B4 B5 B6 B7}
want() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }

if [ $QUICK = 1 ]; then
    ROUNDS=${BENCH_ROUNDS:-2}
    RESULTS=$BUILD/results-quick      # never the committed bench/results.*
else
    ROUNDS=${BENCH_ROUNDS:-3}
    RESULTS=bench/results
fi
case "$ROUNDS" in
    ''|*[!0-9]*|0) die "BENCH_ROUNDS must be a whole number of rounds, 1 or more (got '$ROUNDS')" ;;
esac

for p in raw_sqlite raw_libpq; do
    [ -x "$BIN/$p" ] || die "$BIN/$p is missing: build with 'make bench' (or cmake -DCALX_BENCH=ON)"
done
[ -x "$PY" ] || die "$PY is missing: the Python peers run on Debian's python3 (sh scripts/bench-deps.sh)"
command -v gnuplot >/dev/null 2>&1 || die "gnuplot is missing (sh scripts/bench-deps.sh installs gnuplot-nox)"
for m in sqlalchemy greenlet sqlmodel aiosqlite asyncpg; do
    "$PY" -c "import $m" 2>/dev/null || die "$PY cannot import $m (sh scripts/bench-deps.sh installs python3-$m)"
done
command -v "$NODE" >/dev/null 2>&1 || die "node is missing: the MikroORM peer runs on Node.js (sh scripts/bench-deps.sh installs it)"
(cd "$MIKRO" && "$NODE" -e 'require("@mikro-orm/postgresql"); require("@mikro-orm/better-sqlite")') >/dev/null 2>&1 ||
    die "MikroORM is not installed in $MIKRO/node_modules (sh scripts/bench-deps.sh installs it with npm ci)"
mkdir -p "$(dirname "$RESULTS")"

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

# run LABEL COMMAND...: one program invocation; its JSON lines go to $LINES,
# each with the round it ran in. Exit status 77 means "not implemented yet"
# (calx_bench uses it for a case or backend it does not have yet): recorded
# as skipped, not as a failure.
run() {
    label=$1
    shift
    echo "bench: round $ROUND/$ROUNDS: $label" >&2
    rc=0
    "$@" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
    sed "s/^{/{\"round\": $ROUND, /" "$WORK/stdout" >>"$LINES"
    if [ $rc -eq 77 ]; then
        printf '%s\t%s\t%s\n' "${label%% *}" "$label" "$(tr '\t\n' '  ' <"$WORK/stderr" | cut -c1-300)" >>"$SKIPPED"
    elif [ $rc -ne 0 ]; then
        echo "bench: FAILED (exit $rc): $label" >&2
        cat "$WORK/stderr" >&2
        printf '%s\t%s\t%s\n' "round $ROUND: $label" "$rc" "$(tr '\t\n' '  ' <"$WORK/stderr" | cut -c1-600)" >>"$FAILURES"
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
# mikro BACKEND CASE [JOURNAL|VARIANT]
mikro() {
    case "${3:-}" in
        "") run "mikroorm $1 $2" "$NODE" "$MIKRO/bench.js" --backend $1 --case $2 ;;
        delete | wal) run "mikroorm $1 $2 $3" "$NODE" "$MIKRO/bench.js" --backend $1 --case $2 --journal $3 ;;
        *) run "mikroorm $1 $2 $3" "$NODE" "$MIKRO/bench.js" --backend $1 --case $2 --variant $3 ;;
    esac
}

# rotate N WORD...: the words, starting from the N-th (counting from 0,
# modulo their number), then the ones before it.
rotate() {
    k=$(($1 % ($# - 1)))
    shift
    front="" back=""
    i=0
    for w in "$@"; do
        if [ $i -lt $k ]; then back="$back $w"; else front="$front $w"; fi
        i=$((i + 1))
    done
    echo $front $back
}

# One implementation on one case (IMPL names as in the lists below).
sqlite_one() {
    impl=$1 c=$2 j=$3
    jarg=""
    [ $j = wal ] && jarg=wal
    case $impl in
        calx) if [ -n "$CALX" ]; then run "calx sqlite $c $j" "$CALX" --backend sqlite --case $c --journal $j; fi ;;
        # Not the default: every statement on the SQLite connection's worker
        # (inline_reads=false), what a single get cost before reads ran on
        # the loop thread.
        calx_worker) if [ -n "$CALX" ]; then
                run "calx sqlite $c worker_reads" "$CALX" --backend sqlite --case $c --variant worker_reads
            fi ;;
        raw_c) run "raw_c sqlite $c $j" "$BIN/raw_sqlite" --case $c --journal $j ;;
        mikroorm) mikro sqlite $c $j ;;
        *) py $impl sqlite $c $jarg ;;
    esac
}

pg_one() {
    impl=$1 c=$2
    case $impl in
        calx) if [ -n "$CALX" ]; then run "calx postgresql $c" "$CALX" --backend postgresql --case $c; fi ;;
        raw_c) run "raw_c postgresql $c" "$BIN/raw_libpq" --case $c ;;
        raw_c_text | raw_c_binary)
            run "raw_c postgresql $c ${impl#raw_c_}" "$BIN/raw_libpq" --case $c --variant ${impl#raw_c_} ;;
        mikroorm) mikro postgresql $c ;;
        *) py $impl postgresql $c ;;
    esac
}

# B6 (issue 10): teams loaded with their heroes, on both databases. calx
# runs its two loaders (selectinload, joinedload), raw C its two ways (two
# queries joined in memory, one JOIN), each on a fresh database; MikroORM
# its two strategies, a process each.
b6_one() {
    impl=$1 b=$2
    case $impl in
        calx) if [ -n "$CALX" ]; then run "calx $b B6" "$CALX" --backend $b --case B6; fi ;;
        raw_c) if [ $b = sqlite ]; then
                run "raw_c sqlite B6" "$BIN/raw_sqlite" --case B6
            else
                run "raw_c postgresql B6" "$BIN/raw_libpq" --case B6
            fi ;;
        mikroorm_selectin) mikro $b B6 select-in ;;
        mikroorm_joined) mikro $b B6 joined ;;
        *) py $impl $b B6 ;;
    esac
}

ROUND=1
while [ $ROUND -le $ROUNDS ]; do
    turn=$((ROUND - 1))
    # Case by case, every implementation in turn.
    for c in B1 B2 B3 B4; do
        want $c || continue
        journals="delete"
        [ $c = B1 ] && journals="delete wal"
        impls="calx raw_c sqlalchemy_async sqlmodel_async mikroorm"
        [ $c = B3 ] && impls="calx calx_worker raw_c sqlalchemy_async sqlmodel_async mikroorm"
        for j in $journals; do
            for impl in $(rotate $turn $impls); do
                sqlite_one $impl $c $j
            done
        done
    done

    for c in B1 B2 B3 B4 B5; do
        want $c || continue
        impls="calx raw_c sqlalchemy_async sqlmodel_async asyncpg mikroorm"
        [ $c = B2 ] && impls="calx raw_c_text raw_c_binary sqlalchemy_async sqlmodel_async asyncpg mikroorm"
        for impl in $(rotate $turn $impls); do
            pg_one $impl $c
        done
    done

    if want B6; then
        for b in sqlite postgresql; do
            for impl in $(rotate $turn calx raw_c sqlalchemy_async sqlmodel_async mikroorm_selectin mikroorm_joined); do
                b6_one $impl $b
            done
        done
    fi

    # B7 (issue 14): the hero web API end to end, the calx service against
    # FastAPI + SQLModel under uvicorn, on both databases (bench/b7.sh).
    if want B7; then
        run "B7 web API" env PY="$PY" sh bench/b7.sh "$BUILD" "$WORK"
    fi
    ROUND=$((ROUND + 1))
done

END=$(date +%s)
mergeflag=""
[ "${BENCH_MERGE:-0}" = 1 ] && [ -f "$RESULTS.json" ] && mergeflag="--merge-from $RESULTS.json"
quickflag=""
[ $QUICK = 1 ] && quickflag=--quick
"$PY" bench/report.py collect --lines "$LINES" --out "$RESULTS.json" $quickflag --rounds "$ROUNDS" \
    --skipped "$SKIPPED" --failures "$FAILURES" --seconds $((END - START)) --pg-url "$CALX_TEST_PG_URL" \
    $mergeflag
"$PY" bench/report.py table "$RESULTS.json" --md "$RESULTS.md" --chart-data "$WORK/chart.dat"

sub="$(date -u +%Y-%m-%d), the median of $ROUNDS round(s)"
[ $QUICK = 1 ] && sub="$sub, BENCH_QUICK=1 (every case a tenth of full size)"
if [ -n "$mergeflag" ]; then
    sub="$sub: $CASES; the other cases kept from the earlier run (the .md says which)"
elif [ -n "${BENCH_CASES:-}" ]; then
    sub="$sub, only $CASES"
fi
[ -z "$CALX" ] && sub="$sub; calx: not built yet"
gnuplot -e "datafile='$WORK/chart.dat'; outfile='$RESULTS.png'; subtitle='$sub'" bench/chart.gp \
    || die "gnuplot failed to draw $RESULTS.png"
echo "bench: wrote $RESULTS.json, $RESULTS.md, $RESULTS.png ($((END - START)) s, $ROUNDS round(s))" >&2

if [ -s "$FAILURES" ]; then
    echo "bench: $(wc -l <"$FAILURES") program run(s) failed; see above" >&2
    exit 1
fi
