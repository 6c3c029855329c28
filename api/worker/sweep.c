/* Escalation and overdue sweeps: idempotent SQL passes raising and escalating notifications. */
#include "sweep.h"
#include "../core/err.h"
#include "../core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Cases raised per statement, so that a first run over a large register is
 * many short transactions rather than one long one. */
#define SWEEP_BATCH 500
/* Statements per sweep and pass: the rest waits for the next pass. */
#define SWEEP_MAX_ROUNDS 200

/* $1 now. Every notification whose deadline passed with a recipient that has
 * not acknowledged goes to the township whose path prefixes the patient's.
 * escalated_at IS NULL makes it once only, also between racing workers (the
 * second waits for the first's row lock, then sees it escalated). */
static jf_stmt escalate = {
    "worker_escalate",
    "UPDATE notifications n SET escalated_at = coalesce($1::timestamptz, now()),"
    " escalated_unit_id = (SELECT o.id FROM org_units o WHERE o.level = 'township'"
    "  AND starts_with(n.org_path, o.path) ORDER BY length(o.path) DESC LIMIT 1)"
    " WHERE n.escalated_at IS NULL AND n.deadline_at < coalesce($1::timestamptz, now())"
    " AND EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id"
    "  AND r.acknowledged_at IS NULL)",
    0,
};

/* $1 now, $2 tolerance days, $3 batch. A patient on the register (在册) whose
 * next follow-up was due more than the tolerance ago. In hospital there is
 * no due date (next_due is NULL), so no notification. The NOT EXISTS keeps
 * notify() from being called for cases already raised; its ON CONFLICT on
 * the dedup key settles races with another worker. Returns (candidates,
 * raised). */
static jf_stmt followups = {
    "worker_sweep_followups",
    "WITH c AS (SELECT p.id, p.next_due,"
    "  'followup_overdue:' || p.id || ':' || to_char(p.next_due, 'YYYY-MM-DD') AS dedup"
    "  FROM patients p"
    "  WHERE on_register(p.status)"
    "  AND p.next_due < coalesce($1::timestamptz, now())::date - $2::int"
    "  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedup_key ="
    "   'followup_overdue:' || p.id || ':' || to_char(p.next_due, 'YYYY-MM-DD'))"
    "  ORDER BY p.id LIMIT $3::int),"
    " r AS (SELECT notify('followup_overdue', c.id, NULL,"
    "  jsonb_build_object('next_due', c.next_due), NULL, NULL, c.dedup,"
    "  coalesce($1::timestamptz, now())) AS nid FROM c)"
    " SELECT count(*), count(nid) FROM r",
    0,
};

/* $1 now, $2 batch. Who is overdue is pickups_overdue, as on the 取药超期
 * worklist (db/definitions/medication.sql) [R-MED-1], each by their unit's
 * tolerance (pickup_tolerance_days). Keyed by the date the supply ran out,
 * so a later pick-up that runs out again raises anew. */
static jf_stmt pickups = {
    "worker_sweep_pickups",
    "WITH s AS (SELECT coalesce($1::timestamptz, now())::date AS today),"
    " c AS (SELECT o.patient_id AS id, o.pickup_id, o.expected_by, o.days_late,"
    "  'pickup_overdue:' || o.patient_id || ':' || to_char(o.expected_by, 'YYYY-MM-DD') AS dedup"
    "  FROM s, pickups_overdue('/', '0', s.today) o"
    "  WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedup_key ="
    "   'pickup_overdue:' || o.patient_id || ':' || to_char(o.expected_by, 'YYYY-MM-DD'))"
    "  ORDER BY o.patient_id LIMIT $2::int),"
    " r AS (SELECT notify('pickup_overdue', c.id, NULL, jsonb_build_object("
    "  'expected_by', c.expected_by, 'days_late', c.days_late, 'last_pickup_id', c.pickup_id),"
    "  NULL, NULL, c.dedup, coalesce($1::timestamptz, now())) AS nid FROM c)"
    " SELECT count(*), count(nid) FROM r",
    0,
};

/* $1 now: the exchanges (信息交换, migration 0033) of every period ended
 * by then, for every township. Returns how many rows it made. */
static jf_stmt exchanges = {
    "worker_sweep_exchanges",
    "SELECT exchange_schedule((coalesce($1::timestamptz, now()) AT TIME ZONE "
    "'Asia/Shanghai')::date)",
    0,
};

/* $1 now: the audit trail's partitions (migration 0047) for this month and
 * the three ahead, so that an audit row never finds no month to go to, and
 * the patient-history index of the months that are over. A lock timeout
 * inside makes a busy moment fail this pass, not the reads. */
static jf_stmt audit_months = {
    "worker_sweep_audit_months",
    "SELECT audit_partitions_ensure(d, (d + interval '3 months')::date)"
    " + audit_partitions_index(d)"
    " FROM (SELECT (coalesce($1::timestamptz, now()) AT TIME ZONE 'Asia/Shanghai')::date AS d) t",
    0,
};

/* $1 now: the follow-ups' year partitions (migration 0049) for this year
 * and the next, and the webhook deliveries' months (0050) for this month
 * and the three ahead, so that no visit or delivery finds no partition to
 * go to (a visit is never dated after today). */
