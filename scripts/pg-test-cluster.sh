#!/bin/sh
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL primary with two streaming-replication standbys,
# for calx's replica tests.
#
#   scripts/pg-test-cluster.sh start DIR   primary + standby1 + standby2
#   scripts/pg-test-cluster.sh stop DIR    stop all three and remove DIR
#   scripts/pg-test-cluster.sh stop-standby DIR N    stop standby N (a replica down)
#   scripts/pg-test-cluster.sh start-standby DIR N   start it again, same port
#   scripts/pg-test-cluster.sh kill-primary DIR      stop the primary at once (a crash)
#   scripts/pg-test-cluster.sh promote DIR N         make standby N a primary
#
# start prints, and writes to DIR/env,
#
#   CALX_TEST_PG_PRIMARY_URL=postgresql://calx@127.0.0.1:PORT/calx_test
#   CALX_TEST_PG_STANDBY1_URL=postgresql://calx@127.0.0.1:PORT/calx_test
#   CALX_TEST_PG_STANDBY2_URL=postgresql://calx@127.0.0.1:PORT/calx_test
#   CALX_TEST_PG_CLUSTER_DIR=DIR
#
# The primary is scripts/pg-test-server.sh's server in DIR/primary (loopback
# only, trust, fsync off), opened to replication. Each standby is a
# pg_basebackup -R of it in DIR/standbyN with a replication slot of its own
# (standbyN), streaming from the primary under application_name standbyN.
# standby1 is synchronous (synchronous_standby_names = 'standby1',
# synchronous_commit on): a COMMIT the primary acknowledges has reached
# standby1's WAL, so it survives the primary's death and standby1's
# promotion; standby2 is asynchronous. (fsync stays off everywhere: the
# claim is about losing the primary, not the machine.) The standbys'
# data directories hold DIR/standbyN/port and DIR/standbyN/sock like the
# primary's, so a test may stop, start, pause or promote one with pg_ctl
# and psql. start waits until both standbys stream; it is not idempotent:
# stop first.
set -eu

RUN_AS=calx-pg
USER_NAME=calx
DB_NAME=calx_test
NSTANDBYS=2

die() {
    echo "pg-test-cluster: $*" >&2
    exit 1
}

