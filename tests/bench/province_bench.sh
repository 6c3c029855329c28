#!/usr/bin/env bash
# Province-scale benchmark (a benchmark, not a test: it asserts nothing about
# time). One throwaway database grows from the 1,000,000-patient figures to
# the province's, and the same measures are taken at both sizes, in the same
# run, on the same machine:
#   - pgbench -S -M prepared (32 clients): the database's own ceiling;
#   - GET /api/v1/patients/{id} (wrk, 32 connections, audited and chained);
#   - the first page (50) of a village list (wrk, 32 connections);
#   - the dashboard of a township and of the whole province (sequential
#     GETs, the median of the service's own times), both from the rollups;
#   - a 三网 run of 3 × JF_BENCH_RECONCILE_ROWS rows (jingfang-reconcile,
#     wall time) against a register of as many patients;
#   - a month's exchange package of the township (clinic → police station,
#     streamed), the whole download;
# and prints each figure at both sizes, the ratio, and how much more data
# the measure touches at the larger size (none may grow faster).
#
# The province (湖北省): 5 cities × 4 counties × 5 townships, each township
# 5 villages of 2 grids, JF_BENCH_PATIENTS / 100 generated patients per
# township (jingfang-gen: JF_BENCH_HISTORY_DAYS of clinical history, default
# 730, two years). The first size is
# the first JF_BENCH_BASE_PATIENTS of them (the first city, the measured
# township its first township); the audit trail grows in proportion, to
# JF_BENCH_AUDIT_ROWS rows over the last 24 months (loaded as an import,
# the chain's triggers off). The 三网 register (jingfang-reconcile-gen
# --registry) lies outside the province, in the demo's 泰丰街道: it is the
# same at both sizes, so the run shows what a bigger database costs a
# township's comparison.
#
# Usage: tests/bench/province_bench.sh [requests per dashboard, default 20]
# Knobs: JF_BENCH_PATIENTS (default 5000000), JF_BENCH_BASE_PATIENTS
# (default a fifth), JF_BENCH_AUDIT_ROWS (default 100000000),
# JF_BENCH_RECONCILE_ROWS (default 1000000), JF_BENCH_SECS (wrk and pgbench,
# default 10), JF_BENCH_HISTORY_DAYS, JF_BENCH_KEEP=1 keeps the cluster;
# JF_BENCH_REUSE=DIR measures again, at its size, the province a run kept
# in DIR (its keys.env), generating nothing.
# Disk: about 13 GB per million generated patients with two years of
# history (8 with one), 16 GB per 100 million audit rows.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/common.sh"

REQS=${1:-20}
N=${JF_BENCH_PATIENTS:-5000000}
N1=${JF_BENCH_BASE_PATIENTS:-$((N / 5))}
AUDIT=${JF_BENCH_AUDIT_ROWS:-100000000}
RECON=${JF_BENCH_RECONCILE_ROWS:-1000000}
SECS=${JF_BENCH_SECS:-10}
DAYS=${JF_BENCH_HISTORY_DAYS:-730}
PER=$((N / 100))
[ "$PER" -ge 100 ] || die "JF_BENCH_PATIENTS must be at least 10,000"
[ $((N1 % PER)) = 0 ] && [ "$N1" -ge "$PER" ] && [ "$N1" -lt "$N" ] ||
    die "JF_BENCH_BASE_PATIENTS must be a multiple of JF_BENCH_PATIENTS / 100, below it"

jf_bench_setup province-bench
# A kept cluster can be measured again only with the keys its ID numbers
# were encrypted with.
[ "${JF_BENCH_KEEP:-0}" = 1 ] && (umask 077 && env | grep -E '^JF_(JWT_SECRET|ID_ENC_KEY|ID_INDEX_KEY|AUDIT_KEY)=' >"$TMP/keys.env")
if [ -z "${JF_BENCH_REUSE:-}" ]; then
    pgbench -i -s 10 -q "$JF_DB_URL" >/dev/null 2>&1

    say "the province: 5 cities, 20 counties, 100 townships, 500 villages, 1,000 grids"
    psql "$JF_DB_URL" -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO org_units (parent_id, level, code, name, population)
