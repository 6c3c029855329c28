#!/bin/sh
# The standby of docker-compose.yml's `replica` profile: on an empty volume,
# copy the primary with pg_basebackup (as the replicator role) and mark the
# copy a standby that streams from it under application_name standby1 (what
# JF_PG_SYNC_STANDBY names to make it synchronous); then start PostgreSQL
# through the image's own entrypoint, which finds the data already there.
set -eu

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pass=$(mktemp)
    printf 'postgres:5432:replication:replicator:%s\n' "$(cat /run/secrets/replication_password)" >"$pass"
    chown postgres "$pass"
    chmod 600 "$pass"
    mkdir -p "$PGDATA"
    chown postgres "$PGDATA"
    chmod 700 "$PGDATA"
    until gosu postgres env PGPASSFILE="$pass" pg_basebackup -h postgres -U replicator \
        -D "$PGDATA" -X stream -R -c fast -d "application_name=standby1"; do
        echo "standby: waiting for the primary" >&2
        rm -rf "${PGDATA:?}"/*
        sleep 5
    done
    # The password stays in postgresql.auto.conf's primary_conninfo, which
    # only postgres can read.
    rm -f "$pass"
fi
exec docker-entrypoint.sh postgres
