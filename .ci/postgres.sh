# A private PostgreSQL for the tests: sourced by .ci/run, or by hand to run the PostgreSQL tests
# locally:
#
#     source .ci/postgres.sh && pg_start && cargo test --workspace; pg_stop
#
# pg_start installs PostgreSQL from Debian's packages if it is missing, creates a cluster in a
# temporary folder (initdb, as the current user, or as `postgres` when run as root, which initdb
# refuses), starts it on 127.0.0.1 on a free port and exports CIDATA_TEST_POSTGRES, the URL of a
# superuser the tests create their databases with. pg_stop stops it and removes the folder.

pg_bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_install() {
    if [ -n "$(pg_bin_dir)" ]; then
        return 0
    fi
    echo "installing PostgreSQL from Debian's packages"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    # Installing the package may start Debian's own cluster on 5432; ours takes another port.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    [ -n "$(pg_bin_dir)" ]
}

# Runs a PostgreSQL program as the cluster's owner.
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    pg_install || { echo "PostgreSQL could not be installed" >&2; return 1; }
    local bin
    bin=$(pg_bin_dir)
    PG_TEST_DIR=$(mktemp -d)
    export PG_TEST_DIR
    local password
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    echo "$password" >"$PG_TEST_DIR/pwfile"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres "$PG_TEST_DIR"
    fi
    pg_as_owner "$bin/initdb" -D "$PG_TEST_DIR/data" -U ci_sync --auth=scram-sha-256 \
        --pwfile="$PG_TEST_DIR/pwfile" -E UTF8 --locale=C.UTF-8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 \
        || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
    rm -f "$PG_TEST_DIR/pwfile"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # Durability is not under test here: fsync off keeps the tests quick on a slow disk.
    pg_as_owner "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEST_DIR -c fsync=off -c max_connections=200" \
        start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
    export CIDATA_TEST_POSTGRES="postgres://ci_sync:$password@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (CIDATA_TEST_POSTGRES is set)"
}

pg_stop() {
    if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR/data" ]; then
        pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1
        rm -rf "$PG_TEST_DIR"
    fi
    unset CIDATA_TEST_POSTGRES PG_TEST_DIR
}
