#!/bin/sh
# SPDX-License-Identifier: MIT
# Every public function has a comment: each CALX_API declaration in
# include/calx/ comes after a comment (its contract: errors, ownership,
# NULL), with nothing between but blank lines, other CALX_API declarations
# that one comment covers together (calx_session_add and
# calx_session_add_all), and the typedef that comment also describes
# (calx_objlist and calx_objlist_free). make test runs this as the CTest
# test check_public_comments.
#   scripts/check-public-comments.sh SOURCE_DIR
set -eu
src=$1
status=0
for h in "$src"/include/calx/*.h; do
    awk -v file="${h#"$src"/}" '
        { line[NR] = $0 }
        # The lines of a declaration: from CALX_API to its ";".
        /^CALX_API / { indecl = 1; first[NR] = 1 }
        { decl[NR] = indecl }
        indecl && /;/ { indecl = 0 }
        # A typedef, to its ";" at depth 0: its closing "} name;" line, or
        # its own line when it has no braces or closes them there
        # ("typedef struct calx_opt_uuid { ... } calx_opt_uuid;").
        /^typedef / { intype = 1 }
        { skip[NR] = decl[NR] || intype || $0 ~ /^[ \t]*$/ }
        intype && (/^}.*;/ || /^typedef [^{]*;/ || /^typedef [^{]*\{.*\}[^}]*;/) { intype = 0 }
        END {
            for (i = 1; i <= NR; i++) {
                if (!first[i])
                    continue
                j = i - 1
                while (j > 0 && skip[j])
                    j--
                if (j == 0 || line[j] !~ /\*\/[ \t]*$/) {
                    name = line[i]
                    sub(/\(.*/, "", name)
                    sub(/.*[ *]/, "", name)
                    printf "%s:%d: %s has no comment\n", file, i, name
                    bad = 1
                }
            }
            exit bad
        }' "$h" || status=1
done
if [ "$status" -ne 0 ]; then
    echo "check-public-comments: say what each function above does, returns and owns, and what NULL does"
    exit 1
fi
echo "check-public-comments: every CALX_API declaration in include/calx/ has its comment"
