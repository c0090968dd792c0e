#!/bin/sh
# SPDX-License-Identifier: MIT
# The reference pages in docs/ cannot drift from the headers. make docs
# runs this, and make test as the CTest test check_docs. It checks:
#   1. every public name of include/calx/*.h is in some docs page, inside
#      inline code (`name` or `name(...)`): the functions (CALX_API
#      declarations and static inline ones), the macros (CALX_* and
#      calx_*), the typedefs and the enum constants. Include guards and
#      names with "__" in them (CALX__OUT, CALX_ERR__COUNT: internals) are
#      not public. A missing one is reported with its header and the page
#      that covers that header (the page's "Headers:" line);
#   2. every calx_* / CALX_* word the pages say (docs/architecture.md
#      aside: it describes the internals) is declared in include/calx/,
#      or is a build option or an exported target (calx::calx_static) of
#      CMakeLists.txt, so that a renamed or removed function fails here; a
#      word followed by '*' or '<' (calx_opt_*, calx_<kind>_error) must
#      begin some name of the headers;
#   3. every C block of a page is an excerpt of a file of the tree (an
#      example, a test, a header), as the README's are
#      (scripts/check-readme-code.sh);
#   4. docs/README.md links every page, and every relative link of a page
#      leads to a file that exists.
#   scripts/check-docs.sh SOURCE_DIR
set -eu
src=$1
cd "$src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# ---- the public names: "name header" per line ----
for h in include/calx/*.h; do
    awk -v file="$h" '
        function emit(name) {
            if (name ~ /^(calx|CALX)_/ && name !~ /__/ && !(name in guard))
                print name, file
        }
        # The name of a declaration: the word before its first "(".
        function declared(line) {
            sub(/\(.*/, "", line)
            sub(/.*[ *]/, "", line)
            return line
        }
        /^#ifndef CALX_[A-Z_]*_H$/ { guard[$2] = 1 }
        /^CALX_API / || /^static inline / { emit(declared($0)) }
        /^#define [A-Za-z_]/ { name = $2; sub(/\(.*/, "", name); emit(name) }
        # typedefs on one line: "typedef struct calx_loop calx_loop;",
        # "typedef int64_t calx_timestamp;", "typedef struct x { ... } x;",
        # and function pointers "typedef void (*calx_log_fn)(...);".
        /^typedef .*\(\*calx_[a-z0-9_]*\)/ {
            name = $0; sub(/^[^(]*\(\*/, "", name); sub(/\).*/, "", name); emit(name); next
        }
        /^typedef [^{]*;/ || /^typedef .*}.*;/ {
            name = $0; sub(/.*}/, "", name); sub(/;.*/, "", name); sub(/.*[ *]/, "", name)
            emit(name)
        }
        # typedefs over several lines end in "} name;"; an enum names its
        # constants one per line.
        /^typedef enum/ && !/}/ { inenum = 1; next }
        inenum && /^[ \t]+CALX_[A-Z0-9_]*/ { name = $1; sub(/[^A-Z0-9_].*/, "", name); emit(name) }
        /^} *calx_[a-z0-9_]* *;/ { inenum = 0; name = $0; sub(/^} */, "", name); sub(/ *;.*/, "", name); emit(name) }
    ' "$h"
done | sort -u >"$tmp/public"

# The header each page covers, from its "Headers:" line: "header page".
for p in docs/*.md; do
    grep -E '^Headers?:' "$p" | grep -oE 'calx/[a-z_]+\.h' | sed "s|^|include/|; s|\$| $p|" || true
done >"$tmp/covers"

# Every name of inline code (outside ``` blocks) of every page.
awk '
    /^```/ { fenced = !fenced; next }
    !fenced {
        line = $0
        while (match(line, /`[^`]+`/)) {
            span = substr(line, RSTART + 1, RLENGTH - 2)
            line = substr(line, RSTART + RLENGTH)
            while (match(span, /(calx|CALX)_[A-Za-z0-9_]*/)) {
                print substr(span, RSTART, RLENGTH)
                span = substr(span, RSTART + RLENGTH)
            }
        }
    }' docs/*.md | sort -u >"$tmp/documented"

