#!/bin/sh
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL server for calx's tests, from Debian's postgresql
# package.
#
#   scripts/pg-test-server.sh start DIR     initdb in DIR, start, create calx_test
#   scripts/pg-test-server.sh stop DIR      stop the server and remove DIR
#   scripts/pg-test-server.sh restart DIR   restart it (same port, same data)
#   scripts/pg-test-server.sh status DIR    exit 0 when it is running
#
# start prints, and writes to DIR/env,
#
#   CALX_TEST_PG_URL=postgresql://calx@127.0.0.1:PORT/calx_test
#   CALX_TEST_PG_DIR=DIR
#
# The server listens on 127.0.0.1 only (a free port picked by the kernel)
# and on a unix socket in DIR/sock, trusts every local connection, and runs
# with fsync off: it is for tests, never for data. Run as root, the server
# runs as the system user calx-pg (created on first use; PostgreSQL refuses
# to run as root), and DIR is handed to that user. start, stop and restart
# are idempotent; start waits until the server accepts connections.
set -eu

USER_NAME=calx        # the database superuser the URL names
DB_NAME=calx_test
RUN_AS=calx-pg        # the system user the server runs as, when started by root

die() {
    echo "pg-test-server: $*" >&2
    exit 1
}

usage() {
    die "usage: $0 start|stop|restart|status DIR"
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case "$dir" in
    /*) ;;
    *) dir="$(pwd)/$dir" ;;
esac

. "$(dirname "$0")/pg-test-common.sh"

running() {
    [ -f "$dir/data/PG_VERSION" ] && as_server "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

write_env() {
    port=$(cat "$dir/port")
    {
        echo "CALX_TEST_PG_URL=postgresql://$USER_NAME@127.0.0.1:$port/$DB_NAME"
        echo "CALX_TEST_PG_DIR=$dir"
    } >"$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
    cat "$dir/env"
}

start_server() {
    # A port can be taken between picking it and the server binding it:
    # then pick another.
    tries=0
    while :; do
        tries=$((tries + 1))
        if [ ! -f "$dir/port" ] || [ "$tries" -gt 1 ]; then
            port=$(free_port) || die "cannot find a free TCP port (perl IO::Socket::INET)"
            echo "$port" >"$dir/port"
        fi
        port=$(cat "$dir/port")
        if as_server "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
                -o "-p $port" start >/dev/null 2>&1; then
            return 0
        fi
        if [ "$tries" -ge 5 ]; then
            tail -20 "$dir/log" >&2 || true
            die "the server in $dir did not start (log: $dir/log)"
        fi
    done
}

do_start() {
    if running; then
        write_env
        return 0
    fi
    ensure_user
    mkdir -p "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        rm -rf "$dir/data" "$dir/sock"
        mkdir -p "$dir/sock"
        [ "$(id -u)" -eq 0 ] && chown -R "$RUN_AS" "$dir"
        chmod 700 "$dir"
        as_server "$BIN/initdb" -D "$dir/data" -U "$USER_NAME" -A trust -E UTF8 \
            --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
            { tail -20 "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
        cat >>"$dir/data/postgresql.conf" <<EOF

# calx test server: loopback and a private socket only; speed over safety.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
log_min_messages = warning
log_connections = off
EOF
        cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
        fresh=1
    else
        fresh=0
    fi
    [ "$(id -u)" -eq 0 ] && chown "$RUN_AS" "$dir" "$dir/port" 2>/dev/null || true
    start_server
    if [ "$fresh" -eq 1 ] ||
        ! as_server "$BIN/psql" -h "$dir/sock" -p "$(cat "$dir/port")" -U "$USER_NAME" \
            -d "$DB_NAME" -Atqc 'SELECT 1' >/dev/null 2>&1; then
        as_server "$BIN/createdb" -h "$dir/sock" -p "$(cat "$dir/port")" -U "$USER_NAME" \
            "$DB_NAME" || die "cannot create the database $DB_NAME"
    fi
    write_env
}

do_stop() {
    [ -d "$dir" ] || return 0
    if [ -f "$dir/data/PG_VERSION" ] && running; then
        as_server "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_server "$BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
            true
    fi
    rm -rf "$dir"
}

do_restart() {
    [ -f "$dir/data/PG_VERSION" ] || die "no test server in $dir (start one first)"
    if running; then
        as_server "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            die "the server in $dir did not stop"
    fi
    start_server
    write_env
}

case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    restart) do_restart ;;
    status) running ;;
    *) usage ;;
esac
