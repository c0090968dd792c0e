#!/bin/sh
# SPDX-License-Identifier: MIT
# The shared library exports exactly the functions include/calx/ declares
# with CALX_API: nothing internal leaks into its dynamic symbol table, and
# no public function was left unmarked (a program linking the .so would
# not find it). make test runs this as the CTest test check_exports.
#   scripts/check-exports.sh SOURCE_DIR LIBRARY.so
set -eu
src=$1
lib=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Names the library defines for the dynamic linker, less the linker's own
# (_init, _edata, ...) and the toolchain's, which start with '_'.
nm -D --defined-only "$lib" | awk '{ print $NF }' | grep -v '^_' | sort -u >"$tmp/exported"
# Names the public headers declare: "CALX_API type name(" (the name may
# follow a '*').
sed -n 's/^CALX_API .*[ *]\(calx_[A-Za-z0-9_]*\)(.*/\1/p' "$src"/include/calx/*.h | sort -u >"$tmp/declared"
leaked=$(comm -23 "$tmp/exported" "$tmp/declared")
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
if [ -n "$leaked" ] || [ -n "$missing" ]; then
    [ -z "$leaked" ] || printf 'exported but not declared with CALX_API in include/calx/:\n%s\n' "$leaked"
    [ -z "$missing" ] || printf 'declared with CALX_API but not exported (no definition?):\n%s\n' "$missing"
    exit 1
fi
echo "check-exports: $(wc -l <"$tmp/exported") functions exported, each declared in include/calx/"
