#!/usr/bin/env bash
# Make the secrets docker-compose.yml mounts, once: random passwords and
# keys in deploy/secrets/ (git-ignored). An existing file is kept, so running
# it again only fills in what is missing (a secret added by an upgrade).
#
# The directory is readable by its owner only; the files in it are 0644 so
# that the containers' own users (postgres, jingfang) can read the bind
# mounts. Keep a safe copy of id_enc_key (the ID numbers cannot be read
# without it) and of audit_key (the audit chain cannot be checked without it).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)/secrets
mkdir -p "$dir"
chmod 700 "$dir"

hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
secret() {
    [ -s "$dir/$1" ] && return 0
    printf '%s\n' "$2" >"$dir/$1"
    chmod 644 "$dir/$1"
    echo "made deploy/secrets/$1"
}

secret postgres_password "$(hex 24)"
secret db_owner_url "host=postgres port=5432 dbname=jingfang user=jingfang_owner password=$(hex 24)"
# Both hosts: libpq takes the one that accepts writes, so the services follow
# a promoted standby by themselves (docs/scaling.md).
secret db_app_url "host=postgres,postgres-standby port=5432,5432 dbname=jingfang user=jingfang_app password=$(hex 24) target_session_attrs=read-write connect_timeout=3"
secret replication_password "$(hex 24)"
secret jwt_secret "$(hex 32)"
secret id_enc_key "$(hex 32)"
secret id_index_key "$(hex 32)"
secret audit_key "$(hex 32)"
