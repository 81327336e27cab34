# A private PostgreSQL for the tests: sourced by .ci/run, or by hand to run the PostgreSQL tests
# locally:
#
#     source .ci/postgres.sh && pg_start && cargo test --workspace; pg_stop
#
# pg_start installs PostgreSQL from Debian's packages if it is missing, creates a cluster in a
# temporary folder (initdb, as the current user, or as `postgres` when run as root, which initdb
# refuses), starts it on 127.0.0.1 on a free port, with TLS by a CA of its own, and exports
# CIDATA_TEST_POSTGRES, the URL of a superuser the tests create their databases with, and
# CIDATA_TEST_POSTGRES_CA, the CA's certificate. pg_stop stops it and removes the folder.

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

pg_bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_install() {
    if [ -n "$(pg_bin_dir)" ]; then
        return 0
    fi
    echo "installing PostgreSQL from Debian's packages"
    # Installing the package may start Debian's own cluster on 5432; ours takes another port.
    apt_install postgresql
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
    # TLS with a CA of its own, so that the tests can check that certificates are verified.
    pg_make_certificates "$PG_TEST_DIR" || { echo "could not make the TLS certificates" >&2; return 1; }
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # Durability is not under test here: fsync off keeps the tests quick on a slow disk.
    pg_as_owner "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEST_DIR -c fsync=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$PG_TEST_DIR/server.crt -c ssl_key_file=$PG_TEST_DIR/server.key" \
        start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
    export CIDATA_TEST_POSTGRES="postgres://ci_sync:$password@127.0.0.1:$port/postgres"
    export CIDATA_TEST_POSTGRES_CA="$PG_TEST_DIR/ca.pem"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (CIDATA_TEST_POSTGRES is set)"
}

# A CA and a server certificate for 127.0.0.1 signed by it, in folder $1 (openssl, installed from
# Debian's packages if missing).
pg_make_certificates() {
    local dir=$1
    if ! command -v openssl >/dev/null; then
        apt_install openssl || return 1
    fi
    (
        cd "$dir" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
            -subj "/CN=ci-sync test CA" -keyout ca.key -out ca.pem \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >server.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
            -extfile server.ext -out server.crt &&
        chmod 600 server.key ca.key
    ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; return 1; }
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"/server.key "$dir"/server.crt
    fi
}

pg_stop() {
    if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR/data" ]; then
        pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1
        rm -rf "$PG_TEST_DIR"
    fi
    unset CIDATA_TEST_POSTGRES CIDATA_TEST_POSTGRES_CA PG_TEST_DIR
}