VALUES (NULL, 'province', '42', '湖北省', 57750000);
INSERT INTO org_units (parent_id, level, code, name, population)
SELECT p.id, 'city', c.code, c.name, 5000000
  FROM org_units p,
       (VALUES ('4201', '武汉市'), ('4202', '黄石市'), ('4203', '十堰市'),
               ('4205', '宜昌市'), ('4206', '襄阳市')) c(code, name)
 WHERE p.code = '42' ORDER BY c.code;
INSERT INTO org_units (parent_id, level, code, name, population)
SELECT c.id, 'county', c.code || lpad(k::text, 2, '0'), c.name || '第' || k || '区', 1000000
  FROM org_units c, generate_series(1, 4) k
 WHERE c.level = 'city' ORDER BY c.code, k;
INSERT INTO org_units (parent_id, level, code, name, population)
SELECT c.id, 'township', c.code || lpad(k::text, 3, '0'), c.name || '第' || k || '街道', 200000
  FROM org_units c, generate_series(1, 5) k
 WHERE c.level = 'county' AND c.code <> '429005' ORDER BY c.code, k;
INSERT INTO org_units (parent_id, level, code, name, population)
SELECT t.id, 'village', t.code || lpad(k::text, 3, '0'), t.name || '第' || k || '社区', 40000
  FROM org_units t, generate_series(1, 5) k
 WHERE t.level = 'township' AND t.code NOT LIKE '429005%' ORDER BY t.code, k;
INSERT INTO org_units (parent_id, level, code, name, population)
SELECT v.id, 'grid', v.code || 'G0' || k, v.name || '第' || k || '网格', 20000
  FROM org_units v, generate_series(1, 2) k
 WHERE v.level = 'village' AND v.code NOT LIKE '429005%' ORDER BY v.code, k;
-- The measured township's agencies and people, the province's admin; the
-- demo's password.
INSERT INTO agencies (kind, name, org_unit_id)
SELECT a.kind, a.name, t.id FROM org_units t,
       (VALUES ('clinic', '第一社区卫生服务中心'), ('police_station', '第一派出所')) a(kind, name)
 WHERE t.code = '420101001';
INSERT INTO users (username, display_name, role, org_unit_id, agency_id, password_hash)
SELECT u.username, u.display_name, u.role, o.id, a.id, (SELECT password_hash FROM users WHERE username = 'admin')
  FROM (VALUES ('prov.admin', '省精防办', 'admin', '42', NULL),
               ('t1.official', '第一街道卫健办', 'official', '420101001', NULL),
               ('t1.doctor', '第一街道精防医生', 'doctor', '420101001', NULL),
               ('t1.police', '第一派出所民警', 'police', '420101001', '第一派出所')) u(username, display_name, role, unit, agency)
  JOIN org_units o ON o.code = u.unit
  LEFT JOIN agencies a ON a.org_unit_id = o.id AND a.name = u.agency;
SQL
    mapfile -t TOWNSHIPS < <(psql "$JF_DB_URL" -tAc \
        "SELECT code FROM org_units WHERE level = 'township' AND code NOT LIKE '429005%' ORDER BY code")
    [ "${#TOWNSHIPS[@]}" = 100 ] || die "the province has ${#TOWNSHIPS[@]} townships"

    say "the 三网 register and lists: $RECON patients in 泰丰街道, 3 × $RECON rows"
    mkdir -p "$TMP/lists"
    "$BIN/jingfang-reconcile-gen" --rows "$RECON" --dir "$TMP/lists" --registry >"$TMP/expected.txt"
    iconv -f UTF-8 -t GBK "$TMP/lists/grid.utf8.csv" >"$TMP/lists/grid.csv"
    rm "$TMP/lists/grid.utf8.csv"
fi

