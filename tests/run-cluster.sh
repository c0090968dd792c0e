#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a program on the replica test cluster (scripts/pg-test-cluster.sh,
# started by scripts/with-test-servers.sh): DATABASE_URL is the primary's
# URL and REPLICA_URLS the standbys', comma-separated, as
# examples/replicas.c reads them. Without CALX_TEST_PG_PRIMARY_URL there
# is no cluster: it says so and exits 77, which CTest reports as skipped.
#   tests/run-cluster.sh PROGRAM [ARGS...]
if [ -z "${CALX_TEST_PG_PRIMARY_URL:-}" ]; then
    echo "skipped: CALX_TEST_PG_PRIMARY_URL not set (scripts/with-test-servers.sh starts the cluster)"
    exit 77
fi
DATABASE_URL=$CALX_TEST_PG_PRIMARY_URL
REPLICA_URLS=$CALX_TEST_PG_STANDBY1_URL,$CALX_TEST_PG_STANDBY2_URL
export DATABASE_URL REPLICA_URLS
exec "$@"
