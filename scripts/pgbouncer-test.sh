#!/bin/sh
# SPDX-License-Identifier: MIT
# A throwaway PgBouncer in transaction pooling mode in front of the test
# server (scripts/pg-test-server.sh), for the tests that need one.
#
#   scripts/pgbouncer-test.sh start DIR PGURL   PGURL: postgresql://USER@HOST:PORT/DB
#   scripts/pgbouncer-test.sh stop DIR          stop it and remove DIR
#
# start prints, and writes to DIR/env,
#
#   CALX_TEST_PGBOUNCER_URL=postgresql://USER@127.0.0.1:PORT/DB
#
# PgBouncer listens on 127.0.0.1 only, on a free port, with auth_type trust
# (the user must be in its auth_file, which this script writes), pool_mode
# transaction and 5 server connections per user and database, so that many
# client connections share few server connections, as in production. It
# refuses to run as root: run by root, it runs as calx-pg (the test
# server's user). start and stop are idempotent; start waits until it
# answers.
set -eu

RUN_AS=calx-pg

die() {
    echo "pgbouncer-test: $*" >&2
    exit 1
}

usage() {
    die "usage: $0 start DIR PGURL | stop DIR"
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
case "$dir" in
    /*) ;;
    *) dir="$(pwd)/$dir" ;;
esac

as_runner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$RUN_AS" -- "$@"
    else
        "$@"
    fi
}

running() {
    [ -f "$dir/pgbouncer.pid" ] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null
}

free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                      LocalPort => 0, ReuseAddr => 1) or exit 1;
        print $s->sockport, "\n";'
}

do_start() {
    [ $# -eq 1 ] || usage
    url=$1
    if running && [ -f "$dir/env" ]; then
        cat "$dir/env"
        return 0
    fi
    command -v pgbouncer >/dev/null 2>&1 ||
        die "pgbouncer is not installed; install it with scripts/deps.sh"
    # postgresql://USER@HOST:PORT/DB (no password: the test server trusts).
    rest=${url#postgresql://}
    [ "$rest" != "$url" ] || die "PGURL must start with postgresql:// (got '$url')"
    user=${rest%%@*}
    rest=${rest#*@}
    hostport=${rest%%/*}
    db=${rest#*/}
    db=${db%%\?*}
    host=${hostport%:*}
    port=${hostport##*:}
    [ -n "$user" ] && [ -n "$host" ] && [ -n "$port" ] && [ -n "$db" ] ||
        die "cannot read USER@HOST:PORT/DB from '$url'"
    if [ "$(id -u)" -eq 0 ] && ! id "$RUN_AS" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$RUN_AS" ||
            die "cannot create the system user $RUN_AS"
    fi
    mkdir -p "$dir"
    tries=0
    while :; do
        tries=$((tries + 1))
        lport=$(free_port) || die "cannot find a free TCP port (perl IO::Socket::INET)"
        cat >"$dir/userlist.txt" <<EOF
"$user" ""
EOF
        cat >"$dir/pgbouncer.ini" <<EOF
[databases]
$db = host=$host port=$port dbname=$db

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $lport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 5
max_client_conn = 2000
max_db_connections = 5
server_lifetime = 3600
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = $user
EOF
        [ "$(id -u)" -eq 0 ] && chown -R "$RUN_AS" "$dir"
        rm -f "$dir/pgbouncer.pid"
        if as_runner pgbouncer -d "$dir/pgbouncer.ini" >>"$dir/start.log" 2>&1; then
            # Wait until it answers (it connects to the server lazily).
            i=0
            while [ $i -lt 100 ]; do
                if psql "postgresql://$user@127.0.0.1:$lport/$db" -Atqc 'SELECT 1' \
                        >/dev/null 2>&1; then
                    echo "CALX_TEST_PGBOUNCER_URL=postgresql://$user@127.0.0.1:$lport/$db" \
                        >"$dir/env"
                    cat "$dir/env"
                    return 0
                fi
                i=$((i + 1))
                sleep 0.1
            done
        fi
        if running; then
            kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
        fi
        if [ "$tries" -ge 5 ]; then
            tail -20 "$dir/pgbouncer.log" "$dir/start.log" >&2 2>/dev/null || true
            die "pgbouncer did not start (log: $dir/pgbouncer.log)"
        fi
        sleep 0.2
    done
}

do_stop() {
    [ -d "$dir" ] || return 0
    if running; then
        pid=$(cat "$dir/pgbouncer.pid")
        kill -INT "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

case "$cmd" in
    start) shift 2; do_start "$@" ;;
    stop) do_stop ;;
    *) usage ;;
esac
