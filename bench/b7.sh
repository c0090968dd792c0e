#!/bin/sh
# SPDX-License-Identifier: MIT
# B7 (issue 14): the web API end to end. wrk against the calx hero service
# (examples/hero_api) and against the same API in FastAPI + SQLModel under
# uvicorn (bench/py/hero_fastapi.py), on one SQLite file and on PostgreSQL:
# GET /heroes/{id} (a hero with its team) over 100,000 heroes with random
# ids, POST /heroes/, and the calx service's fixed JSON body (the HTTP
# side's ceiling), each at 50 connections. One JSON line per measurement
# on stdout (bench/b7.lua writes them), for bench/report.py.
#
#   bench/b7.sh BUILD_DIR WORK_DIR
#
# Environment: CALX_TEST_PG_URL (the run's PostgreSQL; without it only
# SQLite), BENCH_QUICK=1 (10,000 heroes, 3 s a measurement instead of 10 s).
# wrk runs one thread: on a 2-core machine it gets one core and the server
# the other (each server is single-threaded: one libuv loop; uvicorn's one
# worker, whose sync routes run on FastAPI's thread pool).
# Exits 77 (skipped) when the service was not built or wrk is missing.
set -eu
BUILD=$1
WORK=$2
PY=${PY:-/usr/bin/python3}
HERO_API=$BUILD/hero_api
cd "$(dirname "$0")/.."

[ -x "$HERO_API" ] || { echo "no $HERO_API (libh2o-dev and libjansson-dev are needed)" >&2; exit 77; }
command -v wrk >/dev/null 2>&1 || { echo "wrk is missing (sh scripts/bench-deps.sh installs it)" >&2; exit 77; }

HEROES=100000
SECONDS_EACH=10
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    HEROES=10000
    SECONDS_EACH=3
fi
CONNECTIONS=50
export B7_HEROES=$HEROES B7_CONNECTIONS=$CONNECTIONS
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done' EXIT

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready PORT: until GET / answers anything (30 s at most).
wait_ready() {
    "$PY" - "$1" <<'PYEOF'
import sys, time, urllib.request, urllib.error
for _ in range(300):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/heroes/1" % sys.argv[1], timeout=1)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the server did not answer")
PYEOF
}

# measure IMPL BACKEND MODE PORT
measure() {
    echo "bench: B7 $1 $2 $3" >&2
    B7_IMPL=$1 B7_BACKEND=$2 B7_MODE=$3 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" \
        -s bench/b7.lua "http://127.0.0.1:$4" | grep '^{"case"'
}

# stop PID: SIGTERM, and the exit awaited.
stop() {
    kill -TERM "$1"
    wait "$1" || echo "bench: B7: the server $1 exited $?" >&2
}

# The tutorial's teams and heroes, as the other cases' workload: hero i
# 'hero-<i>', 'secret-<i>', age i % 100 (NULL when i % 7 == 0), team 1 + i % 10.
populate_sqlite() {
    "$PY" - "$1" "$HEROES" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
db.executemany("INSERT INTO team (name, headquarters) VALUES (?, ?)",
               [("team-%d" % j, "hq-%d" % j) for j in range(1, 11)])
db.executemany("INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)",
               [("hero-%d" % i, "secret-%d" % i, None if i % 7 == 0 else i % 100, 1 + i % 10)
                for i in range(1, n + 1)])
db.commit()
PYEOF
}

populate_pg() {
    psql -q -v ON_ERROR_STOP=1 "$CALX_TEST_PG_URL" <<SQL
INSERT INTO team (name, headquarters) SELECT 'team-' || j, 'hq-' || j FROM generate_series(1, 10) j;
INSERT INTO hero (name, secret_name, age, team_id)
    SELECT 'hero-' || i, 'secret-' || i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 100 END, 1 + i % 10
    FROM generate_series(1, $HEROES) i;
ANALYZE;
SQL
}

backends=sqlite
[ -n "${CALX_TEST_PG_URL:-}" ] && backends="sqlite postgresql"
for backend in $backends; do
    if [ "$backend" = sqlite ]; then
        db=$WORK/b7.db
        rm -f "$db" "$db-wal" "$db-shm"
        url=sqlite:///$db
        set -- --db "$db"
        unset DATABASE_URL
    else
        url=$CALX_TEST_PG_URL
        set -- --drop-all
        export DATABASE_URL="$url"
    fi
    out=$WORK/b7-calx-$backend.out
    "$HERO_API" --port 0 "$@" >"$out" 2>"$WORK/b7-calx-$backend.err" &
    pid=$!
    PIDS="$PIDS $pid"
    for _ in $(seq 100); do grep -q listening "$out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] || { cat "$WORK/b7-calx-$backend.err" >&2; exit 1; }
    if [ "$backend" = sqlite ]; then populate_sqlite "$db"; else populate_pg; fi
    measure calx "$backend" fixed "$port"
    measure calx "$backend" get "$port"
    measure calx "$backend" post "$port"
    stop "$pid"

    port=$(free_port)
    DATABASE_URL=$url "$PY" -m uvicorn hero_fastapi:app --app-dir bench/py --host 127.0.0.1 \
        --port "$port" --no-access-log --log-level warning 2>"$WORK/b7-fastapi-$backend.err" &
    pid=$!
    PIDS="$PIDS $pid"
    wait_ready "$port"
    measure fastapi_sqlmodel "$backend" get "$port"
    measure fastapi_sqlmodel "$backend" post "$port"
    stop "$pid"
done
