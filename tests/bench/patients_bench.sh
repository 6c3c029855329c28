#!/usr/bin/env bash
# Benchmark of the patient read path (a benchmark, not a test: it asserts
# nothing about time). On one throwaway database with 100,000 generated
# patients (10,000 of them in one village) it measures, in the same run:
#   1. pgbench -S -M prepared (32 clients): the database's own ceiling;
#   2. wrk, 32 connections: GET /api/v1/patients/{id} with auth, scope,
#      role view, ID decryption and an audit row per read, committed (and
#      chained) before the answer; then the same with the chain's triggers
#      off;
#   3. wrk, 32 connections: the first page (50) of the 10,000-patient village;
#   4. pgbench running the service's own read statement (patient_read, as
#      `jingfang-api statement` prints it, for one id) with 32 clients: what
#      the database alone does for one patient read, no HTTP, no audit;
#   5. one POST /api/v1/patients/{id}/follow-ups at a time, to 200
#      patients in care: the time of a visit's write (median and p90);
# and prints requests/s, p99, the ratios API ÷ pgbench -S and API ÷ (4),
# and how many reads the batched read lane carried per round trip.
# Usage: tests/bench/patients_bench.sh [seconds per run, default 15]
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/common.sh"

SECS=${1:-15}
N=${JF_BENCH_PATIENTS:-100000}
jf_bench_setup bench
say "generating $N patients (10,000 in 梅苑社区)"
"$BIN/jingfang-gen" --patients "$N" --hot-village 429005003001 --hot-count 10000
psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null
say "pgbench -i (scale 10) in the same database"
pgbench -i -s 10 -q "$JF_DB_URL" >/dev/null 2>&1

export JF_THREADS=${JF_THREADS:-64} JF_DB_POOL_SIZE=${JF_DB_POOL_SIZE:-$((2 * $(nproc)))}
jf_bench_api
TOKEN=$(jf_bench_login tf.doctor)
read -r LO HI < <(psql "$JF_DB_URL" -tA -F' ' -c \
    "SELECT min(id), max(id) FROM patients WHERE starts_with(org_path, (SELECT path FROM org_units WHERE code = '429005003'))")
VILLAGE=$(psql "$JF_DB_URL" -tAc "SELECT id FROM org_units WHERE code = '429005003001'")

say "pgbench -S -M prepared -c 32 -j 2 -T $SECS"
pgbench -S -M prepared -c 32 -j 2 -T "$SECS" -n "$JF_DB_URL" >"$TMP/pgbench.txt" 2>&1
TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$TMP/pgbench.txt" | tail -1)

say "pgbench -M prepared -c 32 -j 2: the service's patient_read statement alone ($SECS s)"
{
    echo "\\set id random($LO, $HI)"
    "$BIN/jingfang-api" statement patient_read |
        sed 's/\$1::/true::/g; s/ANY (\$2::bigint\[\])/ANY (ARRAY[:id]::bigint[])/; s/$/;/'
} >"$TMP/read.sql"
pgbench -M prepared -c 32 -j 2 -T "$SECS" -n -f "$TMP/read.sql" "$JF_DB_URL" >"$TMP/pgread.txt" 2>&1
READ_TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$TMP/pgread.txt" | tail -1)

# How many reads each round trip of the batched read lane carried.
pipeline() { curl -s "http://$JF_LISTEN/metrics" | sed -n "s/^jingfang_db_pipeline_$1_total //p"; }
READS0=$(pipeline reads) BATCHES0=$(pipeline batches)
say "wrk -c 32 GET /api/v1/patients/{id} ($SECS s)"
wrk -t 2 -c 32 -d "${SECS}s" --latency -s "$JF_ROOT/tests/bench/patient_get.lua" \
    "http://$JF_LISTEN" -- "$LO" "$HI" "$TOKEN" >"$TMP/get.txt"
READS=$(($(pipeline reads) - READS0)) BATCHES=$(($(pipeline batches) - BATCHES0))
# The same reads with the audit chain's triggers off (as the superuser):
# what the HMAC chain costs, apart from waiting for the record's commit.
chain() { psql "$JF_DB_URL" -qc "ALTER TABLE audit_log $1 TRIGGER audit_log_chain" \
    -c "ALTER TABLE audit_log $1 TRIGGER audit_log_chain_head" >/dev/null; }
