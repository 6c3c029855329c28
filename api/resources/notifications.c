/* Inboxes of inter-agency notifications (通报): what reached my agency (or
 * me, a grid worker), what is unacknowledged or overdue, acknowledging with
 * what was done, and — for township officials — what was escalated because
 * nobody acted in time. Webhook endpoints of external systems and their
 * delivery log are managed here too. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Visible to a caller: a recipient row of their agency or of them; or, for
 * officials and admins, anything in their subtree (supervision). */
#define VISIBLE                                                                                    \
    " (EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id"             \
    "   AND (r.agency_id = nullif($1::bigint, 0) OR r.user_id = $2::bigint))"                      \
    "  OR ($3::bool AND starts_with(n.org_path, $4)))"

#define NOTIFICATION_JSON                                                                          \
    "json_build_object('id', n.id, 'kind', n.kind, 'title', k.title, 'patient_id',"                \
    " n.patient_id, 'patient_name', p.name, 'org_unit_id', n.org_unit_id, 'org_unit_name',"        \
    " o.name, 'summary', n.summary, 'detail', n.detail, 'created_at', n.created_at,"               \
    " 'deadline_at', CASE WHEN isfinite(n.deadline_at) THEN n.deadline_at END,"                    \
    " 'overdue', n.deadline_at < $5::timestamptz AND EXISTS"                                       \
    " (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id"                     \
    "  AND r.acknowledged_at IS NULL), 'escalated_at', n.escalated_at, 'escalated_unit_id',"       \
    " n.escalated_unit_id, 'sender_agency_id', n.sender_agency_id, 'recipients',"                  \
    " (SELECT coalesce(json_agg(json_build_object('id', r.id, 'agency_id', r.agency_id,"           \
    "  'agency_name', a.name, 'agency_kind', a.kind, 'user_id', r.user_id, 'user_name',"           \
    "  u.display_name, 'read_at', r.read_at, 'acknowledged_at', r.acknowledged_at,"                \
    "  'acknowledged_by', r.acknowledged_by, 'action_taken', r.action_taken,"                      \
    "  'mine', coalesce(r.agency_id = nullif($1::bigint, 0) OR r.user_id = $2::bigint, false))"    \
    "  ORDER BY r.id),"                                                                            \
    "  '[]') FROM notification_recipients r LEFT JOIN agencies a ON a.id = r.agency_id"            \
    "  LEFT JOIN users u ON u.id = r.user_id WHERE r.notification_id = n.id))"

#define FROM_N                                                                                     \
    " FROM notifications n JOIN notification_kinds k ON k.kind = n.kind"                           \
    " JOIN patients p ON p.id = n.patient_id JOIN org_units o ON o.id = n.org_unit_id"

/* $6 state: all | open (some recipient of mine has not acknowledged) |
 * overdue | escalated | acknowledged; $7 kind; $8 patient; $9 before id; $10 limit. */
static jf_stmt list_stmt = {
    "notifications_list",
    "WITH page AS (SELECT n.id" FROM_N " WHERE" VISIBLE
    " AND ($7::text IS NULL OR n.kind = $7) AND ($8::bigint IS NULL OR n.patient_id = $8)"
    " AND ($9::bigint = 0 OR n.id < $9)"
    " AND CASE $6 WHEN 'all' THEN true"
    "  WHEN 'escalated' THEN n.escalated_at IS NOT NULL"
    "  WHEN 'acknowledged' THEN NOT EXISTS (SELECT 1 FROM notification_recipients r"
    "   WHERE r.notification_id = n.id AND r.acknowledged_at IS NULL)"
    "  ELSE EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id"
    "   AND r.acknowledged_at IS NULL AND ($6 = 'open' OR n.deadline_at < $5::timestamptz)"
    "   AND (r.agency_id = nullif($1::bigint, 0) OR r.user_id = $2::bigint"
    "    OR ($3::bool AND $6 = 'overdue'))) END"
    " ORDER BY n.id DESC LIMIT $10::int + 1),"
    " shown AS (SELECT id FROM page ORDER BY id DESC LIMIT $10::int)"
    " SELECT coalesce((SELECT json_agg(" NOTIFICATION_JSON " ORDER BY n.id DESC)" FROM_N
    " WHERE n.id IN (SELECT id FROM shown)), '[]'), (SELECT count(*) FROM page) > $10::int,"
    " (SELECT min(id) FROM shown)",
    0,
};
static jf_stmt one_stmt = {
    "notifications_one", "SELECT " NOTIFICATION_JSON "::text" FROM_N " WHERE n.id = $6 AND" VISIBLE,
    0};
