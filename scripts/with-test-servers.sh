#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command with the test servers up: a throwaway PostgreSQL
# (scripts/pg-test-server.sh) and, when pgbouncer is installed, a PgBouncer
# in transaction mode in front of it (scripts/pgbouncer-test.sh), and a
# primary with two streaming standbys for the replica tests
# (scripts/pg-test-cluster.sh). The command sees CALX_TEST_PG_URL,
# CALX_TEST_PG_DIR, CALX_TEST_PGBOUNCER_URL and the cluster's
# CALX_TEST_PG_PRIMARY_URL, CALX_TEST_PG_STANDBY1_URL,
# CALX_TEST_PG_STANDBY2_URL and CALX_TEST_PG_CLUSTER_DIR; every server is
# stopped and its directory removed when it ends, whether it passed, failed or was interrupted. The
# command's exit status is this script's.
#   scripts/with-test-servers.sh COMMAND [ARGS...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
base=$(mktemp -d "${TMPDIR:-/tmp}/calx-test-servers.XXXXXX")
# The server runs as another user when started by root: it must reach its
# directory below this one.
chmod 755 "$base"

cleanup() {
    sh "$here/pgbouncer-test.sh" stop "$base/bouncer" >/dev/null 2>&1 || true
    sh "$here/pg-test-server.sh" stop "$base/pg" >/dev/null 2>&1 || true
    sh "$here/pg-test-cluster.sh" stop "$base/cluster" >/dev/null 2>&1 || true
    rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

env_pg=$(sh "$here/pg-test-server.sh" start "$base/pg")
CALX_TEST_PG_URL=$(echo "$env_pg" | sed -n 's/^CALX_TEST_PG_URL=//p')
CALX_TEST_PG_DIR=$(echo "$env_pg" | sed -n 's/^CALX_TEST_PG_DIR=//p')
export CALX_TEST_PG_URL CALX_TEST_PG_DIR
echo "calx: PostgreSQL test server at $CALX_TEST_PG_URL" >&2

if command -v pgbouncer >/dev/null 2>&1; then
    env_b=$(sh "$here/pgbouncer-test.sh" start "$base/bouncer" "$CALX_TEST_PG_URL")
    CALX_TEST_PGBOUNCER_URL=$(echo "$env_b" | sed -n 's/^CALX_TEST_PGBOUNCER_URL=//p')
    export CALX_TEST_PGBOUNCER_URL
    echo "calx: PgBouncer (transaction mode) at $CALX_TEST_PGBOUNCER_URL" >&2
else
    echo "calx: pgbouncer not installed: its test is skipped (scripts/deps.sh installs it)" >&2
fi

# The replica tests' cluster, started once for the whole suite.
env_c=$(sh "$here/pg-test-cluster.sh" start "$base/cluster")
for v in CALX_TEST_PG_PRIMARY_URL CALX_TEST_PG_STANDBY1_URL CALX_TEST_PG_STANDBY2_URL \
         CALX_TEST_PG_CLUSTER_DIR; do
    eval "$v=\$(echo \"\$env_c\" | sed -n 's/^$v=//p')"
    export "$v"
done
echo "calx: PostgreSQL primary at $CALX_TEST_PG_PRIMARY_URL, standbys at" \
    "$CALX_TEST_PG_STANDBY1_URL (synchronous) and $CALX_TEST_PG_STANDBY2_URL" >&2

set +e
"$@"
rc=$?
set -e
exit $rc
