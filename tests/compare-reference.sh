#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs an example on a fresh SQLite file and compares the steps it names
# with the same steps of a reference log that SQLModel + SQLAlchemy
# printed (tests/reference/*.echo.txt, copies of ../shared/reference/): the SQL echoed, its
# parameters and the rows printed must read the same, line for line. Only
# what cannot match is rewritten first: the logger's name (calx.engine
# for sqlalchemy.engine) and the timing badges ("[generated in ...]",
# "[cached since ...]"), and blank lines (the last step of a log has no
# blank line after it). A step whose SQL calx sends differently on purpose
# (several rows in one execute-many, no reload of an expired object before
# a write) is not compared; the statements that matter in it are named with
# --has "LINE": the program's log must have that line.
#   tests/compare-reference.sh DIR PROGRAM REFERENCE "STEP TITLE"... [--has "LINE"]...
set -eu
dir=$1
prog=$2
ref=$3
shift 3
mkdir -p "$dir"
cd "$dir"
rm -f ./*.db ./*.db-wal ./*.db-shm ./*.db-journal
"$prog" >out.txt 2>&1 || { cat out.txt; echo "$prog exited with $?"; exit 1; }

# normalize: a log with the logger's name and the badges rewritten.
normalize() {
    sed -e 's/^INFO calx\.engine\.Engine/INFO sqlalchemy.engine.Engine/' \
        -e 's/\[generated in [^]]*\]/[generated in ...]/' \
        -e 's/\[cached since [^]]*\]/[cached since ...]/' \
        -e 's/\[no key [^]]*\]/[no key ...]/' -e '/^$/d'
}
# section FILE TITLE: the lines of step TITLE ("### TITLE" up to the next
# step), normalized.
section() {
    awk -v t="### $2" '$0 == t { on = 1; next } /^### / { on = 0 } on' "$1" | normalize
}

status=0
while [ $# -gt 0 ]; do
    title=$1
    shift
    if [ "$title" = "--has" ]; then
        line=$1
        shift
        if normalize <out.txt | grep -qxF -- "$line"; then
            echo "compare-reference: has: $line"
        else
            echo "compare-reference: no line reads: $line"
            status=1
        fi
        continue
    fi
    section "$ref" "$title" >want.txt
    section out.txt "$title" >got.txt
    if [ ! -s want.txt ]; then
        echo "compare-reference: the reference has no step '$title'"
        status=1
    elif ! diff -u want.txt got.txt; then
        echo "compare-reference: step '$title' differs (- reference, + $prog)"
        status=1
    else
        echo "compare-reference: '$title': $(wc -l <got.txt) lines as the reference"
    fi
done
exit $status
