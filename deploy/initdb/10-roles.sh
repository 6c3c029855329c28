#!/bin/sh
# First start of the postgres container only (docker-entrypoint-initdb.d):
# the owner and app roles, with the passwords of their connection strings
# (the db_owner_url and db_app_url secrets), and the database, owned by the
# owner. Migration 0025 then checks them and grants the app its rights.
set -eu

# The password= value of a libpq key=value connection string.
password_of() {
    sed -n 's/.*password=\([^ ]*\).*/\1/p' "$1"
}

owner_pw=$(password_of /run/secrets/db_owner_url)
app_pw=$(password_of /run/secrets/db_app_url)
[ -n "$owner_pw" ] && [ -n "$app_pw" ] || {
    echo "db_owner_url and db_app_url must each hold password=…" >&2
    exit 1
}
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_pw="$owner_pw" -v app_pw="$app_pw" <<'SQL'
CREATE ROLE jingfang_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE jingfang_app LOGIN PASSWORD :'app_pw';
CREATE DATABASE jingfang OWNER jingfang_owner;
SQL
