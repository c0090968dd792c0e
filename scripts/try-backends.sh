#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds calx with one backend left out, each way round, installs it into a
# temporary prefix and checks what a user of that build meets: the library
# does not load the other backend's client library, calx.pc and the CMake
# package do not ask for it, the backend that was built works, and a URL
# for the one left out is refused with an error naming the CMake option
# that builds it. make test runs this as the CTest test try_backends.
#   scripts/try-backends.sh BUILD_DIR    (its CMake cache names the compiler)
# CALX_TEST_PG_URL, when set, is the server the PostgreSQL-only build
# queries.
set -eu
build=$(cd "${1:?usage: scripts/try-backends.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/calx-try-backends.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
cc=${CC:-cc}
jobs=$(nproc 2>/dev/null || echo 2)

fail() {
    echo "try-backends: $*" >&2
    exit 1
}

# The program: opens the URL in $1 and runs SELECT 40 + 2; prints the
# answer, or the error's message.
cat >"$tmp/main.c" <<'PROG'
#include <stdio.h>
#include <calx.h>

int main(int argc, char **argv)
{
    calx_error err;
    calx_engine *e = calx_create_engine(argv[1], NULL, &err);
    calx_connection *c = NULL;
    calx_result *r = NULL;
    int rc = e ? calx_wait(calx_engine_connect(e, &err), &c, &err) : 1;
    if (rc == 0)
        rc = calx_wait(calx_conn_execute(c, "SELECT 40 + 2", NULL, &err), &r, &err);
    if (rc == 0)
        printf("says %lld\n", (long long)calx_result_scalar(r).u.i);
    else
        printf("error: %s\n", err.message);
    calx_result_free(r);
    calx_conn_close(c);
    calx_engine_free(e);
    calx_loop_free_default();
    return argc > 1 ? 0 : 1;
}
PROG

# try NAME OPTION_OFF LIB_ABSENT MODULE_ABSENT URL_WORKS URL_REFUSED
try() {
    name=$1 off=$2 absent_lib=$3 absent_module=$4 works=$5 refused=$6
    b=$tmp/build-$name
    prefix=$tmp/prefix-$name
    cmake -S "$src" -B "$b" -DCMAKE_BUILD_TYPE=Release -D"$off"=OFF \
        -DCALX_BUILD_TESTS=OFF -DCALX_BUILD_EXAMPLES=OFF >"$tmp/$name.log" 2>&1 &&
        cmake --build "$b" -j "$jobs" >>"$tmp/$name.log" 2>&1 &&
        cmake --install "$b" --prefix "$prefix" >>"$tmp/$name.log" 2>&1 ||
        { tail -30 "$tmp/$name.log" >&2; fail "$name: the build with $off=OFF failed"; }
    lib=$(find "$prefix" -name 'libcalx.so' | head -1)
    pcdir=$(dirname "$(find "$prefix" -name calx.pc | head -1)")
    if readelf -d "$lib" | grep -q "NEEDED.*$absent_lib"; then
        fail "$name: libcalx.so still loads $absent_lib"
    fi
    if grep '^Requires' "$pcdir/calx.pc" | grep -q "$absent_module" ||
        grep '^foreach(calx_dep' "$(dirname "$lib")/cmake/calx/calxConfig.cmake" |
        grep -q "$absent_module"; then
        fail "$name: calx.pc or calxConfig.cmake still asks for $absent_module"
    fi
    # shellcheck disable=SC2046 # pkg-config's flags are meant to split
    $cc -o "$tmp/app-$name" "$tmp/main.c" \
        $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs calx) \
        -Wl,-rpath,"$(dirname "$lib")" || fail "$name: a program does not build against it"
    got=$("$tmp/app-$name" "$refused")
    case "$got" in
    *"built without"*"$off=OFF"*) ;;
    *) fail "$name: $refused gave '$got', not the error naming $off" ;;
    esac
    echo "try-backends: $name: $refused refused ($got)"
    if [ -n "$works" ]; then
        got=$("$tmp/app-$name" "$works")
        [ "$got" = "says 42" ] || fail "$name: $works gave '$got'"
        echo "try-backends: $name: $works works"
    fi
}

try sqlite-only CALX_WITH_POSTGRESQL libpq libpq "sqlite://" "postgresql://u@127.0.0.1/db"
try postgresql-only CALX_WITH_SQLITE libsqlite3 sqlite3 "${CALX_TEST_PG_URL:-}" "sqlite://"
