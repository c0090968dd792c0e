#!/bin/sh
# SPDX-License-Identifier: MIT
# The floors: core -> driver -> sql -> engine -> orm. A file includes
# headers of its own floor and the floors below, never above: this checks
# every #include "..." in src/ and include/ (make test runs it as the CTest
# test check_floors). A header in include/calx/ belongs to the floor listed
# here; a new header must be added to the list, or the check fails.
#   scripts/check-floors.sh [SOURCE_DIR]
set -eu
root=${1:-.}

# Sets floor to that of a public header (include/calx/NAME): 0 core,
# 2 sql, 3 engine, 4 orm (the driver floor has no public header). The two
# functions set a variable rather than print, so that no line of the scan
# costs a subshell.
header_floor() {
    case "$1" in
        error.h | export.h | log.h | types.h | value.h | loop.h | future.h | task.h | url.h | version.h) floor=0 ;;
        schema.h | sql.h) floor=2 ;;
        engine.h | connection.h | result.h) floor=3 ;;
        model.h | session.h) floor=4 ;;
        *) floor=unknown ;;
    esac
}

# Sets floor to that of a directory of src/.
dir_floor() {
    case "$1" in
        core) floor=0 ;;
        driver) floor=1 ;;
        sql) floor=2 ;;
        engine) floor=3 ;;
        orm) floor=4 ;;
        *) floor=unknown ;;
    esac
}

out=$(mktemp)
trap 'rm -f "$out" "$out.inc" "$out.lines"' EXIT
cd "$root"
for f in $(find src include -name '*.[ch]' | sort); do
    case "$f" in
        src/*/*)
            d=${f#src/}
            dir_floor "${d%%/*}"
            ;;
        include/calx/*) header_floor "${f#include/calx/}" ;;
        include/calx.h) floor=4 ;;  # the umbrella: everything
        *) floor=unknown ;;
    esac
    mine=$floor
    if [ "$mine" = unknown ]; then
        echo "$f: no floor known for this file (add it to scripts/check-floors.sh)" >>"$out"
        continue
    fi
    # "LINE INCLUDED" for each #include "..." of the file.
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" >"$out.inc"
    grep -n '' "$out.inc" >"$out.lines" || true
    while IFS=: read -r n inc; do
        case "$inc" in
            calx/*) header_floor "${inc#calx/}" ;;
            core/* | driver/* | sql/* | engine/* | orm/*) dir_floor "${inc%%/*}" ;;
            *)
                # A header beside the file: a public one from include/calx/,
                # else one of the file's own directory.
                if [ "${f#include/calx/}" != "$f" ]; then
                    header_floor "$inc"
                else
                    floor=$mine
                fi
                ;;
        esac
        if [ "$floor" = unknown ] || [ "$floor" -gt "$mine" ]; then
            echo "$f: includes \"$inc\" (floor $floor) from floor $mine" >>"$out"
        fi
    done <"$out.lines"
done
if [ -s "$out" ]; then
    echo "check-floors: includes that point up a floor (core 0, driver 1, sql 2, engine 3, orm 4):"
    cat "$out"
    exit 1
fi
echo "check-floors: every include points at its own floor or one below"
