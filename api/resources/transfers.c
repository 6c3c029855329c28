/* Transfers between areas (流转): the sending side records the move, the
 * patient is moved_out and pending acceptance; the receiving side sees the
 * patient and accepts (the record moves, a visit is due within 14 days) or
 * returns it; the sending side may cancel while pending. Both sides are
 * notified (双通报), and a risk ≥ 3 or unstable patient leaving raises an
 * immediate notice to the police station and the mental-health centre. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/notify.h"
#include "../record/patient.h"
#include "../record/recompute.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRANSFER_JSON                                                                              \
    "json_build_object('id', t.id, 'patient_id', t.patient_id, 'patient_name', p.name,"            \
    " 'id_number_masked', p.id_masked, 'risk_level', CASE WHEN $2 THEN p.risk_level END,"          \
    " 'colour', CASE WHEN $2 THEN p.colour END, 'from_unit_id', t.from_unit_id,"                   \
    " 'from_unit_name', fo.name, 'to_unit_id', t.to_unit_id, 'to_unit_name', tou.name,"            \
    " 'to_address', t.to_address, 'moved_on', t.moved_on, 'reason', t.reason, 'state',"            \
    " t.state, 'requested_by', t.requested_by, 'decided_by', t.decided_by, 'decided_on',"          \
    " t.decided_on, 'decision_note', t.decision_note, 'created_at', t.created_at)"
#define TRANSFER_FROM                                                                              \
    " FROM transfers t JOIN patients p ON p.id = t.patient_id"                                     \
    " JOIN org_units fo ON fo.id = t.from_unit_id LEFT JOIN org_units tou ON tou.id = "            \
    "t.to_unit_id"

static jf_stmt insert_t = {
    "transfer_insert",
    "INSERT INTO transfers (patient_id, from_unit_id, to_unit_id, to_address, moved_on, reason,"
    " requested_by) VALUES ($1, $2, $3, $4, $5::date, $6, $7) RETURNING id",
    0,
};
static jf_stmt one_t = {
    "transfer_one",
    "SELECT " TRANSFER_JSON "::text, t.state, t.patient_id, fo.path, tou.path, p.status,"
    " t.to_unit_id" TRANSFER_FROM " WHERE t.id = $1",
    0,
};
static jf_stmt list_t = {
    "transfer_list",
    "SELECT coalesce(json_agg(" TRANSFER_JSON " ORDER BY t.id DESC), '[]')" TRANSFER_FROM
    " WHERE CASE $3 WHEN 'incoming' THEN starts_with(tou.path, $1)"
    "  ELSE starts_with(fo.path, $1) END AND ($4::text IS NULL OR t.state = $4)",
    0,
};
static jf_stmt decide = {
    "transfer_decide",
    "UPDATE transfers SET state = $2, decided_by = $3, decided_on = $4::date,"
    " decision_note = $5 WHERE id = $1 AND state = 'pending' RETURNING id",
    0,
};
static jf_stmt move_patient = {
    "transfer_move_patient",
    "UPDATE patients SET status = $2, org_unit_id = coalesce($3::bigint, org_unit_id),"
    " registered_on = coalesce($4::date, registered_on), version = version + 1,"
    " updated_at = now() WHERE id = $1",
    0,
};
static jf_stmt unit_level = {"transfer_unit", "SELECT path, level FROM org_units WHERE id = $1", 0};

/* The JSON of transfer id for the caller (after commit). */
static int send_transfer(jf_req *req, jf_db_conn *conn, const char *id, int status)
{
    PGresult *res = NULL;
    const char *p[] = {id, jf_res_tf(jf_record_view(req).risk)};
    int rc = jf_db_exec(conn, &one_t, 2, p, &res);

    if (rc == 0 && PQntuples(res) == 0)
        rc = JF_ERR_DB;
    if (rc == 0) {
        if (status == 201)
            jf_resp_header(req, "Location",
                           jf_arena_printf(&req->arena, "/api/v1/transfers/%s", id));
        rc = jf_resp_json_text(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/transfers {to_org_unit_id?, to_address?, moved_on, reason} */
static int create(jf_req *req)
{
    static const char *const allowed[] = {"to_org_unit_id", "to_address", "moved_on", "reason",
                                          NULL};
    jf_errors e = {0};
    jf_patient_row row;
    long long to = 0;
    const char *to_address, *moved_on, *reason, *to_path = NULL, *tid;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "to_org_unit_id", false, 1, INT64_MAX, &to);
    to_address = jf_body_str(req, &e, "to_address", false, 1, 200);
    moved_on = jf_body_date(req, &e, "moved_on", true);
    reason = jf_body_str(req, &e, "reason", true, 1, 500);
    if (to == 0 && to_address == NULL && !jf_errors_any(&e))
        jf_errors_add(&e, "to_org_unit_id",
                      "name the receiving unit, or to_address outside the system");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (to > 0) {
        const char *up[] = {jf_res_id(req, to)};
        rc = jf_db_exec(conn, &unit_level, 1, up, &res);
        if (rc != 0)
            goto out;
        if (PQntuples(res) == 0 || (strcmp(PQgetvalue(res, 0, 1), "village") != 0 &&
                                    strcmp(PQgetvalue(res, 0, 1), "grid") != 0))
            jf_errors_add(&e, "to_org_unit_id", "must be a village or grid (the new residence)");
        else if (jf_scope_contains(row.org_path, PQgetvalue(res, 0, 0)) ||
                 strcmp(PQgetvalue(res, 0, 0), row.org_path) == 0)
            jf_errors_add(&e, "to_org_unit_id", "is where the patient already lives");
        else
            to_path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
        PQclear(res);
        res = NULL;
        if (jf_errors_any(&e))
            return jf_errors_respond(req, &e);
    }
    if (!jf_pstatus_registered(row.status) || row.status == JF_PS_MOVED_OUT ||
        row.status == JF_PS_HOSPITALISED)
        return jf_resp_problem(req, 409, "transition-refused", "Cannot transfer",
                               row.status == JF_PS_MOVED_OUT ? "a transfer is already pending"
                               : row.status == JF_PS_HOSPITALISED
                                   ? "discharge the patient first"
                                   : "only a patient on the register is transferred",
                               "status", "does not allow a transfer");
    rc = jf_db_begin(conn);
    {
        const char *p[] = {row.id,
                           jf_res_id(req, row.org_unit_id),
                           to > 0 ? jf_res_id(req, to) : NULL,
                           to_address,
                           moved_on,
                           reason,
                           jf_res_id(req, req->claims.user_id)};
        if (rc == 0)
            rc = jf_db_exec(conn, &insert_t, 7, p, &res);
    }
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Transfer pending",
                             "a transfer of this patient is already pending", NULL, NULL);
        goto out;
    }
    if (rc != 0)
        goto out;
    tid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    {
        const char *p[] = {row.id, "moved_out", NULL, NULL};
        rc = jf_db_exec(conn, &move_patient, 4, p, &res);
    }
    if (rc == 0)
        rc = jf_record_event(JF_ACTOR(req), conn,
                             &(jf_patient_event){.patient_id = row.id,
                                                 .kind = "status",
                                                 .date = moved_on,
                                                 .from_status = jf_pstatus_name(row.status),
                                                 .to_status = "moved_out",
                                                 .reason = reason});
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    /* 双通报: the sending side and the receiving side are both told. */
    const char *detail = jf_arena_printf(&req->arena, "{\"transfer_id\":%s}", tid);
    if (rc == 0)
        rc = jf_record_notify(JF_ACTOR(req), conn, "transfer_out", row.id, detail, NULL);
    if (rc == 0 && to_path != NULL)
        rc = jf_record_notify_at(JF_ACTOR(req), conn, "transfer_in", row.id, detail, NULL, to_path);
    if (rc == 0) {
        /* A dangerous patient leaving: the police station and the
         * mental-health centre at once. */
        PGresult *st = NULL;
        const char *sp[] = {row.id};
        rc = jf_db_exec_sql(conn,
                            "SELECT coalesce(risk_level, 0) >= 3 OR last_class = 'unstable'"
                            " FROM patients WHERE id = $1",
                            1, sp, &st);
        if (rc == 0 && strcmp(PQgetvalue(st, 0, 0), "t") == 0)
            rc = jf_record_notify(JF_ACTOR(req), conn, "leaving", row.id, detail, NULL);
        PQclear(st);
    }
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "transfer.create", detail);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_transfer(req, conn, tid, 201);
out:
    PQclear(res);
    return rc;
}

