#!/bin/sh
# First start of the postgres container only: the role a standby copies and
# streams from (the replication_password secret), and the one pg_hba line
# that lets it (replication connections match no "all" database line).
# Used by the `replica` profile of docker-compose.yml; harmless without it.
set -eu

pw=$(cat /run/secrets/replication_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pw="$pw" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SQL
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
