#!/bin/sh
# SPDX-License-Identifier: MIT
# One home per database: which database calx talks to is decided in its
# dialect file (src/sql/dialect_<db>.c) and its driver (src/driver/), read
# everywhere else through calx_dialect's fields and hooks and the registry
# (src/engine/registry.c), never by testing a name, an id or the
# paramstyle. And all SQL text is built in src/sql/. This checks both
# over src/ and include/ (make test runs it as the CTest test
# check_dialect_homes); it fails naming file:line. Comment lines are not
# read; tests/ and examples/ are out of its scope.
#   scripts/check-dialect-homes.sh [SOURCE_DIR]
set -eu
root=${1:-.}
cd "$root"

# Files that may name a database: its dialect, its driver (every file of
# src/driver/ but the ones all drivers share), the paramstyle's one reader
# (text.c writes $n or ?).
allowed_db() {
    case "$1" in
        src/sql/dialect.h | src/sql/dialect.c | src/sql/dialect_*.c) return 0 ;;
        src/driver/driver.[ch] | src/driver/rowset.[ch] | src/driver/sqlscan.[ch]) return 1 ;;
        src/driver/*) return 0 ;;
        src/sql/text.[ch]) return 0 ;;
    esac
    return 1
}

# Files outside src/sql/ that may still write INSERT / UPDATE / DELETE text.
allowed_dml() {
    return 1
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Prints "file:line: what" for each code line of the files matching the
# extended regular expression re: one grep over all of them.
scan() {
    re=$1 what=$2
    shift 2
    [ $# -gt 0 ] || return 0
    grep -nHE "$re" "$@" | grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*|//)' |
        cut -d: -f1,2 | sed "s|\$|: $what|" >>"$out" || true
}

db_files=""
dml_files=""
for f in $(find src include -name '*.[ch]' | sort); do
    allowed_db "$f" || db_files="$db_files $f"
    case "$f" in
        src/sql/*) ;;
        *) allowed_dml "$f" || dml_files="$dml_files $f" ;;
    esac
done

# shellcheck disable=SC2086 # the lists are file names without blanks
{
    scan 'str(n)?(case)?cmp[[:space:]]*\(.*"(sqlite|postgres|postgresql)"' \
        "tests a database's name (read a calx_dialect field or hook instead)" $db_files
    scan 'CALX_DIALECT_[A-Z]' "tests a dialect id (read a calx_dialect field or hook instead)" $db_files
    scan 'PARAMSTYLE_' "tests the paramstyle (it says how parameters are written, nothing else; read a capability)" $db_files
    scan 'nextval' "PostgreSQL's sequence SQL (the dialect's sequence_prefetch_sql)" $db_files
    scan '"[^",{}|]*(INSERT INTO|UPDATE |DELETE FROM)' \
        "INSERT / UPDATE / DELETE text outside src/sql/ (build the statement there)" $dml_files
}

if [ -s "$out" ]; then
    echo "check-dialect-homes: database decisions or SQL text outside their homes:"
    cat "$out"
    exit 1
fi
echo "check-dialect-homes: every database decision is in its dialect or driver file, all INSERT / UPDATE / DELETE text in src/sql/"
