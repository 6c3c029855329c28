#!/usr/bin/env bash
# Freshness of the statistics under mixed load (issue #19): while wrk reads
# patients and a writer records follow-up visits, the worker keeps the
# rollups with its passes (JF_STATS_REFRESH_S). For every visit it prints
# how long after the visit's commit the rollups had taken it in (the pass
# whose mark, stat_refresh_log.change_xmin, passed the visit's change), as
# a ratio to the worker's interval; and the reads per second under that
# load, as a ratio to the same reads alone.
#
# The dashboard's figures never wait for this: a reader puts the patients
# changed since the last pass right from the records. What lags is only the
# stored rollups, and the answer's as_of says how far.
#
# Usage: tests/bench/lag_bench.sh [PATIENTS] [SECONDS] [REFRESH_S]
#   defaults 100000 patients, 60 s of mixed load, a pass every 10 s.
set -euo pipefail
. "$(cd "$(dirname "$0")/../.." && pwd)/scripts/lib.sh"
. "$JF_ROOT/tests/bench/common.sh"
N=${1:-100000} SECS=${2:-60} REFRESH_S=${3:-10}

jf_bench_setup lag-bench
say "generating $N patients in 泰丰街道"
"$BIN/jingfang-gen" --patients "$N" --township 429005003
psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null
say "the first pass: the rollups built"
psql "$JF_DB_URL" -qc "SELECT stat_refresh()" >/dev/null

export JF_THREADS=${JF_THREADS:-32} JF_DB_POOL_SIZE=${JF_DB_POOL_SIZE:-8}
jf_bench_api
READER=$(jf_bench_login tf.official)
DOCTOR=$(jf_bench_login tf.doctor)
read -r LO HI < <(psql "$JF_DB_URL" -tA -F' ' -c \
    "SELECT min(id), max(id) FROM patients WHERE org_path LIKE (SELECT path FROM org_units WHERE code = '429005003') || '%'")

reads() { # reads/s of wrk -c 16 on GET /patients/{id} for $1 s
    wrk -t 2 -c 16 -d "${1}s" -s "$JF_ROOT/tests/bench/patient_get.lua" "http://$JF_LISTEN" \
        -- "$LO" "$HI" "$READER" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}
say "reads alone (${SECS} s)"
ALONE=$(reads "$SECS")

say "the worker, a pass every $REFRESH_S s"
JF_DB_URL=$APP_URL JF_STATS_REFRESH_S=$REFRESH_S "$BIN/jingfang-worker" >"$TMP/worker.log" 2>&1 &
WORKER_PID=$!
trap 'kill -TERM $WORKER_PID 2>/dev/null; wait $WORKER_PID 2>/dev/null; jf_bench_cleanup' EXIT
# The steady state: the first pass's sweeps (overdue notices for the whole
# generated register) and rollup pass are done before the load starts.
for i in $(seq 1 600); do
    grep -q '"event":"sweep".*"complete":true' "$TMP/worker.log" &&
        grep -A50 '"event":"sweep"' "$TMP/worker.log" | grep -q '"event":"stats"' && break
    sleep 0.5
done

# The writer: a stable visit every half second to a patient in care,
# noting when it was answered and its change's transaction; one watcher
# reads the worker's mark every 100 ms and times each visit the mark passed.
TODAY=$(psql "$JF_DB_URL" -tAc "SELECT stat_today()")
BODY="{\"visit_date\":\"$TODAY\",\"mode\":\"home\",\"reached\":true,\"risk_level\":0,\
\"insight\":\"complete\",\"compliance\":\"regular\",\"social_function\":{\"personal_care\":\"good\",\
\"housework\":\"good\",\"work\":\"good\",\"learning\":\"good\",\"social_contact\":\"good\"}}"
psql "$JF_DB_URL" -tAc "SELECT id FROM patients WHERE status = 'in_care' AND id BETWEEN $LO AND $HI
    ORDER BY random() LIMIT $((SECS * 2 + 10))" >"$TMP/ids"
: >"$TMP/written" && : >"$TMP/lag.ms"
writer() {
    local end=$((SECONDS + SECS)) t0 xid pid
    while read -r pid && [ $SECONDS -lt $end ]; do
        t0=$(date +%s%3N)
        curl -fsS -o /dev/null -X POST "http://$JF_LISTEN/api/v1/patients/$pid/follow-ups" \
            -H "Authorization: Bearer $DOCTOR" -H 'Content-Type: application/json' -d "$BODY" ||
            continue
        xid=$(psql "$JF_DB_URL" -tAc "SELECT xid FROM changes WHERE kind = 'patient'
              AND entity_id = $pid ORDER BY xid DESC LIMIT 1")
        echo "$t0 $xid" >>"$TMP/written"
        sleep 0.5
    done <"$TMP/ids"
    touch "$TMP/writer.done"
}
watcher() {
    local done=0 mark now t0 xid
    while :; do
        mark=$(psql "$JF_DB_URL" -tAc "SELECT change_xmin FROM stat_refresh_log")
        now=$(date +%s%3N)
        while read -r t0 xid; do # in the order written: the mark passes them in order
            [ "$xid" -lt "$mark" ] || break
            echo $((now - t0)) >>"$TMP/lag.ms"
        done < <(tail -n +$((done + 1)) "$TMP/written")
        done=$(wc -l <"$TMP/lag.ms")
        [ -e "$TMP/writer.done" ] && [ "$done" -ge "$(wc -l <"$TMP/written")" ] && break
        sleep 0.1
    done
}
say "mixed load: reads, a visit every 0.5 s, the worker's passes (${SECS} s)"
writer &
WRITER=$!
watcher &
WATCHER=$!
MIXED=$(reads "$SECS")
wait $WRITER $WATCHER
WRITES=$(wc -l <"$TMP/lag.ms")
sort -n "$TMP/lag.ms" -o "$TMP/lag.ms"
pct() { awk -v p="$1" '{ a[NR] = $1 } END { if (NR) print a[int((NR - 1) * p + 0.5) + 1]; else print "n/a" }' "$TMP/lag.ms"; }
PASS_S=$(psql "$JF_DB_URL" -tAc "SELECT round(seconds::numeric, 2) FROM stat_refresh_log")

echo
echo "lag of the rollups under mixed load: $N patients, $WRITES visits, a pass every $REFRESH_S s"
printf '%-52s %10s %8s\n' "" "value" "ratio"
printf '%-52s %10s %8s\n' "reads/s, alone (baseline)" "$ALONE" "1.00"
printf '%-52s %10s %8s\n' "reads/s, with visits and the worker's passes" "$MIXED" \
    "$(awk -v a="$ALONE" -v b="$MIXED" 'BEGIN { printf "%.2f", b / a }')"
for p in 0.5 0.95 1; do
    v=$(pct $p)
    printf '%-52s %10s %8s\n' "visit → in the rollups, p$(awk -v p=$p 'BEGIN { print p * 100 }') (ms)" "$v" \
        "$(awk -v v="$v" -v r="$REFRESH_S" 'BEGIN { if (v + 0 == v) printf "%.2f", v / (r * 1000); else print "-" }')"
done
printf '%-52s %10s\n' "the last pass (s)" "$PASS_S"
echo "(ratio of a lag: to the interval between passes; at most 1 plus a pass's time is the bound)"
