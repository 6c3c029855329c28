#!/usr/bin/env bash
# Benchmark of the 三网 comparison (a benchmark, not a test). On one
# throwaway database it writes a registry of N generated patients, three
# lists of N rows each (police and health UTF-8, grid GBK) with
# discrepancies seeded in known numbers (jingfang-reconcile-gen), then runs
# jingfang-reconcile on them under /usr/bin/time -v and prints the wall
# time, the tool's peak RSS and the findings per category next to the
# seeded counts; then uploads the same lists through the API (streamed PUTs)
# and analyses them there, printing the times and the API's peak RSS. It
# exits non-zero when a count differs.
# Usage: tests/bench/reconcile_bench.sh [rows per file, default 1000000]
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

N=${1:-1000000}
jf_install_deps
say "building release (build/)"
jf_build "$JF_ROOT/build" -DCMAKE_BUILD_TYPE=Release
BIN=$JF_ROOT/build/api
TMP=$(mktemp -d /tmp/jf-bench.XXXXXX)
chmod 755 "$TMP"
PGPORT=$(jf_free_port 15000 10000)
cleanup() {
    jf_pg_stop "$TMP/pg"
    rm -rf "$TMP"
}
trap cleanup EXIT

jf_pg_start "$TMP/pg" "$PGPORT"
jf_db_prepare "$BIN/.." "$TMP/pg" "$PGPORT" 2>/dev/null
export JF_DB_URL=$(jf_pg_url "$TMP/pg" "$PGPORT")
export JF_ID_ENC_KEY=$(jf_random_hex) JF_ID_INDEX_KEY=$(jf_random_hex) JF_AUDIT_KEY=$(jf_random_hex)
# The service and the loader connect as the app role, as deployed.
APP_URL=$(jf_pg_url "$TMP/pg" "$PGPORT" jingfang jingfang_app)
mkdir -p "$TMP/lists"
say "generating a registry of $N patients and three lists of $N rows"
"$BIN/jingfang-reconcile-gen" --rows "$N" --dir "$TMP/lists" --registry >"$TMP/expected.txt"
iconv -f UTF-8 -t GBK "$TMP/lists/grid.utf8.csv" >"$TMP/lists/grid.csv"
rm "$TMP/lists/grid.utf8.csv"
psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null
ls -l "$TMP/lists" | tail -n +2

say "jingfang-reconcile --unit 429005003 police=… health=… grid=(GBK)"
JF_DB_URL=$APP_URL /usr/bin/time -v "$BIN/jingfang-reconcile" --unit 429005003 \
    police="$TMP/lists/police.csv" health="$TMP/lists/health.csv" grid="$TMP/lists/grid.csv" \
    >"$TMP/run.json" 2>"$TMP/time.txt" || { cat "$TMP/time.txt" >&2; die "the run failed"; }
WALL=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$TMP/time.txt")
RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/time.txt")
grep -E 'rows \(|analysis in|committed' "$TMP/time.txt" || true
printf '\nwall time %s, peak RSS of jingfang-reconcile %s KiB (%.1f MiB)\n\n' "$WALL" "$RSS" \
    "$(echo "$RSS / 1024" | bc -l)"

status=0
printf '%-20s %10s %10s\n' category seeded found
while read -r cat want; do
    got=$(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM reconcile_findings f JOIN reconcile_runs r ON r.id = f.run_id WHERE r.status = 'done' AND f.category = '$cat'")
    mark=""
    [ "$got" = "$want" ] || { mark="  MISMATCH"; status=1; }
    printf '%-20s %10s %10s%s\n' "$cat" "$want" "$got" "$mark"
done <"$TMP/expected.txt"

# The same lists through the API: three streamed uploads and the analysis.
APIPORT=$(jf_free_port 25000 7000)
export JF_LISTEN=127.0.0.1:$APIPORT JF_JWT_SECRET=$(jf_random_hex) JF_THREADS=16 JF_DB_POOL_SIZE=4
JF_DB_URL=$APP_URL "$BIN/jingfang-api" >"$TMP/api.log" 2>&1 &
API_PID=$!
trap 'kill -TERM $API_PID 2>/dev/null; wait $API_PID 2>/dev/null; cleanup' EXIT
jf_wait_http "http://$JF_LISTEN/healthz" || die "the API did not start"
TOKEN=$(curl -s "http://$JF_LISTEN/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"tf.doctor\",\"password\":\"$JF_DEMO_PASSWORD\"}" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || die "login failed"
UNIT=$(psql "$JF_DB_URL" -tAc "SELECT id FROM org_units WHERE code = '429005003'")
RUN=$(curl -s "http://$JF_LISTEN/api/v1/reconcile/runs" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"org_unit_id\":$UNIT}" | sed -n 's/^{"id" *: *\([0-9]*\).*/\1/p')
[ -n "$RUN" ] || die "no run"
say "API: PUT /api/v1/reconcile/runs/$RUN/sources/{police,health,grid}, then analyse"
t0=$(date +%s.%N)
for src in police health grid; do
    code=$(curl -s -o "$TMP/put.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: text/csv' --data-binary "@$TMP/lists/$src.csv" \
        "http://$JF_LISTEN/api/v1/reconcile/runs/$RUN/sources/$src")
    [ "$code" = 200 ] || { cat "$TMP/put.json" >&2; die "upload of $src: $code"; }
done
t1=$(date +%s.%N)
# The analysis is a job: answered at once (202), then followed to its end
# by polling it, as the dashboard does; the last step it reported is kept.
code=$(curl -s -o "$TMP/analyse.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Prefer: respond-async' "http://$JF_LISTEN/api/v1/reconcile/runs/$RUN/analyse")
t_answer=$(date +%s.%N)
[ "$code" = 202 ] || { cat "$TMP/analyse.json" >&2; die "analyse: $code"; }
JOB=$(sed -n 's/.*"id": *\([0-9]*\).*/\1/p' "$TMP/analyse.json" | head -1)
POLLS=0
while :; do
    curl -fsS -H "Authorization: Bearer $TOKEN" "http://$JF_LISTEN/api/v1/reconcile/jobs/$JOB" >"$TMP/job.json"
    POLLS=$((POLLS + 1))
    grep -q '"state": "\(queued\|running\)"' "$TMP/job.json" || break
    sleep 0.2
done
t2=$(date +%s.%N)
grep -q '"state": "done"' "$TMP/job.json" || { cat "$TMP/job.json" >&2; die "the job did not end done"; }
HWM=$(sed -n 's/^VmHWM: *//p' /proc/$API_PID/status)
printf '\nAPI: uploads %.1f s, analyse answered (202) in %.3f s, job done after %.1f s (%d polls), peak RSS of jingfang-api %s\n' \
    "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t_answer - $t1" | bc -l)" "$(echo "$t2 - $t1" | bc -l)" "$POLLS" "$HWM"
while read -r cat want; do
    got=$(psql "$JF_DB_URL" -tAc "SELECT count(*) FROM reconcile_findings WHERE run_id = $RUN AND category = '$cat'")
    [ "$got" = "$want" ] || { echo "API run: $cat $got, seeded $want" >&2; status=1; }
done <"$TMP/expected.txt"

[ "$status" -eq 0 ] && say "every count matches the seeded one" || say "counts differ"
exit "$status"