chain DISABLE
say "wrk -c 32 GET /api/v1/patients/{id}, audit chain off ($SECS s)"
wrk -t 2 -c 32 -d "${SECS}s" --latency -s "$JF_ROOT/tests/bench/patient_get.lua" \
    "http://$JF_LISTEN" -- "$LO" "$HI" "$TOKEN" >"$TMP/get-nochain.txt"
chain ENABLE
say "wrk -c 32 GET /api/v1/patients?org_unit_id=<village of 10,000>&limit=50 ($SECS s)"
wrk -t 2 -c 32 -d "${SECS}s" --latency -s "$JF_ROOT/tests/bench/auth_get.lua" \
    "http://$JF_LISTEN" -- "/api/v1/patients?org_unit_id=$VILLAGE&limit=50" "$TOKEN" >"$TMP/list.txt"

say "POST /api/v1/patients/{id}/follow-ups, one at a time, to 200 patients in care"
VISIT='{"visit_date":"'$(TZ=Asia/Shanghai date +%F)'","mode":"home","reached":true,"risk_level":0,'\
'"insight":"complete","compliance":"regular","social_function":{"personal_care":"good",'\
'"housework":"good","work":"good","learning":"good","social_contact":"good"}}'
for id in $(psql "$JF_DB_URL" -tAc "SELECT id FROM patients WHERE id BETWEEN $LO AND $HI
                                    AND status = 'in_care' ORDER BY random() LIMIT 200"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "$VISIT" \
        "http://$JF_LISTEN/api/v1/patients/$id/follow-ups"
done >"$TMP/post.txt"
POST_MS=$(awk '$1 == 201 { print $2 * 1000 }' "$TMP/post.txt" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) printf "%.1f ms median, %.1f ms p90 (%d of 200 written)",
                                      v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], NR }')

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$1"; }
errs() { sed -n 's/^non-2xx-or-3xx: *\([0-9]*\).*/\1/p' "$1"; }
GET_RPS=$(rps "$TMP/get.txt")
LIST_RPS=$(rps "$TMP/list.txt")
echo
echo "patients: $N   machine: $(nproc) cores   duration: ${SECS}s each   (same run, same database)"
printf '%-44s %12s %10s %8s\n' "measure" "per second" "p99" "errors"
printf '%-44s %12s %10s %8s\n' "pgbench -S -M prepared (32 clients)" "$TPS" "-" "-"
printf '%-44s %12s %10s %8s\n' "pgbench: patient_read statement (32)" "$READ_TPS" "-" "-"
printf '%-44s %12s %10s %8s\n' "GET /api/v1/patients/{id} (32 conns)" "$GET_RPS" "$(p99 "$TMP/get.txt")" "$(errs "$TMP/get.txt")"
printf '%-44s %12s %10s %8s\n' "  the same, audit chain off" "$(rps "$TMP/get-nochain.txt")" "$(p99 "$TMP/get-nochain.txt")" "$(errs "$TMP/get-nochain.txt")"
printf '%-44s %12s %10s %8s\n' "village list page, 10,000 patients (32)" "$LIST_RPS" "$(p99 "$TMP/list.txt")" "$(errs "$TMP/list.txt")"
echo "POST follow-up, one at a time: $POST_MS"
awk -v n="$READS" -v b="$BATCHES" 'BEGIN { if (b > 0)
    printf "batched read lane: %d reads in %d round trips (%.1f per round trip)\n", n, b, n / b }'
awk -v a="$GET_RPS" -v b="$TPS" -v r="$READ_TPS" 'BEGIN {
    printf "ratio GET patient / pgbench -S: %.2f (target >= 0.5)\n", a / b
    printf "ratio patient_read statement alone / pgbench -S: %.2f (the database alone, on the same statement)\n", r / b
    printf "ratio GET patient / patient_read statement alone: %.2f (what HTTP, auth, audit and JSON keep)\n", a / r }'
