/* Assistance: payments (collected in person against a receipt, or
 * withheld) and the monthly 以奖代补 batches [R-AID-2]. */
#include "assistance.h"
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/assistance.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Candidates of a batch for the month $1 in the area [$2, $3): approved
 * 以奖代补 applications covering the month and not yet paid for it. */
static jf_stmt batch_candidates = {
    "assist_batch_candidates",
    "SELECT a.id, p.id, p.name, p.org_path, a.guardian_id," FACTS(
        "a.guardian_id") " FROM assistance_applications a JOIN patients p ON p.id = "
                         "a.patient_id" FACTS_FROM
                         " WHERE a.kind = 'guardian_reward' AND a.state IN ('approved', 'ended')"
                         " AND a.from_month <= $1::date AND (a.to_month IS NULL OR a.to_month >= "
                         "$1::date)"
                         " AND p.org_path >= $2 AND p.org_path < $3"
                         " AND NOT EXISTS (SELECT 1 FROM assistance_payments x WHERE "
                         "x.application_id = a.id"
                         "  AND x.period_month = $1::date)"
                         " ORDER BY p.org_path, p.id",
    0,
};
/* A payment with its patient's scope (locked when in a transaction that asks). */
static jf_stmt pay_head = {
    "assist_pay_head",
    "SELECT x.status, x.kind, x.patient_id, p.org_path, p.org_unit_id, x.period_month,"
    " x.withheld_reason FROM assistance_payments x JOIN patients p ON p.id = x.patient_id"
    " WHERE x.id = $1",
    0,
};
static jf_stmt pay_lock = {"assist_pay_lock",
                           "SELECT 1 FROM assistance_payments WHERE id = $1 FOR UPDATE", 0};
static jf_stmt pay_collect = {
    "assist_pay_collect",
    "UPDATE assistance_payments SET status = 'paid', paid_on = $2::date, paid_at = now(),"
    " collected_by_guardian = $3, receipt_no = $4, recorded_by = $5, version = version + 1,"
    " updated_at = now() WHERE id = $1 AND status = 'pending'",
    0,
};
static jf_stmt pay_withhold = {
    "assist_pay_withhold",
    "UPDATE assistance_payments SET status = 'withheld', withheld_cause = 'decision',"
    " withheld_reason = $2, withheld_at = now(), recorded_by = $3, version = version + 1,"
    " updated_at = now() WHERE id = $1 AND status = 'pending'",
    0,
};
static jf_stmt batch_insert = {
    "assist_batch_insert",
    "INSERT INTO assistance_batches (org_unit_id, month, created_by) VALUES ($1, $2::date, $3)"
    " ON CONFLICT (org_unit_id, month) DO NOTHING RETURNING id",
    0,
};
static jf_stmt batch_existing = {
    "assist_batch_existing",
    "SELECT id FROM assistance_batches WHERE org_unit_id = $1 AND month = $2::date", 0};
static jf_stmt batch_ineligible = {
    "assist_batch_ineligible", "UPDATE assistance_batches SET ineligible = $2::jsonb WHERE id = $1",
    0};
static jf_stmt batch_doc = {
    "assist_batch_doc",
    "SELECT json_build_object('id', b.id, 'org_unit_id', b.org_unit_id, 'org_unit_name', o.name,"
    " 'month', to_char(b.month, 'YYYY-MM'), 'created_at', b.created_at,"
    " 'totals', (SELECT json_build_object('payments', count(*), 'amount_fen',"
    "  coalesce(sum(amount_fen), 0), 'pending', count(*) FILTER (WHERE status = 'pending'),"
    "  'paid', count(*) FILTER (WHERE status = 'paid'), 'withheld', count(*) FILTER (WHERE"
    "  status = 'withheld')) FROM assistance_payments WHERE batch_id = b.id),"
    " 'payments', coalesce((SELECT json_agg(" PAY_JSON " ORDER BY x.org_path, x.patient_id)"
    "  FROM assistance_payments x WHERE x.batch_id = b.id), '[]'),"
    " 'ineligible', b.ineligible)::text, o.path, b.org_unit_id"
    " FROM assistance_batches b JOIN org_units o ON o.id = b.org_unit_id WHERE b.id = $1",
    0,
};

/* ---- payments ---------------------------------------------------------------- */

/* GET /assistance/payments/{id} */
static int pay_get(jf_req *req)
{
    return jf_aid_read_one(req, &pay_head, P_PATH, P_UNIT, "assistance_payment", &jf_aid_pay_doc);
}

/* POST /assistance/payments/{id}/collect {collected_on, guardian_id,
 * receipt_no} and /withhold {reason}. */
