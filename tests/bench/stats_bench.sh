#!/usr/bin/env bash
# Benchmark of the statistics dashboard (a benchmark, not a test: it asserts
# nothing about time). On one throwaway database with 1,000,000 generated
# patients in one township (≈ 13.7 million follow-ups) it measures, in the
# same run:
#   1. the baseline: a plain full scan, SELECT count(*) FROM follow_ups;
#   2. the worker's passes over the rollups (stat_refresh(), migration
#      0040): the first build (every month, quarter, half-year and year of
#      this and last year for every patient), a pass with nothing changed
#      and the time of a write made during it (it must not wait for it);
#   3. GET /api/v1/statistics/dashboard of the township (every indicator,
#      broken down by village) from the rollups: R sequential requests,
#      median / p95 / max, and wrk with 8 connections for the throughput;
#      then the township and the county for a month, a quarter, a year and
#      last year (R/5 requests each, median);
#   4. 1,000 patients changed (a visit each): the township's dashboard
#      while they wait for the worker (a reader puts them right from the
#      records), the worker's pass that takes them in, and a new day's
#      pass (the running periods computed again for everyone);
#   5. the 统计报表 of a campaign of the township (its own period, kept by
#      the worker's next pass, timed) as JSON and xlsx, and for this quarter;
#   6. optionally (JF_BENCH_LIVE=1) the township dashboard and the report
#      for a period not kept, computed live.
# Usage: tests/bench/stats_bench.sh [requests, default 50]
# Knobs: JF_BENCH_PATIENTS (default 1000000), JF_BENCH_LIVE, JF_BENCH_KEEP=1
# keeps the cluster (its directory is printed) for further runs.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/common.sh"

REQS=${1:-50}
N=${JF_BENCH_PATIENTS:-1000000}
jf_bench_setup stats-bench
say "generating $N patients in 泰丰街道"
t0=$(date +%s)
"$BIN/jingfang-gen" --patients "$N" --township 429005003
GEN_S=$(($(date +%s) - t0))
psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null
read -r PATIENTS FOLLOWUPS < <(psql "$JF_DB_URL" -tA -F' ' -c \
    "SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM follow_ups)")