# ---- 1. every public name documented ----
missing=$(awk 'NR == FNR { doc[$1] = 1; next } !($1 in doc)' "$tmp/documented" "$tmp/public")
if [ -n "$missing" ]; then
    echo "$missing" | while read -r name header; do
        page=$(awk -v h="$header" '$1 == h { print $2; exit }' "$tmp/covers")
        if [ -n "$page" ]; then
            echo "check-docs: $name ($header) is in no docs page: add \`$name\` with its contract to $page, the page for $header"
        else
            echo "check-docs: $name ($header) is in no docs page, and no page covers $header: add it to the page of its concept (with \`${header#include/}\` on the page's 'Headers:' line), or make a new page and link it from docs/README.md"
        fi
    done
    status=1
fi

# ---- 2. every name the pages say exists ----
grep -ohE '(calx|CALX)_[A-Za-z0-9_]*' include/calx.h include/calx/*.h | sort -u >"$tmp/declared"
sed -n -e 's/^option(\(CALX_[A-Z0-9_]*\) .*/\1/p' \
    -e 's/^add_library(calx::\(calx_[a-z0-9_]*\) ALIAS.*/\1/p' CMakeLists.txt >>"$tmp/declared"
for p in docs/*.md; do
    [ "$p" = docs/architecture.md ] && continue
    awk -v page="$p" '
        NR == FNR { known[$1] = 1; n = length($1)
                    for (i = 5; i <= n; i++) prefix[substr($1, 1, i)] = 1
                    next }
        {
            line = $0
            while (match(line, /(^|[^A-Za-z0-9_.\/-])(calx|CALX)_[A-Za-z0-9_]*/)) {
                word = substr(line, RSTART, RLENGTH)
                sub(/^[^cC]/, "", word)
                next_char = substr(line, RSTART + RLENGTH, 1)
                line = substr(line, RSTART + RLENGTH)
                if (next_char == "*" || next_char == "<") {
                    if (!(word in prefix))
                        printf "check-docs: %s:%d: no name in include/calx/ begins with %s (the pattern %s%s...)\n", page, FNR, word, word, next_char
                } else if (!(word in known)) {
                    printf "check-docs: %s:%d: %s is not declared in include/calx/ (renamed or removed? name what the headers declare now)\n", page, FNR, word
                }
            }
        }' "$tmp/declared" "$p"
done >"$tmp/unknown"
if [ -s "$tmp/unknown" ]; then
    cat "$tmp/unknown"
    status=1
fi

# ---- 3. every C block an excerpt ----
# shellcheck disable=SC2046
if ! sh scripts/check-readme-code.sh . $(ls docs/*.md) >"$tmp/code"; then
    sed 's/^/check-docs: /' "$tmp/code"
    status=1
fi

# ---- 4. the index links every page; links lead somewhere ----
for p in docs/*.md; do
    [ "$p" = docs/README.md ] && continue
    grep -q "](${p#docs/})" docs/README.md ||
        { echo "check-docs: docs/README.md does not link ${p#docs/}"; status=1; }
done
for p in docs/*.md; do
    grep -oE '\]\([^)#]+' "$p" | sed 's/^](//' | grep -vE '^[a-z]+:' | sort -u |
        while read -r target; do
            [ -e "docs/$target" ] || echo "check-docs: $p links $target, which does not exist"
        done
done >"$tmp/links"
if [ -s "$tmp/links" ]; then
    cat "$tmp/links"
    status=1
fi

if [ "$status" -ne 0 ]; then
    echo "check-docs: the pages in docs/ differ from include/calx/ (see above); the headers' comments are the contracts to copy"
    exit 1
fi
echo "check-docs: the $(wc -l <"$tmp/public") public names of include/calx/ are each in docs/ ($(ls docs/*.md | wc -l) pages); every calx name the pages say is declared, every C block is an excerpt, every link leads somewhere"