static jf_stmt mark_read = {
    "notifications_read",
    "UPDATE notification_recipients SET read_at = coalesce(read_at, now())"
    " WHERE notification_id = $1 AND (agency_id = nullif($2::bigint, 0) OR user_id = $3)",
    0,
};
static jf_stmt ack_stmt = {
    "notifications_ack",
    "UPDATE notification_recipients SET acknowledged_at = $5::timestamptz, acknowledged_by = $3,"
    " action_taken = $4, read_at = coalesce(read_at, $5::timestamptz)"
    " WHERE notification_id = $1 AND acknowledged_at IS NULL"
    " AND (agency_id = nullif($2::bigint, 0) OR user_id = $3) RETURNING id",
    0,
};
static jf_stmt mine_stmt = {
    "notifications_mine",
    "SELECT count(*) FILTER (WHERE acknowledged_at IS NULL), count(*)"
    " FROM notification_recipients WHERE notification_id = $1"
    " AND (agency_id = nullif($2::bigint, 0) OR user_id = $3)",
    0,
};
static jf_stmt summary_stmt = {
    "notifications_summary",
    /* Notifications, not recipient rows: a grid worker who is also the
     * village committee's member counts one notice once. */
    "SELECT json_build_object("
    " 'unread', count(DISTINCT n.id) FILTER (WHERE r.read_at IS NULL),"
    " 'unacknowledged', count(DISTINCT n.id) FILTER (WHERE r.acknowledged_at IS NULL),"
    " 'overdue', count(DISTINCT n.id) FILTER (WHERE r.acknowledged_at IS NULL"
    "  AND n.deadline_at < $3),"
    " 'escalated', (SELECT count(*) FROM notifications e WHERE e.escalated_at IS NOT NULL"
    "  AND $4::bool AND starts_with(e.org_path, $5) AND EXISTS (SELECT 1 FROM"
    "  notification_recipients x WHERE x.notification_id = e.id AND x.acknowledged_at IS NULL))"
    ")::text FROM notification_recipients r JOIN notifications n ON n.id = r.notification_id"
    " WHERE r.agency_id = nullif($1::bigint, 0) OR r.user_id = $2::bigint",
    0,
};

static const char *const states[] = {"all", "open", "overdue", "escalated", "acknowledged", NULL};
static const char *const kinds[] = {"risk_high",        "unstable",           "lost",
                                    "leaving",          "suspected_reported", "incident",
                                    "followup_overdue", "pickup_overdue",     "transfer_out",
                                    "transfer_in",      "temporary_absence",  "discharged",
                                    "risk_assessment",  "status_changed",     NULL};

/* Officials and admins supervise their area's notifications. */
static bool supervises(const jf_req *req)
{
    jf_role r = jf_role_parse(req->claims.role);

    return r == JF_ROLE_OFFICIAL || r == JF_ROLE_ADMIN;
}

/* "now" as SQL sees it: the test clock's day at noon, or the real time. */
static const char *now_text(jf_req *req)
{
    char day[11];

    if (!jf_date_overridden())
        return "now";
    jf_date_format(jf_date_today(), day);
    return jf_arena_printf(&req->arena, "%s 12:00:00+08", day);
}

static int list(jf_req *req)
{
    jf_errors e = {0};
    const char *state = jf_req_query(req, "state"), *kind = jf_req_query(req, "kind");
    long long patient = jf_query_id(req, &e, "patient_id"), before;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int limit, rc;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &before);
    if (state == NULL)
        state = "open";
    if (!jf_in_set(state, states))
        jf_errors_add(&e, "state", "must be all, open, overdue, escalated or acknowledged");
    if (kind != NULL && !jf_in_set(kind, kinds))
        jf_errors_add(&e, "kind", "is not a notification kind");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_res_id(req, req->claims.agency_id),
                       jf_res_id(req, req->claims.user_id),
                       jf_res_tf(supervises(req)),
                       req->claims.org_path,
                       now_text(req),
                       state,
                       kind,
                       patient > 0 ? jf_res_id(req, patient) : NULL,
                       jf_res_id(req, before),
                       jf_res_id(req, limit)};
    rc = jf_db_exec(conn, &list_stmt, 10, p, &res);
    /* The page may go slowly to a phone: the connection need not wait. */
    jf_req_db_release(req);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    jf_buf_init(&out, 16u << 20);
    rc = jf_buf_printf(&out, "{\"items\":%s,\"next_cursor\":", PQgetvalue(res, 0, 0));
    rc = rc ? rc
            : jf_buf_json_str(
                  &out, strcmp(PQgetvalue(res, 0, 1), "t") == 0
                            ? jf_res_cursor_encode(req, strtoll(PQgetvalue(res, 0, 2), NULL, 10))
                            : NULL);
    rc = rc ? rc : jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* Send notification {id} as the caller sees it (404 when not visible). */
