#!/bin/sh
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL server for the benchmark run.
#
#   bench/pg-server.sh start DIR   initdb in DIR/data, start on 127.0.0.1 (a free
#                                  port) and a unix socket in DIR, create the
#                                  database calx_test; print and write DIR/env:
#                                  CALX_TEST_PG_URL=postgresql://calx@127.0.0.1:PORT/calx_test
#   bench/pg-server.sh stop DIR    stop it (DIR is left for the caller to remove)
#
# A minimal stand-in for the shared scripts/pg-test-server.sh (same interface);
# bench/run.sh uses that one when it is in the tree. fsync is off: the data is
# thrown away after the run, and no case measures the disk.
#
# PostgreSQL refuses to run as root, so as root the server runs as `nobody`
# (DIR is handed to it); as any other user it runs as that user.
set -eu

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ]; then
    echo "pg-server: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2
    echo "pg-server: install them with: apt-get install -y postgresql (or run scripts/bench-deps.sh)" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    runas() { runuser -u nobody -- "$@"; }
else
    runas() { "$@"; }
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -e "$dir/data" ]; then
        echo "pg-server: $dir/data exists; stop and remove it first" >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        chown nobody:nogroup "$dir"
        if ! runuser -u nobody -- test -w "$dir"; then
            echo "pg-server: user nobody cannot write $dir (is a parent directory closed to others?)" >&2
            exit 1
        fi
    fi
    runas "$bindir/initdb" -D "$dir/data" -U calx --auth=trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    tries=0
    while :; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
        if runas "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" \
            start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ $tries -ge 10 ]; then
            echo "pg-server: the server did not start; its log:" >&2
            cat "$dir/server.log" >&2
            exit 1
        fi
    done
    runas "$bindir/createdb" -h "$dir" -p "$port" -U calx calx_test
    url="postgresql://calx@127.0.0.1:$port/calx_test"
    echo "CALX_TEST_PG_URL=$url" >"$dir/env"
    echo "CALX_TEST_PG_URL=$url"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        runas "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
*)
    usage
    ;;
esac
