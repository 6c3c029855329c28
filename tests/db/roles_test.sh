#!/usr/bin/env bash
# Least privilege: connected as the service's role (jingfang_app), nothing
# can change or remove an audit row, switch its triggers off, run a program
# or touch a file on the database host, or create anything in the schema.
# Every refusal must be the database's permission check, and afterwards the
# log holds the same rows and its triggers are still on.
set -euo pipefail
: "${JF_TEST_DB:?run through scripts/test}" "${JF_TEST_DB_OWNER:?}" "${JF_AUDIT_KEY:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
app() { psql "$JF_TEST_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }

[ "$(app -tAc 'SELECT current_user')" = jingfang_app ] || fail "JF_TEST_DB is not the app role"
# The role itself: no attribute or membership that would lift the grants.
[ "$(app -tAc "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls
                 OR pg_has_role(oid, 'pg_execute_server_program', 'MEMBER')
                 OR pg_has_role(oid, 'pg_read_server_files', 'MEMBER')
                 OR pg_has_role(oid, 'pg_write_server_files', 'MEMBER')
                 OR pg_has_role(oid, 'jingfang_owner', 'MEMBER')
               FROM pg_roles WHERE rolname = current_user")" = f ] || fail "app role too strong"
[ "$(app -tAc "SELECT count(*) FROM pg_class WHERE relowner = 'jingfang_app'::regrole")" = 0 ] ||
    fail "the app role owns relations"

# What the service does is still allowed: add an audit row and read it.
PGOPTIONS="-c jingfang.audit_key=$JF_AUDIT_KEY" \
    app -c "INSERT INTO audit_log (action, request_id) VALUES ('test.roles', 'roles-test')" ||
    fail "the app role cannot add an audit row"
rows=$(app -tAc "SELECT count(*) || '/' || coalesce(max(id), 0) || '/' || md5(string_agg(action, ',' ORDER BY id)) FROM audit_log")
[ "$(app -tAc "SELECT count(*) FROM audit_log WHERE request_id = 'roles-test'")" -ge 1 ] ||
    fail "the app role cannot read the audit log"

prog=$(mktemp -u /tmp/jf-roles-XXXXXX)
# This month's partition of the trail (migration 0047), named directly.
part=$(app -tAc "SELECT (audit_month((now() AT TIME ZONE 'Asia/Shanghai')::date)).name")
attacks=(
    "UPDATE $part SET action = 'x'"
    "DELETE FROM $part"
    "TRUNCATE $part"
    "SELECT count(*) FROM $part"
    "ALTER TABLE audit_log DETACH PARTITION $part"
    "SELECT audit_archive_record('$part', repeat('0', 64), '/tmp/x')"
    "INSERT INTO audit_archives (partition, period_from, period_to, rows, anchor_seq, anchor_mac, sha256, file) VALUES ('x', now(), now(), 0, 0, '', repeat('0', 64), 'x')"
    "UPDATE audit_log SET action = 'x'"
    "DELETE FROM audit_log"
    "TRUNCATE audit_log"
    "SET session_replication_role = replica"
    "ALTER TABLE audit_log DISABLE TRIGGER ALL"
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"
    "DROP TRIGGER audit_log_no_update ON audit_log"
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain"
    "UPDATE audit_chain_head SET seq = 0"
    "SELECT * FROM audit_chain_head"
    "ALTER TABLE audit_log ADD COLUMN x int"
    "ALTER TABLE audit_log RENAME TO audit_log_old"
    "DROP TABLE audit_log"
    "DROP TABLE audit_log CASCADE"
    "COPY audit_log TO PROGRAM 'touch $prog'"
    "COPY (SELECT 1) TO PROGRAM 'touch $prog'"
    "COPY audit_log TO '$prog'"
    "COPY audit_log FROM '/etc/hostname'"
    "SELECT pg_read_file('/etc/hostname')"
    "CREATE FUNCTION public.jf_evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"
    "CREATE TABLE public.jf_evil (x int)"
    "CREATE FUNCTION jf_evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"
    "ALTER ROLE jingfang_app SUPERUSER"
    "GRANT pg_execute_server_program TO jingfang_app"
    "SET ROLE jingfang_owner"
    "REFRESH MATERIALIZED VIEW stat_unit_counts"
    "ALTER FUNCTION stat_refresh() SECURITY INVOKER"
    "UPDATE schema_migrations SET sha256 = 'x'"
)
for sql in "${attacks[@]}"; do
    if err=$(app -c "$sql" 2>&1); then
        fail "the app role may: $sql"
    fi
    grep -qE 'permission denied|must (be owner|be superuser|be a member|be able to SET ROLE|have admin option)|only superusers' <<<"$err" ||
        fail "$sql: refused for another reason than privilege: $err"
done
[ ! -e "$prog" ] || { rm -f "$prog"; fail "a program ran on the database host"; }

[ "$(app -tAc "SELECT count(*) || '/' || coalesce(max(id), 0) || '/' || md5(string_agg(action, ',' ORDER BY id)) FROM audit_log")" = "$rows" ] ||
    fail "the audit log changed"
[ "$(psql "$JF_TEST_DB_OWNER" -X -tAc "SELECT string_agg(DISTINCT tgenabled::text, '') FROM pg_trigger
        WHERE tgrelid IN (SELECT 'audit_log'::regclass UNION ALL SELECT inhrelid FROM pg_inherits
                          WHERE inhparent = 'audit_log'::regclass) AND NOT tgisinternal")" = O ] ||
    fail "an audit trigger is off"
# The statistics cache is refreshed the one way the worker does it.
[ "$(app -tAc 'SELECT stat_refresh()')" = t ] || fail "stat_refresh() as the app role"
echo "ok: ${#attacks[@]} routes refused"
