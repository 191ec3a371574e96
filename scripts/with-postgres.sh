#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL server on loopback; ARVERNE_TEST_PG_DSN points at it.
# Installs Debian's postgresql package when it is missing, so a clean machine passes too.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "with-postgres: installing Debian's postgresql package" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")

DATA=$(mktemp -d /tmp/arverne-pg.XXXXXX)
# A free port, so two runs on one machine do not collide.
PORT=${ARVERNE_TEST_PG_PORT:-$(python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])")}
# PostgreSQL refuses to run as root: run the server as the postgres system user when we are root.
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$DATA"
    AS_PG=(runuser -u postgres --)
else
    AS_PG=()
fi
cleanup() {
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$DATA/db" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DATA"
}
trap cleanup EXIT

"${AS_PG[@]}" "$PGBIN/initdb" -D "$DATA/db" -U arverne --auth=trust -E UTF8 >/dev/null
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$DATA/db" -l "$DATA/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off" start >/dev/null
"${AS_PG[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U arverne arverne_test

export ARVERNE_TEST_PG_DSN="postgresql://arverne@127.0.0.1:$PORT/arverne_test"
"$@"
