#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's C code cannot rot: "A taste" is compiled and run by make
# test (CMakeLists.txt cuts it out), and every other C block is an excerpt
# of a program make test builds and runs, named on the line before it:
#     <!-- excerpt of examples/libuv_loop.c -->
# Its lines must appear in that file in the same order (comments, spacing
# and the lines the excerpt leaves out aside). CTest runs this as
# check_readme_code.
#   scripts/check-readme-code.sh SOURCE_DIR
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# norm: code lines without /* */ comments (one-line ones, and the
# continuation lines of longer ones), blanks squeezed, empty lines dropped.
norm() {
    sed -e 's|/\*.*\*/||g' -e 's|^[[:space:]]*\*.*||' -e 's|//.*||' \
        -e 's/[[:space:]]\{1,\}/ /g' -e 's/^ //' -e 's/ $//' "$1" | grep -v '^$' || true
}

# Cut the blocks out: block N's text to $tmp/N.c, its source to $tmp/N.src.
awk -v dir="$tmp" '
    /^## / { section = $0 }
    /^<!-- excerpt of .* -->$/ { from = $4; next }
    /^```c$/ { n++; inblock = 1; taste = (section == "## A taste")
               if (!taste) print (from == "" ? "-" : from) > (dir "/" n ".src")
               from = ""; next }
    /^```$/ && inblock { inblock = 0; next }
    inblock && !taste { print > (dir "/" n ".c") }
    !/^[[:space:]]*$/ && !inblock { from = (/^<!-- excerpt/ ? from : "") }
' "$src/README.md"

status=0
for s in "$tmp"/*.src; do
    [ -e "$s" ] || continue
    n=$(basename "$s" .src)
    file=$(cat "$s")
    if [ "$file" = "-" ]; then
        echo "README.md: C block $n names no program: put '<!-- excerpt of examples/NAME.c -->' before it"
        status=1
        continue
    fi
    if [ ! -f "$src/$file" ]; then
        echo "README.md: C block $n is an excerpt of $file, which does not exist"
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
        echo "README.md: C block $n is not in $file (in that order) from this line on: $missing"
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "check-readme-code: every C block of the README is built and run by make test"
exit $status
