#!/usr/bin/env bash
# Benchmark of the township dashboard in the browser (a benchmark, not a
# test: it asserts nothing about time). On a throwaway database with N
# generated patients in one township (statistics cache refreshed), the
# release API serves the built client; tests/bench/web_bench.mjs prints the
# login page's JS + CSS (gzip, as sent), the whole build's size, and the
# time from the 登录 click until 首页 is interactive, beside the dashboard
# API request alone.
# Usage: tests/bench/web_bench.sh [runs, default 5]
# Knobs: JF_BENCH_PATIENTS (default 1000000), JF_BENCH_KEEP=1 keeps the cluster.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

RUNS=${1:-5}
N=${JF_BENCH_PATIENTS:-1000000}
jf_install_deps
say "building release (build/) and the web client"
jf_build "$JF_ROOT/build" -DCMAKE_BUILD_TYPE=Release
export JF_WEB_DIR=$(jf_web_build)
BIN=$JF_ROOT/build/api
TMP=$(mktemp -d /tmp/jf-web-bench.XXXXXX)
chmod 755 "$TMP"
PGPORT=$(jf_free_port 15000 10000)
APIPORT=$(jf_free_port 25000 7000)
API_PID=""
cleanup() {
    [ -n "$API_PID" ] && kill -TERM "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
    if [ "${JF_BENCH_KEEP:-0}" = 1 ]; then
        say "kept: $TMP (stop with pg_ctl -D $TMP/pg stop)"
    else
        jf_pg_stop "$TMP/pg"
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT

jf_pg_start "$TMP/pg" "$PGPORT"
jf_db_prepare "$BIN/.." "$TMP/pg" "$PGPORT" 2>/dev/null
export JF_DB_URL=$(jf_pg_url "$TMP/pg" "$PGPORT")
export JF_JWT_SECRET=$(jf_random_hex) JF_ID_ENC_KEY=$(jf_random_hex) JF_ID_INDEX_KEY=$(jf_random_hex)
export JF_AUDIT_KEY=$(jf_random_hex)
say "generating $N patients in 泰丰街道"
t0=$(date +%s)
"$BIN/jingfang-gen" --patients "$N" --township 429005003 >/dev/null
GEN_S=$(($(date +%s) - t0))
psql "$JF_DB_URL" -qc "VACUUM ANALYZE" >/dev/null
psql "$JF_DB_URL" -qc "SELECT stat_refresh()" >/dev/null

export JF_LISTEN=127.0.0.1:$APIPORT
"$BIN/jingfang-api" >"$TMP/api.log" 2>&1 &
API_PID=$!
jf_wait_http "http://$JF_LISTEN/healthz" || { tail -5 "$TMP/api.log" >&2; die "the API did not start"; }

echo
echo "patients: $(psql "$JF_DB_URL" -tAc 'SELECT count(*) FROM patients')   generated in $GEN_S s   machine: $(nproc) cores"
node "$JF_ROOT/tests/bench/web_bench.mjs" "http://$JF_LISTEN" "$JF_WEB_DIR" "$RUNS"
