# Shared set-up of the benchmarks; source after scripts/lib.sh.
# shellcheck shell=bash

# jf_bench_setup NAME: the release build, and a throwaway cluster in a new
# /tmp/jf-NAME.* directory ($TMP) with the migrations and the demo, removed
# on exit (JF_BENCH_KEEP=1 keeps it and says where). Exports JF_DB_URL (the
# superuser: generator, pgbench, psql) and the service's keys; sets BIN,
# APP_URL (the app role, as the service connects when deployed), PGPORT
# and APIPORT. JF_BENCH_REUSE=DIR: the cluster a run kept in DIR instead
# (kept again), started on its port, migrated, with the keys it saved.
jf_bench_setup() {
    jf_install_deps
    say "building release (build/)"
    jf_build "$JF_ROOT/build" -DCMAKE_BUILD_TYPE=Release
    BIN=$JF_ROOT/build/api
    export JF_JWT_SECRET JF_ID_ENC_KEY JF_ID_INDEX_KEY JF_AUDIT_KEY
    if [ -n "${JF_BENCH_REUSE:-}" ]; then
        TMP=$JF_BENCH_REUSE JF_BENCH_KEEP=1
        [ -s "$TMP/keys.env" ] || die "$TMP has no keys.env: not a kept run"
        PGPORT=$(sed -n 's/^port = \([0-9]*\).*/\1/p' "$TMP/pg/postgresql.conf" | tail -1)
        # shellcheck disable=SC1091
        . "$TMP/keys.env"
    else
        TMP=$(mktemp -d "/tmp/jf-$1.XXXXXX")
        chmod 755 "$TMP"
        PGPORT=$(jf_free_port 15000 10000)
        JF_JWT_SECRET=$(jf_random_hex) JF_ID_ENC_KEY=$(jf_random_hex)
        JF_ID_INDEX_KEY=$(jf_random_hex) JF_AUDIT_KEY=$(jf_random_hex)
    fi
    APIPORT=$(jf_free_port 25000 7000)
    API_PID=""
    trap jf_bench_cleanup EXIT
    jf_pg_start "$TMP/pg" "$PGPORT"
    jf_db_prepare "$BIN/.." "$TMP/pg" "$PGPORT" 2>"$TMP/migrate.log" ||
        { cat "$TMP/migrate.log" >&2; die "the database could not be migrated"; }
    export JF_DB_URL
    JF_DB_URL=$(jf_pg_url "$TMP/pg" "$PGPORT")
    APP_URL=$(jf_pg_url "$TMP/pg" "$PGPORT" jingfang jingfang_app)
}

jf_bench_cleanup() {
    [ -n "$API_PID" ] && kill -TERM "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
    if [ "${JF_BENCH_KEEP:-0}" = 1 ]; then
        say "kept: $TMP (stop with pg_ctl -D $TMP/pg stop)"
    else
        jf_pg_stop "$TMP/pg"
        rm -rf "$TMP"
    fi
}

# jf_bench_api: the service on APIPORT as the app role (JF_THREADS and
# JF_DB_POOL_SIZE as the caller set them), its log in $TMP/api.log.
jf_bench_api() {
    export JF_LISTEN=127.0.0.1:$APIPORT
    JF_DB_URL=$APP_URL "$BIN/jingfang-api" >"$TMP/api.log" 2>&1 &
    API_PID=$!
    jf_wait_http "http://$JF_LISTEN/healthz" || die "the API did not start"
}

# jf_bench_login USER: an access token of a demo user, on stdout.
jf_bench_login() {
    local token
    token=$(curl -s "http://$JF_LISTEN/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$JF_DEMO_PASSWORD\"}" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || die "login as $1 failed"
    echo "$token"
}

# jf_bench_audit_load ROWS LO HI: ROWS read records of patients LO..HI over
# the last 24 months (each month its 24th), as the owner would import them
# (the chain's triggers off: a bulk load, not reads); the caller vacuums.
jf_bench_audit_load() {
    psql "$JF_DB_URL" -q -v ON_ERROR_STOP=1 -v rows="$1" -v lo="$2" -v hi="$3" >/dev/null <<'SQL'
SELECT audit_partitions_ensure(((now() AT TIME ZONE 'Asia/Shanghai') - interval '23 months')::date,
                               (now() AT TIME ZONE 'Asia/Shanghai')::date);
ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain_head;
SELECT format('INSERT INTO audit_log (at, user_id, username, role, action, target_type, target_id,'
              ' org_unit_id, client_addr, request_id)'
              ' SELECT %L::timestamptz + random() * least(%L::timestamptz - %L::timestamptz, now() - %L::timestamptz),'
              ' 1 + (i %% 50), ''bench'', ''doctor'', ''patient.read'', ''patient'','
              ' (%s + (random() * %s)::bigint)::text, 1, ''10.0.0.1'', ''bench-'' || i'
              ' FROM generate_series(1, %s) i',
              m.lo, m.hi, m.lo, m.lo, :lo, :hi - :lo, :rows / 24)
  FROM generate_series(0, 23) k,
       LATERAL audit_month(((now() AT TIME ZONE 'Asia/Shanghai') - make_interval(months => k))::date) m
\gexec
ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain_head;
SQL
}
