#!/bin/sh
# SPDX-License-Identifier: MIT
# The C code of the README (and of the docs pages: scripts/check-docs.sh
# passes them) cannot rot: the README's "A taste" is compiled and run by
# make test (CMakeLists.txt cuts it out), and every other C block is an
# excerpt of a file of the tree, named on the line before it:
#     <!-- excerpt of examples/libuv_loop.c -->
# a program make test builds and runs, or a public header the library is
# built from (<!-- excerpt of include/calx/future.h --> before a
# declaration). Its lines must appear in that file in the same order
# (comments, spacing and the lines the excerpt leaves out aside). CTest
# runs this as check_readme_code, on the README alone.
#   scripts/check-readme-code.sh SOURCE_DIR [PAGE.md ...]
# (pages relative to SOURCE_DIR; README.md when none are named)
set -eu
src=$1
shift
[ "$#" -gt 0 ] || set -- README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# norm: code lines without comments (/* */, over several lines too, and
# //), without a macro's line-ending backslash and without the CALX_API
# that starts a public declaration (the docs leave it out), blanks
# squeezed, empty lines dropped.
norm() {
    awk '{
        line = $0; out = ""
        while (line != "") {
            if (incomment) {
                i = index(line, "*/")
                if (!i) { line = ""; break }
                line = substr(line, i + 2); incomment = 0
            } else {
                i = index(line, "/*")
                if (!i) { out = out line; line = ""; break }
                out = out substr(line, 1, i - 1); line = substr(line, i + 2); incomment = 1
            }
        }
        sub(/\/\/.*/, "", out)
        sub(/\\$/, "", out)
        sub(/^CALX_API /, "", out)
        gsub(/[ \t]+/, " ", out); sub(/^ /, "", out); sub(/ $/, "", out)
        if (out != "") print out
    }' "$1"
}

status=0
for page in "$@"; do
    rm -f "$tmp"/*.c "$tmp"/*.src "$tmp"/*.line
    # Cut the blocks out: block N's text to $tmp/N.c, its source to
    # $tmp/N.src, the line its fence opens on to $tmp/N.line.
    awk -v dir="$tmp" '
        /^## / { section = $0 }
        /^<!-- excerpt of .* -->$/ { from = $4; next }
        /^```c$/ { n++; inblock = 1; taste = (section == "## A taste")
                   if (!taste) {
                       print (from == "" ? "-" : from) > (dir "/" n ".src")
                       print FNR > (dir "/" n ".line")
                   }
                   from = ""; next }
        /^```$/ && inblock { inblock = 0; next }
        inblock && !taste { print > (dir "/" n ".c") }
        !/^[[:space:]]*$/ && !inblock { from = (/^<!-- excerpt/ ? from : "") }
    ' "$src/$page"

    for s in "$tmp"/*.src; do
        [ -e "$s" ] || continue
        n=$(basename "$s" .src)
        file=$(cat "$s")
        at="$page:$(cat "$tmp/$n.line")"
        if [ "$file" = "-" ]; then
            echo "$at: C block $n names no source: put '<!-- excerpt of examples/NAME.c -->' (or of include/calx/NAME.h) before it"
            status=1
            continue
        fi
        if [ ! -f "$src/$file" ]; then
            echo "$at: C block $n is an excerpt of $file, which does not exist"
            status=1
            continue
        fi
        norm "$tmp/$n.c" >"$tmp/want"
        norm "$src/$file" >"$tmp/have"
        # Each wanted line in order, somewhere after the one before.
        missing=$(awk 'NR == FNR { have[++nh] = $0; next }
                       { while (++at <= nh && have[at] != $0) ; if (at > nh) { print; exit } }' \
                  "$tmp/have" "$tmp/want")
        if [ -n "$missing" ]; then
            echo "$at: C block $n is not in $file (in that order) from this line on: $missing"
            status=1
        fi
    done
done
[ "$status" -eq 0 ] && echo "check-readme-code: every C block of $* is an excerpt of a file make test builds"
exit $status
