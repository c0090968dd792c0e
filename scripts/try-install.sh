#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs calx from a finished build into a temporary prefix and builds a
# small program against it the ways a user would: pkg-config (shared, and
# --static against libcalx.a), find_package(calx) in a throwaway CMake
# project (calx::calx and calx::calx_static), and add_subdirectory of the
# source tree. Each program prints calx_version_string() and opens an
# in-memory SQLite engine; the output is checked. make test runs it (the
# CTest test try_install). Needs no network; removes what it made.
#   scripts/try-install.sh BUILD_DIR
set -eu
build=$(cd "${1:?usage: scripts/try-install.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/calx-try-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A CTest timeout sends TERM: leave through the EXIT trap all the same.
trap 'exit 1' HUP INT TERM
prefix=$tmp/prefix

fail() {
    echo "try-install: $*" >&2
    exit 1
}

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }
pcdir=$(dirname "$(find "$prefix" -name calx.pc)")
[ -f "$pcdir/calx.pc" ] || fail "no calx.pc installed"

# The program: the version, then a real query on an in-memory database,
# so that the libraries calx needs are linked and loaded, not just named.
mkdir "$tmp/app"
cat >"$tmp/app/main.c" <<'PROG'
#include <stdio.h>
#include <calx.h>

int main(void)
{
    calx_error err;
    printf("calx %s\n", calx_version_string());
    if (calx_version() != CALX_VERSION_HEX) {
        fprintf(stderr, "headers %s, library %s\n", CALX_VERSION, calx_version_string());
        return 1;
    }
    calx_engine *e = calx_create_engine("sqlite://", NULL, &err);
    calx_connection *c = NULL;
    calx_result *r = NULL;
    int rc = e ? calx_wait(calx_engine_connect(e, &err), &c, &err) : 1;
    if (rc == 0)
        rc = calx_wait(calx_conn_execute(c, "SELECT 40 + 2", NULL, &err), &r, &err);
    if (rc == 0)
        printf("sqlite:// says %lld\n", (long long)calx_result_scalar(r).u.i);
    else
        fprintf(stderr, "%s\n", err.message);
    calx_result_free(r);
    calx_conn_close(c);
    calx_engine_free(e);
    calx_loop_free_default();
    return rc ? 1 : 0;
}
PROG

# check NAME PROGRAM: runs it and compares its output with the expected.
check() {
    printf 'calx %s\nsqlite:// says 42\n' "$version" >"$tmp/want"
    "$2" >"$tmp/got" 2>"$tmp/err" || { cat "$tmp/err" >&2; fail "$1: the program failed"; }
    cmp -s "$tmp/want" "$tmp/got" || { diff "$tmp/want" "$tmp/got" >&2; fail "$1: wrong output"; }
    echo "try-install: $1: ok ($(paste -sd' ' "$tmp/got"))"
}

export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cc=${CC:-cc}

# 1. pkg-config, shared: the rpath is the user's business; here it finds
# the library in the temporary prefix.
libdir=$(pkg-config --variable=libdir calx)
case "$libdir" in "$prefix"/*) ;; *) fail "calx.pc's libdir $libdir is not under $prefix" ;; esac
# shellcheck disable=SC2046 # pkg-config's flags are meant to split
$cc -o "$tmp/app/pc_shared" "$tmp/app/main.c" $(pkg-config --cflags --libs calx) \
    -Wl,-rpath,"$libdir" || fail "pkg-config shared: the build failed"
readelf -d "$tmp/app/pc_shared" | grep -q 'NEEDED.*libcalx\.so' ||
    fail "pkg-config shared: the program does not load libcalx.so"
check "pkg-config" "$tmp/app/pc_shared"

# The examples are installed as sources that build against the install.
for ex in heroes demo queries; do
    src_ex=$(find "$prefix" -path "*/examples/$ex.c" | head -1)
    [ -n "$src_ex" ] || fail "examples/$ex.c is not installed"
    # shellcheck disable=SC2046
    $cc -o "$tmp/app/ex_$ex" "$src_ex" $(pkg-config --cflags --libs calx) -lm \
        -Wl,-rpath,"$libdir" || fail "the installed examples/$ex.c does not build"
done
echo "try-install: the installed examples build"

# 2. pkg-config --static against libcalx.a: -lcalx becomes the archive
# itself. The dependencies' own private libraries are dropped when this
# machine has none to link (Debian's libpq.pc names -lpgcommon and
# -lpgport, which libpq-dev does not ship); a dependency that links
# shared does not need them.
flags=""
for f in $(pkg-config --static --cflags --libs calx); do
    case "$f" in
    -lcalx) f="$libdir/libcalx.a" ;;
    -l*)
        n=${f#-l}
        if [ "$($cc -print-file-name="lib$n.so")" = "lib$n.so" ] &&
            [ "$($cc -print-file-name="lib$n.a")" = "lib$n.a" ]; then
            echo "try-install: pkg-config --static: no lib$n on this machine, left out"
            continue
        fi
        ;;
    esac
    flags="$flags $f"
done
for need in -luv -lsqlite3 -lpq -lpthread; do
    case " $flags " in *" $need "*) ;; *) fail "pkg-config --static --libs calx lacks $need" ;; esac
done
# shellcheck disable=SC2086
$cc -o "$tmp/app/pc_static" "$tmp/app/main.c" $flags || fail "pkg-config --static: the build failed"
if readelf -d "$tmp/app/pc_static" | grep -q 'NEEDED.*libcalx'; then
    fail "pkg-config --static: the program loads libcalx.so"
fi
check "pkg-config --static" "$tmp/app/pc_static"

# 3. find_package(calx), both targets.
cat >"$tmp/app/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(calx_user LANGUAGES C)
find_package(calx $version REQUIRED)
add_executable(app_shared main.c)
target_link_libraries(app_shared PRIVATE calx::calx)
add_executable(app_static main.c)
target_link_libraries(app_static PRIVATE calx::calx_static)
CM
cmake -S "$tmp/app" -B "$tmp/fp" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/fp.log" 2>&1 &&
    cmake --build "$tmp/fp" -j2 >>"$tmp/fp.log" 2>&1 ||
    { cat "$tmp/fp.log" >&2; fail "find_package(calx): the build failed"; }
check "find_package calx::calx" "$tmp/fp/app_shared"
check "find_package calx::calx_static" "$tmp/fp/app_static"

# 4. add_subdirectory of the source tree: calx is not the top project, so
# its tests and examples stay out (only the library is built here).
mkdir "$tmp/sub"
cp "$tmp/app/main.c" "$tmp/sub/"
cat >"$tmp/sub/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(calx_embedder LANGUAGES C)
add_subdirectory("$src" calx)
if(TARGET test_version OR TARGET heroes)
  message(FATAL_ERROR "calx built its tests or examples inside another project")
endif()
add_executable(app_shared main.c)
target_link_libraries(app_shared PRIVATE calx::calx)
add_executable(app_static main.c)
target_link_libraries(app_static PRIVATE calx::calx_static)
CM
cmake -S "$tmp/sub" -B "$tmp/sb" >"$tmp/sb.log" 2>&1 &&
    cmake --build "$tmp/sb" -j2 --target app_shared app_static >>"$tmp/sb.log" 2>&1 ||
    { cat "$tmp/sb.log" >&2; fail "add_subdirectory(calx): the build failed"; }
check "add_subdirectory calx::calx" "$tmp/sb/app_shared"
check "add_subdirectory calx::calx_static" "$tmp/sb/app_static"
echo "try-install: calx $version installs and links every way"