static int pay_step(jf_req *req, bool collect)
{
    static const char *const collect_f[] = {"collected_on", "guardian_id", "receipt_no", NULL};
    static const char *const withhold_f[] = {"reason", NULL};
    jf_errors e = {0};
    const char *on = NULL, *receipt = NULL, *reason = NULL, *id = jf_req_param(req, 0);
    long long gid = 0;
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    if (collect) {
        jf_body_only(req, &e, collect_f);
        on = jf_body_date(req, &e, "collected_on", true);
        jf_body_int(req, &e, "guardian_id", true, 1, INT64_MAX, &gid);
        receipt = jf_body_str(req, &e, "receipt_no", true, 1, 32);
        if (receipt != NULL && !jf_aid_receipt_ok(receipt))
            jf_errors_add(&e, "receipt_no", "must be 1-32 letters, digits or '-'");
    } else {
        jf_body_only(req, &e, withhold_f);
        reason = jf_body_str(req, &e, "reason", true, 1, 500);
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0 ||
        (rc = jf_aid_load_head(req, conn, &pay_head, &pay_lock, P_PATH, JF_ACCESS_WRITE, &head)) !=
            0)
        return rc;
    const char *status = PQgetvalue(head, 0, P_STATUS);
    if (strcmp(status, "pending") != 0) {
        rc = jf_aid_refused(req, strcmp(status, "withheld") == 0 ? "Withheld" : "Already paid",
                            strcmp(status, "withheld") == 0
                                ? jf_arena_printf(&req->arena, "the payment is withheld: %s",
                                                  PQgetvalue(head, 0, P_WITHHELD))
                                : "the payment was already collected",
                            "status");
        goto out;
    }
    if (collect) {
        rc = jf_aid_check_guardian(req, conn, &e, "guardian_id", gid,
                                   PQgetvalue(head, 0, P_PATIENT));
        if (rc != 0)
            goto out;
        if (strcmp(on, PQgetvalue(head, 0, P_MONTH)) < 0)
            jf_errors_add(&e, "collected_on", "must not be before the month paid for");
        if (jf_errors_any(&e)) {
            rc = jf_errors_respond(req, &e);
            goto out;
        }
        const char *p[] = {id, on, jf_res_id(req, gid), receipt,
                           jf_res_id(req, req->claims.user_id)};
        rc = jf_db_exec(conn, &pay_collect, 5, p, &res);
    } else {
        const char *p[] = {id, reason, jf_res_id(req, req->claims.user_id)};
        rc = jf_db_exec(conn, &pay_withhold, 3, p, &res);
    }
    if (rc == 0) {
        json_t *detail = collect ? json_pack("{s:s,s:I,s:s}", "collected_on", on, "guardian_id",
                                             (json_int_t)gid, "receipt_no", receipt)
                                 : json_pack("{s:s}", "reason", reason);
        char *dtext = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
        json_decref(detail);
        rc = dtext
                 ? jf_aid_audit(req, conn, collect ? "assistance.collect" : "assistance.withhold",
                                "assistance_payment", id, jf_aid_col_ll(head, 0, P_UNIT, 0), dtext)
                 : JF_ERR_NOMEM;
        free(dtext);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_aid_send_doc(req, conn, &jf_aid_pay_doc, id, 200, NULL);
out:
    PQclear(head);
    PQclear(res);
    return rc;
}

static int collect(jf_req *req)
{
    return pay_step(req, true);
}

static int withhold(jf_req *req)
{
    return pay_step(req, false);
}

/* ---- 以奖代补 batches ------------------------------------------------------------ */

/* Insert the batch's payments and collect the ineligible (inside the
 * transaction). *count and *total get the payments made. */
static int batch_fill(jf_req *req, jf_db_conn *conn, const char *bid, const char *month,
                      const char *path, json_t *ineligible, int *count, long long *total)
{
    PGresult *res = NULL;
    const char *p[] = {month, path, jf_res_path_upper(req, path)};
    int rc = jf_db_exec(conn, &batch_candidates, 3, p, &res);

    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        jf_reward_result r;
        long long fen = jf_aid_monthly_fen(res, i);
        jf_aid_decide(req, res, i, &r);
        if (!r.eligible || fen < 0) {
            json_array_append_new(
                ineligible, json_pack("{s:I,s:s,s:I,s:o}", "patient_id",
                                      (json_int_t)jf_aid_col_ll(res, i, F_PATIENT, 0),
                                      "patient_name", PQgetvalue(res, i, F_NAME), "application_id",
                                      (json_int_t)jf_aid_col_ll(res, i, F_APP, 0), "conditions",
                                      jf_aid_conditions_json(&r)));
            continue;
        }
        PGresult *ins = NULL;
        const char *ip[] = {PQgetvalue(res, i, F_APP),
                            bid,
                            month,
                            jf_res_id(req, fen),
                            "pending",
                            NULL,
                            NULL,
                            jf_res_id(req, req->claims.user_id)};
        rc = jf_db_exec(conn, &jf_aid_pay_insert, 8, ip, &ins);
        if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(ins), "23505") == 0)
            rc = JF_ERR_CONFLICT; /* an overlapping batch paid it meanwhile */
        PQclear(ins);
        (*count)++;
        *total += fen;
    }
    PQclear(res);
    return rc;
}