static int send_one(jf_req *req, jf_db_conn *conn, int status)
{
    PGresult *res = NULL;
    const char *p[] = {jf_res_id(req, req->claims.agency_id),
                       jf_res_id(req, req->claims.user_id),
                       jf_res_tf(supervises(req)),
                       req->claims.org_path,
                       now_text(req),
                       jf_req_param(req, 0)};
    int rc = jf_db_exec(conn, &one_stmt, 6, p, &res);

    if (rc == 0 && PQntuples(res) == 0)
        rc = jf_resp_not_found(req);
    else if (rc == 0)
        rc = jf_resp_json_text(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

static int get(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0), jf_res_id(req, req->claims.agency_id),
                       jf_res_id(req, req->claims.user_id)};
    rc = jf_db_exec(conn, &mark_read, 3, p, &res);
    PQclear(res);
    return rc != 0 ? rc : send_one(req, conn, 200);
}

/* POST /notifications/{id}/ack {action_taken}: my agency (and I) acted. */
static int ack(jf_req *req)
{
    static const char *const allowed[] = {"action_taken", NULL};
    jf_errors e = {0};
    const char *action;
    jf_db_conn *conn;
    PGresult *res = NULL;
    char now[32];
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    action = jf_body_str(req, &e, "action_taken", true, 2, 1000);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    snprintf(now, sizeof(now), "%s", now_text(req));
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *mp[] = {jf_req_param(req, 0), jf_res_id(req, req->claims.agency_id),
                        jf_res_id(req, req->claims.user_id)};
    if ((rc = jf_db_exec(conn, &mine_stmt, 3, mp, &res)) != 0)
        goto out;
    if (strcmp(PQgetvalue(res, 0, 1), "0") == 0) {
        /* Not addressed to me: a supervisor sees it but must not answer for
         * the agencies; anyone else does not see it at all. */
        PQclear(res);
        res = NULL;
        const char *vp[] = {jf_res_id(req, req->claims.agency_id),
                            jf_res_id(req, req->claims.user_id),
                            jf_res_tf(supervises(req)),
                            req->claims.org_path,
                            now_text(req),
                            jf_req_param(req, 0)};
        if ((rc = jf_db_exec(conn, &one_stmt, 6, vp, &res)) != 0)
            goto out;
        rc = PQntuples(res) > 0 ? jf_resp_forbidden(req, "only a recipient acknowledges it")
                                : jf_resp_not_found(req);
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        rc = jf_resp_problem(req, 409, "already-acknowledged", "Already acknowledged",
                             "your agency has already acknowledged this notification", NULL, NULL);
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = jf_db_begin(conn);
    const char *ap[] = {jf_req_param(req, 0), jf_res_id(req, req->claims.agency_id),
                        jf_res_id(req, req->claims.user_id), action, now};
    if (rc == 0)
        rc = jf_db_exec(conn, &ack_stmt, 5, ap, &res);
    if (rc == 0) {
        jf_audit_entry a = {.action = "notification.ack",
                            .target_type = "notification",
                            .target_id = jf_req_param(req, 0)};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_one(req, conn, 200);
out:
    PQclear(res);
    return rc;
}

static int summary(jf_req *req)
{
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_res_id(req, req->claims.agency_id), jf_res_id(req, req->claims.user_id),
                       now_text(req), jf_res_tf(supervises(req)), req->claims.org_path};
    return jf_res_send_row(req, conn, &summary_stmt, 5, p, 200);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/notifications", list, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/notifications/summary", summary, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/notifications/{id}", get, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/notifications/{id}/ack", ack, JF_ROUTE_AUTH, 0},
};

int jf_res_notifications_init(void)
{
    jf_stmt *const s[] = {&list_stmt, &one_stmt, &mark_read, &ack_stmt, &mine_stmt, &summary_stmt};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