# ms of one SQL statement, timed by psql.
sql_ms() {
    psql "$JF_DB_URL" -qtA -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

say "baseline: SELECT count(*) FROM follow_ups (3 runs, the best)"
SCAN_MS=$(for i in 1 2 3; do sql_ms "SELECT count(*) FROM follow_ups"; done | sort -n | head -1)

say "the worker's first pass: the rollups built for every patient and period"
BUILD_MS=$(sql_ms "SELECT stat_refresh()")
say "a pass with nothing changed, with a write during it"
# The steady state, timed, with a write to a patient in the middle that
# must not wait for it.
PID_ONE=$(psql "$JF_DB_URL" -tAc "SELECT min(id) FROM patients WHERE status = 'in_care'")
( sql_ms "SELECT stat_refresh()" >"$TMP/refresh.ms" ) &
REFRESH_JOB=$!
sleep 2
WRITE_MS=$(sql_ms "UPDATE patients SET updated_at = now() WHERE id = $PID_ONE")
wait "$REFRESH_JOB"
REFRESH_MS=$(cat "$TMP/refresh.ms")

export JF_THREADS=${JF_THREADS:-64} JF_DB_POOL_SIZE=${JF_DB_POOL_SIZE:-8}
jf_bench_api
TOKEN=$(jf_bench_login tf.official)
TOWNSHIP=$(psql "$JF_DB_URL" -tAc "SELECT id FROM org_units WHERE code = '429005003'")
URL="http://$JF_LISTEN/api/v1/statistics/dashboard?org_unit_id=$TOWNSHIP"
curl -fsS -H "Authorization: Bearer $TOKEN" "$URL" >"$TMP/dashboard.json"
grep -q '"source": "cached"' "$TMP/dashboard.json" || die "the dashboard did not come from the rollups"

say "GET the township dashboard $REQS times, one after another"
for i in $(seq 1 "$REQS"); do
    curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$URL"
done | awk '{ printf "%.2f\n", $1 * 1000 }' | sort -n >"$TMP/dash.ms"
pct() { awk -v p="$1" '{ a[NR] = $1 } END { i = int((NR - 1) * p + 0.5) + 1; print a[i] }' "$TMP/dash.ms"; }
say "wrk -c 8 on the dashboard (10 s)"
wrk -t 2 -c 8 -d 10s --latency -s "$JF_ROOT/tests/bench/auth_get.lua" "http://$JF_LISTEN" -- \
    "/api/v1/statistics/dashboard?org_unit_id=$TOWNSHIP" "$TOKEN" >"$TMP/wrk.txt"
RPS=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$TMP/wrk.txt")
P99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$TMP/wrk.txt")

# The county's dashboards as the county's admin.
# (a few tries: requests wrk left queued may still hold the pool)
for try in 1 2 3 4 5; do
    LOGIN=$(curl -s "http://$JF_LISTEN/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$JF_DEMO_PASSWORD\"}")
    ADMIN_TOKEN=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$LOGIN")
    [ -n "$ADMIN_TOKEN" ] && break
    sleep 3
done
[ -n "$ADMIN_TOKEN" ] || die "admin login failed: $LOGIN"
# The median of n sequential GETs of url (as token $3, default the
# township's official), in ms.
median_ms() {
    for i in $(seq 1 "$2"); do
        curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer ${3:-$TOKEN}" "$1"
    done | awk '{ printf "%.2f\n", $1 * 1000 }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
COUNTY=$(psql "$JF_DB_URL" -tAc "SELECT id FROM org_units WHERE code = '429005'")
read -r Y M0 Q0 < <(psql "$JF_DB_URL" -tA -F' ' -c "SELECT extract(year FROM stat_today()),
    date_trunc('month', stat_today())::date, date_trunc('quarter', stat_today())::date")
M1=$(psql "$JF_DB_URL" -tAc "SELECT (date '$M0' + interval '1 month' - interval '1 day')::date")
Q1=$(psql "$JF_DB_URL" -tAc "SELECT (date '$Q0' + interval '3 months' - interval '1 day')::date")
PERIODS=("month:from=$M0&to=$M1" "quarter:from=$Q0&to=$Q1" "year:year=$Y" "last year:year=$((Y - 1))")
declare -A PM
for unit in township county; do
    id=$TOWNSHIP tok=$TOKEN
    [ $unit = county ] && id=$COUNTY tok=$ADMIN_TOKEN
    for p in "${PERIODS[@]}"; do
        curl -fsS -H "Authorization: Bearer $tok" \
            "http://$JF_LISTEN/api/v1/statistics/dashboard?org_unit_id=$id&${p#*:}" |
            grep -q '"source": "cached"' || die "$unit ${p%%:*}: not from the rollups"
        PM["$unit ${p%%:*}"]=$(median_ms "http://$JF_LISTEN/api/v1/statistics/dashboard?org_unit_id=$id&${p#*:}" $((REQS / 5 > 3 ? REQS / 5 : 3)) "$tok")
    done
done

say "the 统计报表: a campaign's own period and this quarter, JSON and xlsx"
read -r CFROM CTO < <(psql "$JF_DB_URL" -tA -F' ' -c "SELECT stat_today() - 200, stat_today() + 60")
curl -fsS -o /dev/null "http://$JF_LISTEN/api/v1/campaigns" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"泰丰街道专项行动\",\"org_unit_id\":$TOWNSHIP,\"starts_on\":\"$CFROM\",\"ends_on\":\"$CTO\"}" ||
    die "the campaign was not created"
CID=$(psql "$JF_DB_URL" -tAc "SELECT max(id) FROM campaigns")
CAMP_MS=$(sql_ms "SELECT stat_refresh()")
REPORT="http://$JF_LISTEN/api/v1/campaigns/$CID/report"
curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "$REPORT" | grep -q '"source": *"cached"' ||
    die "the report did not come from the rollups"
NR=$((REQS / 5 > 3 ? REQS / 5 : 3))
RJ_MS=$(median_ms "$REPORT" $NR "$ADMIN_TOKEN")
RX_MS=$(median_ms "$REPORT?format=xlsx" $NR "$ADMIN_TOKEN")
RQ_MS=$(median_ms "$REPORT?from=$Q0&to=$Q1" $NR "$ADMIN_TOKEN")
RL_MS="-"
if [ "${JF_BENCH_LIVE:-0}" = 1 ]; then
    # a period no one keeps (the campaign's, a day shorter): from the records
    RL_MS=$(median_ms "$REPORT?from=$CFROM&to=$(psql "$JF_DB_URL" -tAc "SELECT date '$CTO' - 1")" 1 "$ADMIN_TOKEN")
fi

say "1,000 patients changed: the dashboard before the worker's pass, the pass, a new day"
psql "$JF_DB_URL" -qc "INSERT INTO follow_ups (patient_id, visit_date, mode, reached, compliance,
    class, computed_class) SELECT id, stat_today(), 'home', true, 'regular', 'stable', 'stable'
    FROM patients WHERE status = 'in_care' ORDER BY id LIMIT 1000"
PENDING_MS=$(median_ms "$URL" 10)
INC_MS=$(sql_ms "SELECT stat_refresh()")
psql "$JF_DB_URL" -qc "UPDATE stat_refresh_log SET as_of = as_of - 1"
ROLL_MS=$(sql_ms "SELECT stat_refresh()")

LIVE_MS="-"
if [ "${JF_BENCH_LIVE:-0}" = 1 ]; then
    say "the same dashboard computed live (live=true)"
    LIVE_MS=$(curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
        "$URL&live=true" | awk '{ printf "%.0f", $1 * 1000 }')
fi

echo
echo "patients: $PATIENTS   follow-ups: $FOLLOWUPS   generated in $GEN_S s   machine: $(nproc) cores"
printf '%-58s %12s\n' "measure" "ms"
printf '%-58s %12s\n' "SELECT count(*) FROM follow_ups (baseline, best of 3)" "$SCAN_MS"
printf '%-58s %12s\n' "township dashboard, cached: median" "$(pct 0.5)"
printf '%-58s %12s\n' "township dashboard, cached: p95" "$(pct 0.95)"
printf '%-58s %12s\n' "township dashboard, cached: max" "$(pct 1)"
for unit in township county; do
    for p in "${PERIODS[@]}"; do
        printf '%-58s %12s\n' "$unit dashboard, ${p%%:*}, rollups: median" "${PM["$unit ${p%%:*}"]}"
    done
done
printf '%-58s %12s\n' "统计报表, the campaign's own period, JSON: median" "$RJ_MS"
printf '%-58s %12s\n' "统计报表, the campaign's own period, xlsx: median" "$RX_MS"
printf '%-58s %12s\n' "统计报表, this quarter, JSON: median" "$RQ_MS"
printf '%-58s %12s\n' "统计报表, a period not kept, live (JF_BENCH_LIVE=1)" "$RL_MS"
printf '%-58s %12s\n' "worker: a pass keeping a new campaign's period" "$CAMP_MS"
printf '%-58s %12s\n' "township dashboard, 1,000 changes pending: median" "$PENDING_MS"
printf '%-58s %12s\n' "township dashboard, live (JF_BENCH_LIVE=1)" "$LIVE_MS"
printf '%-58s %12s\n' "worker: first build of the rollups" "$BUILD_MS"
printf '%-58s %12s\n' "worker: a pass with nothing changed" "$REFRESH_MS"
printf '%-58s %12s\n' "UPDATE of one patient during that pass" "$WRITE_MS"
printf '%-58s %12s\n' "worker: a pass taking in 1,000 changed patients" "$INC_MS"
printf '%-58s %12s\n' "worker: a new day's pass (running periods, everyone)" "$ROLL_MS"
echo "wrk -c 8: $RPS dashboards/s, p99 $P99"
awk -v a="$(pct 0.5)" -v b="$SCAN_MS" 'BEGIN { printf "ratio township dashboard median / full scan: %.4f\n", a / b }'
awk -v a="${PM["county year"]}" -v b="$SCAN_MS" 'BEGIN { printf "ratio county year dashboard / full scan: %.4f\n", a / b }'
awk -v a="$PENDING_MS" -v b="$SCAN_MS" 'BEGIN { printf "ratio dashboard with 1,000 pending / full scan: %.4f\n", a / b }'
awk -v a="$RJ_MS" -v b="$SCAN_MS" 'BEGIN { printf "ratio 统计报表 JSON / full scan: %.4f\n", a / b }'
awk -v a="$RX_MS" -v b="$SCAN_MS" 'BEGIN { printf "ratio 统计报表 xlsx / full scan: %.4f\n", a / b }'