enum { T_JSON, T_STATE, T_PATIENT, T_FROM_PATH, T_TO_PATH, T_PSTATUS, T_TO_UNIT };

/* accept / return (the receiving side) and cancel (the sending side). */
static int decide_transfer(jf_req *req, const char *verb)
{
    static const char *const allowed[] = {"date", "note", NULL};
    bool accepting = strcmp(verb, "accept") == 0, cancelling = strcmp(verb, "cancel") == 0;
    jf_errors e = {0};
    const char *date, *note, *side, *pid, *state;
    char today[11];
    jf_db_conn *conn;
    PGresult *t = NULL, *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    date = jf_body_date(req, &e, "date", false);
    note = jf_body_str(req, &e, "note", !accepting && !cancelling, 1, 500);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_date_format(jf_date_today(), today);
    if (date == NULL)
        date = today;
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *tp[] = {jf_req_param(req, 0), jf_res_tf(jf_record_view(req).risk)};
    rc = jf_db_exec(conn, &one_t, 2, tp, &t);
    if (rc != 0)
        goto out;
    /* Accept and return belong to the receiving side; cancel to the sender. */
    side = cancelling ? PQgetvalue(t, 0, T_FROM_PATH) : PQgetvalue(t, 0, T_TO_PATH);
    if (PQntuples(t) == 0 || PQgetisnull(t, 0, cancelling ? T_FROM_PATH : T_TO_PATH) ||
        jf_scope_check(&req->claims, side, JF_ACCESS_WRITE) == JF_SCOPE_HIDDEN) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if (!jf_role_has(jf_role_parse(req->claims.role), JF_CAP_PATIENT_REGISTER)) {
        rc = jf_resp_forbidden(req, "your role may not decide transfers");
        goto out;
    }
    if (strcmp(PQgetvalue(t, 0, T_STATE), "pending") != 0) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Already decided",
                             "the transfer is no longer pending", "state", "is not pending");
        goto out;
    }
    if (strcmp(PQgetvalue(t, 0, T_PSTATUS), "moved_out") != 0) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Patient changed",
                             "the patient is no longer moving out", "status", "is not moved_out");
        goto out;
    }
    {
        /* A decision cannot precede the move. */
        jf_date moved, when;
        PGresult *m = NULL;
        const char *mp[] = {jf_req_param(req, 0)};
        rc = jf_db_exec_sql(conn, "SELECT moved_on FROM transfers WHERE id = $1", 1, mp, &m);
        if (rc == 0 && jf_date_parse(PQgetvalue(m, 0, 0), &moved) == 0 &&
            jf_date_parse(date, &when) == 0 && when < moved)
            jf_errors_add(&e, "date", "must not be before the move (moved_on)");
        PQclear(m);
        if (rc != 0)
            goto out;
        if (jf_errors_any(&e)) {
            rc = jf_errors_respond(req, &e);
            goto out;
        }
    }
    pid = PQgetvalue(t, 0, T_PATIENT);
    state = accepting ? "accepted" : cancelling ? "cancelled" : "returned";
    rc = jf_db_begin(conn);
    const char *dp[] = {jf_req_param(req, 0), state, jf_res_id(req, req->claims.user_id), date,
                        note};
    if (rc == 0)
        rc = jf_db_exec(conn, &decide, 5, dp, &res);
    if (rc == 0 && PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Changed meanwhile",
                             "the transfer was decided meanwhile", NULL, NULL);
        goto out;
    }
    PQclear(res);
    res = NULL;
    {
        /* Accepted: the record moves and restarts its 14-day clock there.
         * Returned or cancelled: the patient stays, back in care. */
        const char *mp[] = {pid, "in_care", accepting ? PQgetvalue(t, 0, T_TO_UNIT) : NULL, NULL};
        if (rc == 0)
            rc = jf_db_exec(conn, &move_patient, 4, mp, &res);
    }
    const char *why = accepting    ? "transfer accepted"
                      : cancelling ? "transfer cancelled"
                                   : "transfer returned";
    if (note != NULL)
        why = jf_arena_printf(&req->arena, "%s: %s", why, note);
    if (rc == 0)
        rc = jf_record_event(JF_ACTOR(req), conn,
                             &(jf_patient_event){.patient_id = pid,
                                                 .kind = "status",
                                                 .date = date,
                                                 .from_status = "moved_out",
                                                 .to_status = "in_care",
                                                 .reason = why});
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, pid);
    /* The sending side learns the outcome. */
    if (rc == 0 && !cancelling)
        rc = jf_record_notify_at(JF_ACTOR(req), conn, "transfer_out", pid,
                                 jf_arena_printf(&req->arena,
                                                 "{\"transfer_id\":%s,\"outcome\":\"%s\"}",
                                                 jf_req_param(req, 0), state),
                                 NULL, PQgetvalue(t, 0, T_FROM_PATH));
    if (rc == 0) {
        jf_audit_entry a = {.action = jf_arena_printf(&req->arena, "transfer.%s", verb),
                            .target_type = "patient",
                            .target_id = pid};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_transfer(req, conn, jf_req_param(req, 0), 200);
out:
    PQclear(t);
    PQclear(res);
    return rc;
}