/* POST /assistance/batches {org_unit_id, month} */
static int batch_create(jf_req *req)
{
    static const char *const allowed[] = {"org_unit_id", "month", NULL};
    jf_errors e = {0};
    long long unit = 0, total = 0;
    const char *month, *path = NULL, *bid = NULL;
    json_t *ineligible = json_array();
    char *itext = NULL;
    int count = 0;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        goto out;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &unit);
    month = jf_aid_body_month(req, &e, "month", true, false);
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_aid_area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        goto out;
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    rc = jf_db_begin(conn);
    const char *bp[] = {jf_res_id(req, unit), month, jf_res_id(req, req->claims.user_id)};
    if (rc == 0)
        rc = jf_db_exec(conn, &batch_insert, 3, bp, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = NULL;
        jf_db_rollback(conn);
        rc = jf_db_exec(conn, &batch_existing, 2, bp, &res);
        const char *old = rc == 0 && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?";
        jf_resp_header(req, "Location",
                       jf_arena_printf(&req->arena, "/api/v1/assistance/batches/%s", old));
        rc = jf_aid_refused(
            req, "Batch exists",
            jf_arena_printf(&req->arena,
                            "the unit already has batch %s for this month: read it there", old),
            "month");
        goto out;
    }
    bid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    rc = batch_fill(req, conn, bid, month, path, ineligible, &count, &total);
    if (rc == JF_ERR_CONFLICT) {
        rc = jf_aid_refused(req, "Batch overlaps",
                            "another batch paid some of these patients meanwhile", "month");
        goto out;
    }
    if (rc != 0)
        goto out;
    itext = json_dumps(ineligible, JSON_COMPACT);
    const char *up[] = {bid, itext};
    rc = itext ? jf_db_exec(conn, &batch_ineligible, 2, up, &res) : JF_ERR_NOMEM;
    if (rc == 0)
        rc =
            jf_aid_audit(req, conn, "assistance.batch", "assistance_batch", bid, unit,
                         jf_arena_printf(&req->arena,
                                         "{\"org_unit_id\":%lld,\"month\":\"%.7s\",\"payments\":%d,"
                                         "\"amount_fen\":%lld,\"ineligible\":%zu}",
                                         unit, month, count, total, json_array_size(ineligible)));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto out;
    PQclear(res);
    res = NULL;
    const char *dp[] = {bid};
    rc = jf_db_exec(conn, &batch_doc, 1, dp, &res);
    if (rc != 0 || PQntuples(res) != 1) {
        rc = rc ? rc : JF_ERR_DB;
        goto out;
    }
    jf_res_etag(req, "1");
    jf_resp_header(req, "Location",
                   jf_arena_printf(&req->arena, "/api/v1/assistance/batches/%s", bid));
    rc = jf_resp_json_text(req, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    free(itext);
    json_decref(ineligible);
    return rc;
}

/* GET /assistance/batches/{id} */
static int batch_get(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0)};
    rc = jf_db_exec(conn, &batch_doc, 1, p, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if ((rc = jf_aid_scope_gate(req, PQgetvalue(res, 0, 1), JF_ACCESS_READ)) != 0)
        goto out;
    rc = jf_aid_audit(req, conn, "assistance.read", "assistance_batch", p[0],
                      jf_aid_col_ll(res, 0, 2, 0), NULL);
    if (rc != 0)
        goto out;
    jf_res_etag(req, "1");
    rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/assistance/payments/{id}", pay_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"POST", "/api/v1/assistance/payments/{id}/collect", collect, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/payments/{id}/withhold", withhold, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/batches", batch_create, JF_ROUTE_AUTH, JF_CAP_ASSIST_WRITE},
    {"GET", "/api/v1/assistance/batches/{id}", batch_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_AREA},
};

int jf_aid_pay_init(void)
{
    jf_stmt *const s[] = {&batch_candidates, &pay_head,         &pay_lock,
                          &pay_collect,      &pay_withhold,     &batch_insert,
                          &batch_existing,   &batch_ineligible, &batch_doc};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
