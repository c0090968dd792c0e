#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file says its licence in its first lines (after a #! line),
# as "SPDX-License-Identifier: MIT" (LICENSE has the text). make test runs
# this as the CTest test check_spdx; it names each file that lacks it.
# node_modules folders (bench/mikroorm's, installed by bench-deps.sh) hold
# npm's packages, not calx's sources, and are skipped.
#   scripts/check-spdx.sh [SOURCE_DIR]
set -eu
cd "${1:-.}"
missing=$(find src include tests examples bench fuzz scripts cmake .ci \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' -o -name '*.cmake' \
    -o -name '*.in' -o -name '*.gp' -o -name CMakeLists.txt -o -name run \) \
    ! -path '*/corpus/*' ! -path '*/node_modules/*' -print 2>/dev/null | sort |
    while read -r f; do
        head -2 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
    done)
for f in CMakeLists.txt Makefile calx.pc.in; do
    head -2 "$f" | grep -q 'SPDX-License-Identifier: MIT' || missing="$missing $f"
done
if [ -n "$missing" ]; then
    echo "check-spdx: no SPDX-License-Identifier line at the top of:"
    printf '  %s\n' $missing
    exit 1
fi
echo "check-spdx: every source file names its licence (MIT)"