static int accept(jf_req *req)
{
    return decide_transfer(req, "accept");
}

static int give_back(jf_req *req)
{
    return decide_transfer(req, "return");
}

static int cancel(jf_req *req)
{
    return decide_transfer(req, "cancel");
}

static int list(jf_req *req)
{
    jf_errors e = {0};
    const char *dir = jf_req_query(req, "direction"), *state = jf_req_query(req, "state");
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int rc;

    if (dir == NULL)
        dir = "incoming";
    if (strcmp(dir, "incoming") != 0 && strcmp(dir, "outgoing") != 0)
        jf_errors_add(&e, "direction", "must be incoming or outgoing");
    if (state != NULL && !jf_in_set(state, (const char *const[]){"pending", "accepted", "returned",
                                                                 "cancelled", NULL}))
        jf_errors_add(&e, "state", "must be pending, accepted, returned or cancelled");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path, jf_res_tf(jf_record_view(req).risk), dir, state};
    rc = jf_db_exec(conn, &list_t, 4, p, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    /* The list may go slowly to the client: the connection need not wait. */
    jf_req_db_release(req);
    jf_buf_init(&out, 16u << 20);
    rc = jf_buf_printf(&out, "{\"items\":%s}", PQgetvalue(res, 0, 0));
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* GET /transfers/{id}: either side of the transfer may read it. */
static int get_one(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *t = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0), jf_res_tf(jf_record_view(req).risk)};
    rc = jf_db_exec(conn, &one_t, 2, p, &t);
    if (rc == 0 && (PQntuples(t) == 0 ||
                    (!jf_scope_contains(req->claims.org_path, PQgetvalue(t, 0, T_FROM_PATH)) &&
                     (PQgetisnull(t, 0, T_TO_PATH) ||
                      !jf_scope_contains(req->claims.org_path, PQgetvalue(t, 0, T_TO_PATH))))))
        rc = jf_resp_not_found(req);
    else if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(t, 0, T_JSON), (size_t)PQgetlength(t, 0, 0));
    PQclear(t);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/transfers/{id}", get_one, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/patients/{id}/transfers", create, JF_ROUTE_AUTH, JF_CAP_PATIENT_REGISTER},
    {"GET", "/api/v1/transfers", list, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/transfers/{id}/accept", accept, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/transfers/{id}/return", give_back, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/transfers/{id}/cancel", cancel, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
};

int jf_res_transfers_init(void)
{
    jf_stmt *const s[] = {&insert_t, &one_t, &list_t, &decide, &move_patient, &unit_level};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
