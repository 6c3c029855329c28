#!/usr/bin/env bash
# Benchmark of the grid-worker app in the browser (a benchmark, not a test:
# it asserts nothing about time). On a throwaway database with the demo data
# and one grid of N patients (300 by default) and its grid worker, the
# release API serves the built app at /m/; tests/bench/mobile_bench.mjs
# prints the app shell (gzip), the cold sync of the grid from an empty
# phone, and the opening of 今日 from the local copy with no network.
# Usage: tests/bench/mobile_bench.sh [runs, default 5]
# Knobs: JF_BENCH_PATIENTS (default 300), JF_BENCH_KEEP=1 keeps the cluster.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

RUNS=${1:-5}
N=${JF_BENCH_PATIENTS:-300}
jf_install_deps
say "building release (build/) and the grid-worker app"
jf_build "$JF_ROOT/build" -DCMAKE_BUILD_TYPE=Release
export JF_MOBILE_DIR=$(jf_web_build mobile)
BIN=$JF_ROOT/build/api
TMP=$(mktemp -d /tmp/jf-mobile-bench.XXXXXX)
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
export JF_AUDIT_KEY=$(jf_random_hex) JF_DEMO_PASSWORD
say "one grid of $N patients and its grid worker (bench.grid, the demo password)"
psql "$JF_DB_URL" -v ON_ERROR_STOP=1 -q -v n="$N" <<'SQL' >/dev/null
INSERT INTO org_units (parent_id, level, code, name)
SELECT id, 'grid', '429005003001G99', '压测网格' FROM org_units WHERE code = '429005003001';
INSERT INTO patients (org_unit_id, org_path, status, name, id_cipher, id_index, id_masked, phone,
                      phone_masked, address, diagnosis, diagnosis_date, risk_level, colour, next_due)
SELECT u.id, '', 'in_care', '压测' || g, decode(md5('c' || g), 'hex'), decode(md5('i' || g), 'hex'),
       '429005********' || lpad(g::text, 4, '0'), '1390000' || lpad(g::text, 4, '0'),
       '139****' || lpad(g::text, 4, '0'), '梅苑社区' || g || '号', 'schizophrenia', '2020-01-01',
       g % 4, (ARRAY['green','yellow','orange','red'])[1 + g % 4], current_date - 30 + g % 40
  FROM org_units u, generate_series(1, :n) g WHERE u.code = '429005003001G99';
INSERT INTO users (username, display_name, role, org_unit_id, agency_id, password_hash)
SELECT 'bench.grid', '压测网格员', 'grid_worker', u.id, t.agency_id, t.password_hash
  FROM org_units u, users t WHERE u.code = '429005003001G99' AND t.username = 'tf.grid1';
VACUUM ANALYZE;
SQL

# The service connects as the app role, as in production.
export JF_DB_URL=$(jf_pg_url "$TMP/pg" "$PGPORT" jingfang jingfang_app)
export JF_LISTEN=127.0.0.1:$APIPORT
"$BIN/jingfang-api" >"$TMP/api.log" 2>&1 &
API_PID=$!
jf_wait_http "http://$JF_LISTEN/healthz" || { cat "$TMP/api.log" >&2; die "the API did not start"; }

echo
echo "grid: $N patients   machine: $(nproc) cores"
node "$JF_ROOT/tests/bench/mobile_bench.mjs" "http://$JF_LISTEN" "$JF_MOBILE_DIR" "$RUNS" "$N"