# ms of one SQL statement, timed by psql.
sql_ms() {
    psql "$JF_DB_URL" -qtA -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
declare -A F # F["measure size"] = figure
GENERATED=0
# grow TARGET: generate townships until TARGET patients, load the audit
# trail in proportion, vacuum, and let the worker's rollup pass take the
# new patients in (timed).
grow() {
    local t0 i from=$((GENERATED / PER)) to=$(($1 / PER)) rows lo hi
    say "generating townships $((from + 1))–$to ($PER patients each)"
    t0=$(date +%s)
    for ((i = from; i < to; i++)); do
        "$BIN/jingfang-gen" --patients "$PER" --township "${TOWNSHIPS[$i]}" --seed $((i + 1)) \
            --history-days "$DAYS" \
            >"$TMP/gen.log" 2>&1 || { cat "$TMP/gen.log" >&2; die "jingfang-gen failed"; }
        (((i + 1) % 10 == 0)) && say "  $((i + 1)) townships, $(($(date +%s) - t0)) s"
    done
    F["generate $1"]=$(($(date +%s) - t0))
    GENERATED=$1
    rows=$((AUDIT * $1 / N - $(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM audit_log")))
    say "loading $rows audit rows over 24 months"
    t0=$(date +%s)
    read -r lo hi < <(psql "$JF_DB_URL" -tA -F' ' -c "SELECT min(id), max(id) FROM patients
        WHERE starts_with(org_path, (SELECT path FROM org_units WHERE code = '42'))")
    jf_bench_audit_load "$rows" "$lo" "$hi"
    F["audit load $1"]=$(($(date +%s) - t0))
    say "VACUUM ANALYZE"
    t0=$(date +%s)
    psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null
    F["vacuum $1"]=$(($(date +%s) - t0))
    pass_and_size "$1"
}

# The province's patients.
province_patients() {
    psql "$JF_DB_URL" -tAc "SELECT count(*) FROM patients
        WHERE starts_with(org_path, (SELECT path FROM org_units WHERE code = '42'))"
}
# pass_and_size SIZE: the worker's rollup pass over the new patients
# (timed), then what the database holds.
pass_and_size() {
    say "the worker's rollup pass over the new patients"
    F["rollups $1"]=$(sql_ms "SELECT stat_refresh()")
    F["db size $1"]=$(psql "$JF_DB_URL" -tAc "SELECT pg_size_pretty(pg_database_size(current_database()))")
    F["patients $1"]=$(province_patients)
    F["follow-ups $1"]=$(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM follow_ups")
    F["audit rows $1"]=$(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM audit_log")
}

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
errs() { sed -n 's/^non-2xx-or-3xx: *\([0-9]*\).*/\1/p' "$1"; }
# gets URL N TOKEN: N sequential GETs of URL.
gets() {
    for i in $(seq 1 "$2"); do
        curl -fsS -o /dev/null -H "Authorization: Bearer $3" "$1"
    done
}
# server_ms ROUTE USER: the median of the service's own times for ROUTE as
# USER, in ms, from its access log (the time in the server, without the
# client's connection and download).
server_ms() {
    local uid
    uid=$(psql "$JF_DB_URL" -tAc "SELECT id FROM users WHERE username = '$2'")
    grep -F "\"route\":\"$1\"" "$TMP/api.log" | grep -F "\"user_id\":$uid," |
        sed -n 's/.*"ms":\([0-9.]*\).*/\1/p' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
# cached URL TOKEN: dies unless the dashboard came from the rollups.
cached() {
    curl -fsS -H "Authorization: Bearer $2" "$1" | grep -q '"source": "cached"' ||
        die "not from the rollups: $1"
}

# measure SIZE: every figure at this size, the service freshly started.
measure() {
    local s=$1 w0 w1 ex
    # A day turned in China since the last pass: the rollups follow first.
    psql "$JF_DB_URL" -qtAc "SELECT stat_refresh()" >/dev/null
    export JF_THREADS=${JF_THREADS:-64} JF_DB_POOL_SIZE=${JF_DB_POOL_SIZE:-$((2 * $(nproc)))}
    jf_bench_api
    local doctor official admin police
    doctor=$(jf_bench_login t1.doctor) official=$(jf_bench_login t1.official)
    admin=$(jf_bench_login prov.admin) police=$(jf_bench_login t1.police)
    psql "$JF_DB_URL" -qc "CHECKPOINT" >/dev/null
    say "$s: pgbench -S -M prepared -c 32 -j 2 -T $SECS"
    pgbench -S -M prepared -c 32 -j 2 -T "$SECS" -n "$JF_DB_URL" >"$TMP/pgbench.txt" 2>&1
    F["pgbench -S/s $s"]=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$TMP/pgbench.txt" | tail -1)

    say "$s: wrk -c 32 GET /api/v1/patients/{id} of the township ($SECS s)"
    wrk -t 2 -c 32 -d "${SECS}s" --latency -s "$JF_ROOT/tests/bench/patient_get.lua" \
        "http://$JF_LISTEN" -- "$T1_LO" "$T1_HI" "$doctor" >"$TMP/get.txt"
    [ "$(errs "$TMP/get.txt")" = 0 ] || die "$s: $(errs "$TMP/get.txt") reads were not answered 2xx"
    F["patient read/s $s"]=$(rps "$TMP/get.txt")

    say "$s: wrk -c 32 on a village's first list page ($SECS s)"
    wrk -t 2 -c 32 -d "${SECS}s" --latency -s "$JF_ROOT/tests/bench/auth_get.lua" \
        "http://$JF_LISTEN" -- "/api/v1/patients?org_unit_id=$VILLAGE&limit=50" "$doctor" >"$TMP/list.txt"
    [ "$(errs "$TMP/list.txt")" = 0 ] || die "$s: list pages not answered 2xx"
    F["village list page/s $s"]=$(rps "$TMP/list.txt")

    say "$s: the dashboards, $REQS GETs each"
    cached "http://$JF_LISTEN/api/v1/statistics/dashboard?org_unit_id=$TOWNSHIP" "$official"
    cached "http://$JF_LISTEN/api/v1/statistics/dashboard?org_unit_id=$PROVINCE" "$admin"
    gets "http://$JF_LISTEN/api/v1/statistics/dashboard?org_unit_id=$TOWNSHIP" "$REQS" "$official"
    gets "http://$JF_LISTEN/api/v1/statistics/dashboard?org_unit_id=$PROVINCE" "$REQS" "$admin"

    say "$s: the month's exchange package, clinic → police station"
    ex=$(psql "$JF_DB_URL" -tAc "SELECT e.id FROM exchanges e JOIN agencies s ON s.id = e.sender_agency_id
        JOIN agencies r ON r.id = e.receiver_agency_id
        WHERE e.township_id = $TOWNSHIP AND s.kind = 'clinic' AND r.kind = 'police_station'
          AND e.period_to < stat_today() ORDER BY e.period_from DESC LIMIT 1")
    [ -n "$ex" ] || die "no exchange for the township"
    F["export bytes $s"]=$(curl -fsS -o /dev/null -w '%{size_download}' \
        -H "Authorization: Bearer $police" "http://$JF_LISTEN/api/v1/exchanges/$ex/package")
    kill -TERM "$API_PID" && wait "$API_PID" || true
    API_PID=""
    F["township dashboard ms $s"]=$(server_ms /api/v1/statistics/dashboard t1.official)
    F["province dashboard ms $s"]=$(server_ms /api/v1/statistics/dashboard prov.admin)
    F["export ms $s"]=$(server_ms '/api/v1/exchanges/{id}/package' t1.police)

    say "$s: a 三网 run, 3 × $RECON rows (jingfang-reconcile)"
    w0=$(date +%s%N)
    JF_DB_URL=$APP_URL "$BIN/jingfang-reconcile" --unit 429005003 police="$TMP/lists/police.csv" \
        health="$TMP/lists/health.csv" grid="$TMP/lists/grid.csv" >/dev/null 2>"$TMP/recon.txt" ||
        { cat "$TMP/recon.txt" >&2; die "the 三网 run failed"; }
    w1=$(date +%s%N)
    F["三网 run ms $s"]=$(((w1 - w0) / 1000000))
}

# The measured township, its patients, the province and a village.
units() {
    read -r TOWNSHIP T1_LO T1_HI PROVINCE VILLAGE < <(psql "$JF_DB_URL" -tA -F' ' -c "
        SELECT t.id, min(p.id), max(p.id), (SELECT id FROM org_units WHERE code = '42'),
               (SELECT id FROM org_units WHERE code = '420101001001')
          FROM org_units t JOIN patients p ON starts_with(p.org_path, t.path)
         WHERE t.code = '420101001' GROUP BY t.id")
    TODAY=$(psql "$JF_DB_URL" -tAc "SELECT stat_today()")
    psql "$JF_DB_URL" -qc "SELECT exchange_schedule('$TODAY')" >/dev/null
}

if [ -n "${JF_BENCH_REUSE:-}" ]; then
    RECON=$(($(wc -l <"$TMP/lists/police.csv") - 1)) # the kept lists, a header each
    units
    S=$(province_patients)
    pass_and_size "$S"
    measure "$S"
    echo
    echo "machine: $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB; the province kept in $TMP"
    for k in patients follow-ups "audit rows" "db size" rollups "pgbench -S/s" "patient read/s" \
        "village list page/s" "township dashboard ms" "province dashboard ms" "三网 run ms" \
        "export ms" "export bytes"; do
        printf '%-28s %s\n' "$k" "${F["$k $S"]}"
    done
    exit 0
fi
grow "$N1"
units
measure "$N1"
grow "$N"
measure "$N"

echo
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB; the same run, the same database, grown"
echo "history: $DAYS days; the 三网 register outside the province: $RECON patients"
for k in patients follow-ups "audit rows" "db size"; do
    printf '%-28s %14s %14s\n' "$k" "${F["$k $N1"]}" "${F["$k $N"]}"
done
for k in generate "audit load" vacuum; do
    printf '%-28s %13ss %13ss\n' "$k" "${F["$k $N1"]}" "${F["$k $N"]}"
done
printf '%-28s %12sms %12sms\n' "rollup pass (new patients)" "${F["rollups $N1"]}" "${F["rollups $N"]}"
echo
printf '%-30s %12s %12s %8s %10s\n' measure "$N1" "$N" ratio "data ×"
row() { # label key touches-ratio [per-second: the ratio is time, so inverted]
    awk -v l="$1" -v a="${F["$2 $N1"]}" -v b="${F["$2 $N"]}" -v d="$3" -v inv="${4:-0}" 'BEGIN {
        r = inv ? a / b : b / a
        printf "%-30s %12.1f %12.1f %8.2f %10.2f\n", l, a, b, r, d }'
}
row "pgbench -S (per s)" "pgbench -S/s" 1 1
row "patient read (per s)" "patient read/s" 1 1
row "village list page (per s)" "village list page/s" 1 1
row "township dashboard (ms)" "township dashboard ms" 1
row "province dashboard (ms)" "province dashboard ms" "$(awk -v a="$N1" -v b="$N" 'BEGIN { print b / a }')"
# The 三网 run matches IDs against the whole register: the province and the
# 三网 register.
row "三网 run, 3 × $RECON (ms)" "三网 run ms" "$(awk -v a="$N1" -v b="$N" -v r="$RECON" 'BEGIN { print (b + r) / (a + r) }')"
row "month's package (ms)" "export ms" 1
echo "ratio: the time at $N ÷ the time at $N1 (for rates, the rate at $N1 ÷ the rate at $N);"
echo "data ×: how much more data the measure touches at $N. Package: ${F["export bytes $N1"]} and ${F["export bytes $N"]} bytes."
awk -v a="${F["patient read/s $N1"]}" -v b="${F["patient read/s $N"]}" \
    -v pa="${F["pgbench -S/s $N1"]}" -v pb="${F["pgbench -S/s $N"]}" 'BEGIN {
    printf "patient read ÷ pgbench -S: %.2f at the first size, %.2f at the second\n", a / pa, b / pb }'
