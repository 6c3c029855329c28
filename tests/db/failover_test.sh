#!/usr/bin/env bash
# Automatic failover on PostgreSQL's own replication: a primary with a
# synchronous hot standby, and the API given both hosts in one libpq URL
# (target_session_attrs=read-write). Keyed writes go on while the primary
# is killed with SIGKILL and the standby promoted. Every write answered
# 2xx, and every write retried with its key until it is, must be there
# exactly once on the new primary; nothing may be answered 500 (503 while
# no primary is reachable); the API must write again by itself. The time
# from the promotion to the first write served is printed, not asserted.
set -euo pipefail
: "${JF_TEST_API_BIN:?run through scripts/test}" "${JF_DEMO_PASSWORD:?}"
source "$(cd "$(dirname "$0")/../.." && pwd)/scripts/lib.sh"
BUILD=$(cd "$(dirname "$JF_TEST_API_BIN")/.." && pwd)
WRITES=${JF_FAILOVER_WRITES:-60}
KILL_AFTER=20

T=$(mktemp -d /tmp/jf-failover.XXXXXX)
chmod 755 "$T"
PP=$(jf_free_port 16000 2000)
SP=$(jf_free_port 18000 2000)
AP=$(jf_free_port 20000 2000)
API_PID=""
cleanup() {
    [ -n "$API_PID" ] && kill -TERM "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
    jf_pg_stop "$T/p"
    jf_pg_stop "$T/s"
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/api.log" ] && tail -20 "$T/api.log" >&2; exit 1; }

jf_pg_start "$T/p" "$PP"
jf_db_prepare "$BUILD" "$T/p" "$PP" 2>/dev/null
jf_pg_standby "$T/p" "$PP" "$T/s" "$SP" jf_standby
# Synchronous: a commit is acknowledged once the standby has it on disk.
psql "$(jf_pg_url "$T/p" "$PP")" -qc "ALTER SYSTEM SET synchronous_standby_names = 'jf_standby'" \
    -c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do
    [ "$(psql "$(jf_pg_url "$T/p" "$PP")" -tAc \
        "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ] && break
    sleep 0.1
done
[ "$(psql "$(jf_pg_url "$T/p" "$PP")" -tAc \
    "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ] ||
    fail "the standby is not synchronous"

JF_DB_URL="host=$T/p/run,$T/s/run port=$PP,$SP dbname=jingfang user=jingfang_app"
JF_DB_URL+=" target_session_attrs=read-write connect_timeout=2"
JF_DB_URL=$JF_DB_URL JF_LISTEN=127.0.0.1:$AP \
    "$JF_TEST_API_BIN" >"$T/api.log" 2>&1 &
API_PID=$!
jf_wait_http "http://127.0.0.1:$AP/readyz" || fail "the API did not start"
URL=http://127.0.0.1:$AP/api/v1

token=$(curl -sf "$URL/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"tf.grid1\",\"password\":\"$JF_DEMO_PASSWORD\"}" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || fail "login"

# One keyed alert, retried with its key until answered 2xx (at most 60 s):
# a line per answer, "<epoch seconds> <status>", into $2; 500 ends it.
write() {
    local k=$1 log=$2 code deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$URL/alerts" \
            -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -H "Idempotency-Key: failover-$k" \
            -d "{\"person\":\"不明人员\",\"grade\":\"watch\",\"place\":\"failover-$k\",\"observed\":\"演练\"}") || true
        echo "$(date +%s.%N) $code" >>"$log"
        case $code in
        2??) return 0 ;;
        500) return 1 ;;
        esac
        sleep 0.1
    done
    return 1
}

# Writers side by side, so that writes are in flight when the primary dies.
WRITERS=4
pids=()
for w in $(seq 1 $WRITERS); do
    (for k in $(seq "$w" $WRITERS "$WRITES"); do write "$k" "$T/w$w.log" || exit 1; done) &
    pids+=($!)
done
acked() { cat "$T"/w*.log 2>/dev/null | awk '$2 ~ /^2/' | wc -l; }
while [ "$(acked)" -lt "$KILL_AFTER" ]; do sleep 0.05; done
kill -KILL "$(head -1 "$T/p/postmaster.pid")"
# No primary for a while: writes must be refused (503), never failed (500).
sleep 2
as_pg "$PG_BIN/pg_ctl" -D "$T/s" -w promote >/dev/null || fail "promote"
promoted_at=$(date +%s.%N)
for pid in "${pids[@]}"; do
    wait "$pid" || fail "a writer saw a 500 or never got its write in: $(cat "$T"/w*.log | awk '$2 !~ /^2/' | sort | uniq -c | head)"
done
cat "$T"/w*.log | awk -v p="$promoted_at" '
    $2 == 503 { refused++ } $2 ~ /^2/ && $1 > p && (first == "" || $1 < first) { first = $1 }
    END { printf "no primary: %d writes answered 503; writes served again %.2f s after the promotion\n",
                 refused, first - p; exit !(refused > 0 && first != "") }' ||
    fail "the outage was not seen (no 503), or no write was served after it"

# On the new primary: every key exactly once.
counts=$(psql "$(jf_pg_url "$T/s" "$SP")" -tAc "SELECT count(*) FILTER (WHERE n = 1) || '/' ||
    count(*) FILTER (WHERE n <> 1) FROM (SELECT place, count(*) n FROM alerts
    WHERE place LIKE 'failover-%' GROUP BY place) x")
[ "$counts" = "$WRITES/0" ] || fail "rows per key (once/other): $counts, expected $WRITES/0"
kill -TERM "$API_PID"
wait "$API_PID" || fail "the API did not exit cleanly"
API_PID=""
echo "failover: $WRITES keyed writes, each exactly once across a SIGKILL of the primary"
