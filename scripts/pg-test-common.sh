# SPDX-License-Identifier: MIT
# What the test-server scripts share (sourced by scripts/pg-test-server.sh
# and scripts/pg-test-cluster.sh, which set RUN_AS and die() first): the
# server binaries, running them as the server's user when started by root,
# and a free loopback port.

# The server binaries: pg_config's BINDIR, else the newest Debian install.
find_bindir() {
    if command -v pg_config >/dev/null 2>&1; then
        b=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$b" ] && [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; then
            echo "$b"
            return
        fi
    fi
    for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; then
            echo "$b"
            return
        fi
    done
    die "no PostgreSQL server binaries (initdb, pg_ctl) found; install them with scripts/deps.sh"
}
BIN=$(find_bindir)

# Runs a command as the server's user (root hands it to RUN_AS).
as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$RUN_AS" -- "$@"
    else
        "$@"
    fi
}

ensure_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    if ! id "$RUN_AS" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$RUN_AS" ||
            die "cannot create the system user $RUN_AS to run the server as"
    fi
}

# A TCP port nobody listens on now, picked by the kernel.
free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                      LocalPort => 0, ReuseAddr => 1) or exit 1;
        print $s->sockport, "\n";'
}

