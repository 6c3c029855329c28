#!/usr/bin/env bash
# Benchmark of the read path against the size of the audit trail (a
# benchmark, not a test: it asserts nothing about time). Every patient read
# adds an audit row, so at province scale the trail is the largest table by
# far; partitioned by month (migration 0047), a read should not pay for the
# months behind it. On one throwaway database with generated patients it
# measures, in the same run, before and after loading the trail with
# JF_BENCH_AUDIT_ROWS rows (default 100,000,000) spread over the last 24
# months (the current month holding its 1/24th):
#   - pgbench -S -M prepared (32 clients): the database's own ceiling;
#   - wrk, 32 connections: GET /api/v1/patients/{id}, audited and chained;
#   - the WAL written per read;
# and prints each figure and the ratio after ÷ before (the target: the
# read within 10 % of an empty trail).
# Usage: tests/bench/audit_bench.sh [seconds per run, default 15]
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/common.sh"

SECS=${1:-15}
N=${JF_BENCH_PATIENTS:-20000}
ROWS=${JF_BENCH_AUDIT_ROWS:-100000000}
jf_bench_setup bench
say "generating $N patients"
"$BIN/jingfang-gen" --patients "$N" >/dev/null
pgbench -i -s 10 -q "$JF_DB_URL" >/dev/null 2>&1
psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null

export JF_THREADS=${JF_THREADS:-64} JF_DB_POOL_SIZE=${JF_DB_POOL_SIZE:-$((2 * $(nproc)))}
jf_bench_api
read -r LO HI < <(psql "$JF_DB_URL" -tA -F' ' -c \
    "SELECT min(id), max(id) FROM patients WHERE starts_with(org_path, (SELECT path FROM org_units WHERE code = '429005003'))")

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$1"; }
errs() { sed -n 's/^non-2xx-or-3xx: *\([0-9]*\).*/\1/p' "$1"; }
lsn() { psql "$JF_DB_URL" -tAc "SELECT pg_current_wal_lsn()"; }
# phase NAME: pgbench -S, then wrk on the patient read with the WAL it wrote.
phase() {
    local w0 w1
    # A fresh token for each phase: loading the trail outlasts one.
    TOKEN=$(jf_bench_login tf.doctor)
    psql "$JF_DB_URL" -qc "CHECKPOINT" >/dev/null
    say "$1: pgbench -S -M prepared -c 32 -j 2 -T $SECS"
    pgbench -S -M prepared -c 32 -j 2 -T "$SECS" -n "$JF_DB_URL" >"$TMP/pgbench-$1.txt" 2>&1
    say "$1: wrk -c 32 GET /api/v1/patients/{id} ($SECS s)"
    w0=$(lsn)
    wrk -t 2 -c 32 -d "${SECS}s" --latency -s "$JF_ROOT/tests/bench/patient_get.lua" \
        "http://$JF_LISTEN" -- "$LO" "$HI" "$TOKEN" >"$TMP/get-$1.txt"
    w1=$(lsn)
    psql "$JF_DB_URL" -tAc "SELECT pg_wal_lsn_diff('$w1', '$w0')" >"$TMP/wal-$1.txt"
    [ "$(errs "$TMP/get-$1.txt")" = 0 ] || die "$1: $(errs "$TMP/get-$1.txt") reads were not answered 2xx"
}

phase empty
EMPTY_ROWS=$(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM audit_log")

say "loading $ROWS audit rows over 24 months"
t0=$(date +%s)
jf_bench_audit_load "$ROWS" "$LO" "$HI"
psql "$JF_DB_URL" -qc "VACUUM ANALYZE audit_log" >/dev/null
LOAD_S=$(($(date +%s) - t0))
FULL_ROWS=$(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM audit_log")
MONTH_ROWS=$(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM audit_log WHERE at >= (audit_month((now() AT TIME ZONE 'Asia/Shanghai')::date)).lo")
SIZE=$(psql "$JF_DB_URL" -tAc "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'audit_log'::regclass")

phase full

wal() { cat "$TMP/wal-$1.txt"; }
reqs() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TMP/get-$1.txt"; }
tps() { sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$TMP/pgbench-$1.txt" | tail -1; }
echo
echo "patients: $N   machine: $(nproc) cores   duration: ${SECS}s each   (same run, same database)"
echo "audit trail: $EMPTY_ROWS rows, then $FULL_ROWS ($MONTH_ROWS this month; $SIZE with indexes; loaded in ${LOAD_S} s)"
printf '%-40s %14s %14s %8s\n' "measure" "empty trail" "full trail" "ratio"
for m in pgbench get; do
    if [ $m = pgbench ]; then a=$(tps empty) b=$(tps full) label="pgbench -S -M prepared (32 clients)"
    else a=$(rps "$TMP/get-empty.txt") b=$(rps "$TMP/get-full.txt") label="GET /api/v1/patients/{id} (32 conns)"; fi
    awk -v l="$label" -v a="$a" -v b="$b" 'BEGIN { printf "%-40s %14.0f %14.0f %8.2f\n", l, a, b, b / a }'
done
printf '%-40s %14s %14s\n' "  p99" "$(p99 "$TMP/get-empty.txt")" "$(p99 "$TMP/get-full.txt")"
awk -v a="$(wal empty)" -v ra="$(reqs empty)" -v b="$(wal full)" -v rb="$(reqs full)" 'BEGIN {
    printf "%-40s %14.0f %14.0f %8.2f\n", "WAL bytes per read", a / ra, b / rb, (b / rb) / (a / ra) }'
awk -v a="$(rps "$TMP/get-empty.txt")" -v b="$(rps "$TMP/get-full.txt")" -v pa="$(tps empty)" -v pb="$(tps full)" 'BEGIN {
    printf "ratio GET full ÷ GET empty: %.2f (target >= 0.90); against pgbench -S in each phase: %.2f then %.2f\n", b / a, a / pa, b / pb }'