usage() {
    die "usage: $0 start|stop|kill-primary DIR | stop-standby|start-standby|promote DIR N"
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
n=${3:-}
case "$dir" in
    /*) ;;
    *) dir="$(pwd)/$dir" ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg-test-common.sh"

# psql on the primary's socket, as the server's user.
psql_primary() {
    as_server "$BIN/psql" -h "$dir/primary/sock" -p "$(cat "$dir/primary/port")" \
        -U "$USER_NAME" -d "$DB_NAME" -Atqc "$1"
}

start_standby() {
    n=$1
    sd="$dir/standby$n"
    mkdir -p "$sd/sock"
    [ "$(id -u)" -eq 0 ] && chown -R "$RUN_AS" "$sd"
    chmod 700 "$sd"
    as_server "$BIN/pg_basebackup" -h "$dir/primary/sock" -p "$(cat "$dir/primary/port")" \
        -U "$USER_NAME" -D "$sd/data" -R -C -S "standby$n" -X stream -c fast --no-sync \
        >"$sd/basebackup.log" 2>&1 ||
        { tail -20 "$sd/basebackup.log" >&2; die "pg_basebackup of standby$n failed"; }
    # Later lines win over the primary's copied settings.
    cat >>"$sd/data/postgresql.conf" <<EOF

# calx test cluster: standby$n of $dir/primary.
unix_socket_directories = '$sd/sock'
cluster_name = 'standby$n'
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
EOF
    tries=0
    while :; do
        tries=$((tries + 1))
        port=$(free_port) || die "cannot find a free TCP port (perl IO::Socket::INET)"
        echo "$port" >"$sd/port"
        if as_server "$BIN/pg_ctl" -D "$sd/data" -l "$sd/log" -w -t 60 \
                -o "-p $port" start >/dev/null 2>&1; then
            break
        fi
        if [ "$tries" -ge 5 ]; then
            tail -20 "$sd/log" >&2 || true
            die "standby$n did not start (log: $sd/log)"
        fi
    done
}

write_env() {
    {
        echo "CALX_TEST_PG_PRIMARY_URL=postgresql://$USER_NAME@127.0.0.1:$(cat "$dir/primary/port")/$DB_NAME"
        n=1
        while [ "$n" -le "$NSTANDBYS" ]; do
            echo "CALX_TEST_PG_STANDBY${n}_URL=postgresql://$USER_NAME@127.0.0.1:$(cat "$dir/standby$n/port")/$DB_NAME"
            n=$((n + 1))
        done
        echo "CALX_TEST_PG_CLUSTER_DIR=$dir"
    } >"$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
    cat "$dir/env"
}

do_start() {
    [ ! -e "$dir/env" ] || die "a cluster is already in $dir (stop it first)"
    ensure_user
    mkdir -p "$dir"
    chmod 755 "$dir"
    sh "$here/pg-test-server.sh" start "$dir/primary" >/dev/null
    # Open the primary to replication (its pg_hba.conf names databases
    # only, and "all" does not cover replication connections).
    cat >>"$dir/primary/data/pg_hba.conf" <<EOF
local replication all trust
host replication all 127.0.0.1/32 trust
EOF
    psql_primary "SELECT pg_reload_conf()" >/dev/null
    n=1
    while [ "$n" -le "$NSTANDBYS" ]; do
        start_standby "$n"
        n=$((n + 1))
    done
    # Only now: the standbys' copies of postgresql.auto.conf must not name
    # a synchronous standby, or a promoted one would wait for it forever.
    psql_primary "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null
    psql_primary "ALTER SYSTEM SET synchronous_commit = 'on'" >/dev/null
    psql_primary "SELECT pg_reload_conf()" >/dev/null
    # Ready when both stream and standby1 is the synchronous one.
    i=0
    while :; do
        got=$(psql_primary "SELECT count(*) FILTER (WHERE state = 'streaming') || ' ' ||
                                   count(*) FILTER (WHERE sync_state = 'sync')
                            FROM pg_stat_replication" 2>/dev/null || true)
        [ "$got" = "$NSTANDBYS 1" ] && break
        i=$((i + 1))
        [ "$i" -lt 300 ] || die "the standbys did not start streaming (got: $got; logs in $dir)"
        sleep 0.1
    done
    write_env
}

do_stop() {
    [ -d "$dir" ] || return 0
    for sd in "$dir"/standby*; do
        [ -f "$sd/data/PG_VERSION" ] || continue
        as_server "$BIN/pg_ctl" -D "$sd/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    done
    sh "$here/pg-test-server.sh" stop "$dir/primary" >/dev/null 2>&1 || true
    rm -rf "$dir"
}

standby_dir() {
    case "$n" in
        [1-9]) ;;
        *) usage ;;
    esac
    [ -f "$dir/standby$n/data/PG_VERSION" ] || die "no standby$n in $dir"
    echo "$dir/standby$n"
}

case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    stop-standby)
        sd=$(standby_dir)
        as_server "$BIN/pg_ctl" -D "$sd/data" -m fast -w -t 30 stop >/dev/null ;;
    kill-primary)
        # A crash: pg_ctl's immediate mode (SIGQUIT). Once, on a loaded CI
        # run, the primary was still there after its 30 s; then SIGKILL the
        # postmaster, whose backends exit when they see it gone.
        if ! as_server "$BIN/pg_ctl" -D "$dir/primary/data" -m immediate -w -t 30 stop \
            >/dev/null 2>&1; then
            pid=$(head -n 1 "$dir/primary/data/postmaster.pid" 2>/dev/null || true)
            [ -n "$pid" ] || die "the primary did not stop and has no postmaster.pid"
            kill -KILL "$pid" 2>/dev/null || true
            i=0
            while kill -0 "$pid" 2>/dev/null; do
                i=$((i + 1))
                [ "$i" -le 100 ] || die "the primary's postmaster ($pid) outlived SIGKILL"
                sleep 0.1
            done
        fi ;;
    promote)
        sd=$(standby_dir)
        as_server "$BIN/pg_ctl" -D "$sd/data" -w -t 30 promote >/dev/null ;;
    start-standby)
        sd=$(standby_dir)
        as_server "$BIN/pg_ctl" -D "$sd/data" -l "$sd/log" -w -t 60 \
            -o "-p $(cat "$sd/port")" start >/dev/null ;;
    *) usage ;;
esac
