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
cd "$src"

# One awk for every page: each source is read and normalised once.
# Normalised lines are code without comments (/* */, over several lines
# too, and //), without a macro's line-ending backslash and without the
# CALX_API that starts a public declaration (the docs leave it out),
# blanks squeezed; empty lines are dropped.
awk '
    function norm(line,    out, i) {
        out = ""
        while (line != "") {
            if (incomment) {
                i = index(line, "*/")
                if (!i)
                    break
                line = substr(line, i + 2); incomment = 0
            } else {
                i = index(line, "/*")
                if (!i) {
                    out = out line
                    break
                }
                out = out substr(line, 1, i - 1); line = substr(line, i + 2); incomment = 1
            }
        }
        sub(/\/\/.*/, "", out)
        sub(/\\$/, "", out)
        gsub(/[ \t]+/, " ", out); sub(/^ /, "", out); sub(/ $/, "", out)
        sub(/^CALX_API /, "", out)
        return out
    }
    # Reads file (once) into have[file, 1 .. nhave[file]]; false when it
    # does not exist.
    function load(file,    line, n, s, rc) {
        if (file in nhave)
            return nhave[file] >= 0
        n = 0; incomment = 0
        while ((rc = (getline line < file)) > 0)
            if ((s = norm(line)) != "")
                have[file, ++n] = s
        close(file)
        nhave[file] = (rc < 0 && n == 0) ? -1 : n
        return nhave[file] >= 0
    }
    function check(    at, j, where) {
        where = FILENAME ":" fence ": C block " nblock
        if (from == "") {
            printf "%s names no source: put <!-- excerpt of examples/NAME.c --> (or of include/calx/NAME.h) before it\n", where
            bad = 1
            return
        }
        if (!load(from)) {
            printf "%s is an excerpt of %s, which does not exist\n", where, from
            bad = 1
            return
        }
        # Each wanted line in order, somewhere after the one before.
        at = 0
        for (j = 1; j <= nwant; j++) {
            while (++at <= nhave[from] && have[from, at] != want[j])
                ;
            if (at > nhave[from]) {
                printf "%s is not in %s (in that order) from this line on: %s\n", where, from, want[j]
                bad = 1
                return
            }
        }
    }
    FNR == 1 { section = ""; from = ""; inblock = 0; nblock = 0 }
    /^## / { section = $0 }
    /^<!-- excerpt of .* -->$/ { from = $4; next }
    /^```c$/ {
        nblock++; inblock = 1; taste = (section == "## A taste")
        fence = FNR; nwant = 0; incomment = 0
        next
    }
    /^```$/ && inblock {
        inblock = 0
        if (!taste)
            check()
        from = ""
        next
    }
    inblock && !taste { if ((s = norm($0)) != "") want[++nwant] = s; next }
    !/^[[:space:]]*$/ && !inblock { from = "" }
    END { exit bad }
' "$@" || exit 1
echo "check-readme-code: every C block of $* is an excerpt of a file make test builds"
