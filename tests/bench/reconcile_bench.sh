#!/usr/bin/env bash
# Benchmark of the 三网 comparison (a benchmark, not a test). On one
# throwaway database it writes a registry of N generated patients, three
# lists of N rows each (police and health UTF-8, grid GBK) with
# discrepancies seeded in known numbers (jingfang-reconcile-gen), then runs
# jingfang-reconcile on them under /usr/bin/time -v and prints the wall
# time, the tool's peak RSS and the findings per category next to the
# seeded counts; it exits non-zero when a count differs.
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
export JF_ID_ENC_KEY=$(jf_random_hex) JF_ID_INDEX_KEY=$(jf_random_hex)
mkdir -p "$TMP/lists"
say "generating a registry of $N patients and three lists of $N rows"
"$BIN/jingfang-reconcile-gen" --rows "$N" --dir "$TMP/lists" --registry >"$TMP/expected.txt"
iconv -f UTF-8 -t GBK "$TMP/lists/grid.utf8.csv" >"$TMP/lists/grid.csv"
rm "$TMP/lists/grid.utf8.csv"
psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null
ls -l "$TMP/lists" | tail -n +2

say "jingfang-reconcile --unit 429005003 police=… health=… grid=(GBK)"
/usr/bin/time -v "$BIN/jingfang-reconcile" --unit 429005003 \
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
[ "$status" -eq 0 ] && say "every count matches the seeded one" || say "counts differ"
exit "$status"
