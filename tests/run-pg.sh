#!/bin/sh
# Runs a backend-agnostic test program on PostgreSQL: CALX_TEST_URL is set
# from CALX_TEST_PG_URL (the server make test starts). Without
# CALX_TEST_PG_URL there is no server to run on: the test says so and
# passes, as test_postgres does.
#   tests/run-pg.sh PROGRAM [ARGS...]
if [ -z "${CALX_TEST_PG_URL:-}" ]; then
    echo "skipped: CALX_TEST_PG_URL not set"
    exit 0
fi
CALX_TEST_URL=$CALX_TEST_PG_URL
export CALX_TEST_URL
exec "$@"
