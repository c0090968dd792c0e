#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a backend-agnostic test program on PostgreSQL: CALX_TEST_URL is set
# from CALX_TEST_PG_URL (the server make test starts). Without
# CALX_TEST_PG_URL there is no server to run on: it says so and exits 77,
# which CTest (SKIP_RETURN_CODE) reports as skipped, as it does test_postgres.
#   tests/run-pg.sh PROGRAM [ARGS...]
if [ -z "${CALX_TEST_PG_URL:-}" ]; then
    echo "skipped: CALX_TEST_PG_URL not set"
    exit 77
fi
CALX_TEST_URL=$CALX_TEST_PG_URL
export CALX_TEST_URL
exec "$@"
