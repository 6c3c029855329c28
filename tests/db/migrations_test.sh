#!/usr/bin/env bash
# Migrations: applied in order, recorded with a checksum, idempotent, each
# atomic — and an applied migration edited later is refused by name. Then
# the current definitions (db/definitions): re-applied on every run, a
# change to one taken without a migration, all of them or none.
set -euo pipefail
: "${JF_TEST_DB_ADMIN:?run through scripts/test}" "${JF_TEST_MIGRATE_BIN:?}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=jf_migrate_test_$$
WORK=$(mktemp -d)
admin_url=${JF_TEST_DB_ADMIN/dbname=jingfang/dbname=postgres}
url=${JF_TEST_DB_ADMIN/dbname=jingfang/dbname=$DB}
trap 'psql "$admin_url" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

psql "$admin_url" -qc "CREATE DATABASE $DB" >/dev/null
cp "$ROOT"/db/migrations/*.sql "$WORK/"
n=$(ls "$WORK"/*.sql | wc -l)

out=$(JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK") || fail "first apply"
grep -q "definitions" <<<"$out" && fail "definitions applied from a directory that has none: $out"
[ "$(psql "$url" -tAc 'SELECT count(*) FROM schema_migrations')" = "$n" ] || fail "not all recorded"
[ "$(psql "$url" -tAc "SELECT count(*) FROM schema_migrations WHERE sha256 ~ '^[0-9a-f]{64}\$'")" = "$n" ] ||
    fail "checksums missing"
out=$(JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK") || fail "second apply"
grep -q "0 applied" <<<"$out" || fail "second apply was not a no-op: $out"

# An edited, already-applied migration is refused, naming the file.
first=$(ls "$WORK"/*.sql | head -1)
echo "-- edited" >>"$first"
if err=$(JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK" 2>&1); then fail "edited migration accepted"; fi
grep -q "$(basename "$first") was edited" <<<"$err" || fail "message does not name the file: $err"

# A failing new migration leaves nothing behind (one transaction each).
cp "$ROOT"/db/migrations/*.sql "$WORK/"
printf 'CREATE TABLE half_done (id int);\nSELECT 1/0;\n' >"$WORK/9999_broken.sql"
if JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK" >/dev/null 2>&1; then fail "broken migration accepted"; fi
[ "$(psql "$url" -tAc "SELECT to_regclass('half_done') IS NULL")" = "t" ] || fail "half-applied migration"
[ "$(psql "$url" -tAc "SELECT count(*) FROM schema_migrations WHERE version = '9999_broken.sql'")" = "0" ] ||
    fail "broken migration recorded"

# The definitions beside the migrations (DIR/../definitions).
mkdir -p "$WORK/defs/migrations" "$WORK/defs/definitions"
cp "$ROOT"/db/migrations/*.sql "$WORK/defs/migrations/"
cp "$ROOT"/db/definitions/*.sql "$WORK/defs/definitions/"
nd=$(ls "$WORK"/defs/definitions/*.sql | wc -l)
for run in 1 2; do
    out=$(JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK/defs/migrations") || fail "definitions, run $run"
    grep -q "definitions: $nd files applied" <<<"$out" || fail "definitions not applied on run $run: $out"
done
# A changed definition is taken on the next run, with no migration.
printf "CREATE OR REPLACE FUNCTION defs_probe() RETURNS int LANGUAGE sql AS 'SELECT 2';\n" \
    >"$WORK/defs/definitions/zz_probe.sql"
JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK/defs/migrations" >/dev/null || fail "new definition"
[ "$(psql "$url" -tAc 'SELECT defs_probe()')" = "2" ] || fail "new definition not applied"
# A failing definition fails the run and leaves every definition as it was.
printf "CREATE OR REPLACE FUNCTION defs_probe() RETURNS int LANGUAGE sql AS 'SELECT 3';\n" \
    >"$WORK/defs/definitions/zz_probe.sql"
printf 'SELECT 1/0;\n' >"$WORK/defs/definitions/zzz_broken.sql"
if JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK/defs/migrations" >/dev/null 2>&1; then
    fail "broken definition accepted"
fi
[ "$(psql "$url" -tAc 'SELECT defs_probe()')" = "2" ] || fail "half-applied definitions"
# The partitioning migrations move the rows there are: a visit keeps its id
# and its referral, a delivery takes its event's time, the ids go on.
psql "$admin_url" -qc "DROP DATABASE $DB" -c "CREATE DATABASE $DB" >/dev/null
mkdir "$WORK/upto"
for f in "$ROOT"/db/migrations/*.sql; do
    [[ $(basename "$f") < 0049 ]] && cp "$f" "$WORK/upto/"
done
JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK/upto" >/dev/null || fail "migrations before 0049"
psql "$url" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "rows before 0049"
INSERT INTO org_units (id, level, code, name, path) VALUES (1, 'county', '999999', '分区县', '/1/');
INSERT INTO agencies (id, kind, name, org_unit_id) VALUES (1, 'mental_health_centre', '分区医院', 1);
INSERT INTO users (id, username, display_name, role, org_unit_id, password_hash)
VALUES (1, 'part', '分区', 'doctor', 1, 'x');
INSERT INTO patients (id, org_unit_id, org_path, status, name) VALUES (1, 1, '/1/', 'suspected', '甲');
INSERT INTO follow_ups (id, patient_id, visit_date, mode, reached, unreached_reason)
VALUES (7, 1, '2019-05-01', 'phone', false, 'moved'), (8, 1, now(), 'phone', false, 'moved');
SELECT setval('follow_ups_id_seq', 8);
INSERT INTO referrals (patient_id, from_kind, follow_up_id, hospital_id, reason, urgency,
                       referred_on, due_on, created_by)
VALUES (1, 'follow_up', 7, 1, '复发', 'routine', '2019-05-01', '2019-05-08', 1);
INSERT INTO webhook_endpoints (id, agency_id, url, secret_cipher) VALUES (1, 1, 'http://x.example/h', '\x00');
INSERT INTO outbox (id, topic, payload, created_at) VALUES (5, 't', '{}', '2024-03-01 00:30+08');
INSERT INTO deliveries (id, outbox_id, endpoint_id, state) VALUES (9, 5, 1, 'delivered');
SELECT setval('deliveries_id_seq', 9);
SQL
cp "$ROOT"/db/migrations/*.sql "$WORK/upto/"
JF_DB_URL=$url "$JF_TEST_MIGRATE_BIN" "$WORK/upto" >/dev/null || fail "0049 and 0050 over rows"
got=$(psql "$url" -tA -F' ' -c "SELECT string_agg(f.id || ':' || f.tableoid::regclass, ',' ORDER BY f.id),
        (SELECT follow_up_id FROM referrals), (SELECT d.id || ':' || d.tableoid::regclass FROM deliveries d),
        nextval('follow_ups_id_seq'), nextval('deliveries_id_seq') FROM follow_ups f")
[ "$got" = "7:follow_ups_2019,8:follow_ups_$(TZ=Asia/Shanghai date +%Y) 7 9:deliveries_202403 9 10" ] ||
    fail "rows moved by 0049 and 0050: $got"
echo "migrations: 10 checks passed"