static jf_stmt history_partitions = {
    "worker_sweep_history_partitions",
    "SELECT follow_ups_partitions_ensure(d, (d + interval '1 year')::date)"
    " + deliveries_partitions_ensure(d, (d + interval '3 months')::date)"
    " FROM (SELECT (coalesce($1::timestamptz, now()) AT TIME ZONE 'Asia/Shanghai')::date AS d) t",
    0,
};

/* Returns whether it refreshed (false: another session was at it). */
static jf_stmt stats_refresh = {"worker_stats_refresh", "SELECT stat_refresh()", 0};

int jf_sweep_init(void)
{
    jf_stmt *const s[] = {&escalate,     &followups,          &pickups,      &exchanges,
                          &audit_months, &history_partitions, &stats_refresh};

    return jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
}

/* Run a one-statement sweep as of now; *count gets the rows it touched
 * (an UPDATE's) or made (a function's count in row 0). */
static int sweep_once(jf_db_conn *conn, const jf_stmt *stmt, const char *now, long *count)
{
    const char *p[] = {now};
    PGresult *res = NULL;
    int rc = jf_db_exec(conn, stmt, 1, p, &res);

    if (rc == 0)
        *count += strtol(PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : PQcmdTuples(res), NULL, 10);
    else
        jf_log_error("sweep", "%s failed: %s %s", stmt->name, jf_err_str(rc),
                     res ? PQresultErrorMessage(res) : "");
    PQclear(res);
    return rc;
}

/* Run a raising statement (params end with the batch size) until a round
 * finds fewer candidates than a batch. */
static int sweep_raise(jf_db_conn *conn, const jf_stmt *stmt, int n, const char *const *p,
                       long *count)
{
    PGresult *res = NULL;
    long candidates = SWEEP_BATCH;
    int rc = 0;

    for (int round = 0; rc == 0 && candidates == SWEEP_BATCH && round < SWEEP_MAX_ROUNDS; round++) {
        rc = jf_db_exec(conn, stmt, n, p, &res);
        if (rc != 0) {
            jf_log_error("sweep", "%s failed: %s %s", stmt->name, jf_err_str(rc),
                         res ? PQresultErrorMessage(res) : "");
            break;
        }
        candidates = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        *count += strtol(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
        res = NULL;
    }
    PQclear(res);
    return rc;
}

/* One JSON line per pass of the sweeps, with what each did. */
static void log_counts(const jf_sweep_counts *c, int rc)
{
    char ts[40], line[512];
    int n;

    jf_log_timestamp(ts, sizeof(ts));
    n = snprintf(line, sizeof(line),
                 "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"sweep\",\"escalated\":%ld,"
                 "\"followup_overdue\":%ld,\"pickup_overdue\":%ld,\"exchanges\":%ld,"
                 "\"audit_months\":%ld,\"history_partitions\":%ld,\"complete\":%s}",
                 ts, rc == 0 ? "info" : "error", c->escalated, c->followup_overdue,
                 c->pickup_overdue, c->exchanges, c->audit_months, c->history_partitions,
                 rc == 0 ? "true" : "false");
    if (n > 0 && (size_t)n < sizeof(line))
        jf_log_line(line, (size_t)n);
}

int jf_sweep_run(jf_db_conn *conn, const char *now, jf_sweep_counts *counts)
{
    char batch[16], tolerance[16];
    const char *fp[3], *pp[2];
    int rc;

    snprintf(batch, sizeof(batch), "%d", SWEEP_BATCH);
    snprintf(tolerance, sizeof(tolerance), "%d", JF_SWEEP_FOLLOWUP_TOLERANCE_DAYS);
    fp[0] = now;
    fp[1] = tolerance;
    fp[2] = batch;
    pp[0] = now;
    pp[1] = batch;
    memset(counts, 0, sizeof(*counts));
    /* Escalate first: what the sweeps raise now has a deadline ahead. */
    rc = sweep_once(conn, &escalate, now, &counts->escalated);
    if (rc == 0)
        rc = sweep_raise(conn, &followups, 3, fp, &counts->followup_overdue);
    if (rc == 0)
        rc = sweep_raise(conn, &pickups, 2, pp, &counts->pickup_overdue);
    if (rc == 0)
        rc = sweep_once(conn, &exchanges, now, &counts->exchanges);
    if (rc == 0)
        rc = sweep_once(conn, &audit_months, now, &counts->audit_months);
    if (rc == 0)
        rc = sweep_once(conn, &history_partitions, now, &counts->history_partitions);
    log_counts(counts, rc);
    return rc;
}

int jf_sweep_stats(jf_db_conn *conn)
{
    struct timespec t0, t1;
    PGresult *res = NULL;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = jf_db_exec(conn, &stats_refresh, 0, NULL, &res);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != 0)
        jf_log_error("stats", "refresh failed: %s %s", jf_err_str(rc),
                     res ? PQresultErrorMessage(res) : "");
    else
        jf_log_info("stats", "%s in %.1f s",
                    strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? "rollups up to date"
                                                            : "refresh skipped (another worker)",
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    PQclear(res);
    return rc;
}
