#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages named, for scripts/deps.sh and
# scripts/bench-deps.sh (each keeps its own list and finds what is
# missing). Run as root it installs them; run as another user it prints
# the exact apt-get command and fails, instead of a later, vaguer failure.
#   scripts/apt-install.sh WHO PACKAGE...    WHO: the messages' prefix
set -eu

who=$1
shift
[ $# -gt 0 ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "$who: missing Debian packages: $*" >&2
    echo "$who: install them as root with:" >&2
    echo "    apt-get update && apt-get install -y $*" >&2
    exit 1
fi
echo "$who: installing $*" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once when needed.
if ! apt-get install -y -qq "$@" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq "$@"
fi
