/* Assistance: a patient's applications (救治救助) and their decisions
 * (approve, reject, end, pay) [R-AID-1], and the 以奖代补 eligibility
 * explained for one patient [R-AID-2]. */
#include "assistance.h"
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/assistance.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/kind.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The same facts for patient $2, with the approved application (if any). */
static jf_stmt patient_facts = {
    "assist_patient_facts",
    "SELECT a.id, p.id, p.name, p.org_path, a.guardian_id," FACTS(
        "a.guardian_id") " FROM patients p LEFT JOIN LATERAL (SELECT a.id, a.guardian_id FROM "
                         "assistance_applications a"
                         "  WHERE a.patient_id = p.id AND a.kind = 'guardian_reward' AND a.state "
                         "IN ('approved',"
                         "  'ended') AND a.from_month <= $1::date AND (a.to_month IS NULL OR "
                         "a.to_month >= $1::date)"
                         "  ORDER BY a.id DESC LIMIT 1) a ON true" FACTS_FROM " WHERE p.id = $2",
    0,
};
static jf_stmt patient_apps = {
    "assist_patient_apps",
    "SELECT json_build_object('patient_id', $1::bigint, 'items', coalesce(json_agg(" APP_JSON
    " ORDER BY a.id DESC), '[]'))::text FROM assistance_applications a"
    " JOIN patients p ON p.id = a.patient_id WHERE a.patient_id = $1",
    0,
};
static jf_stmt app_doc = {
    "assist_app_doc",
    "SELECT " APP_JSON "::text, a.version FROM assistance_applications a"
    " JOIN patients p ON p.id = a.patient_id WHERE a.id = $1",
    0,
};
/* An application with its patient's scope, locked when $2. */
static jf_stmt app_head = {
    "assist_app_head",
    "SELECT a.state, a.kind, a.patient_id, p.org_path, p.org_unit_id, a.applied_on,"
    " a.from_month, a.to_month, a.amount_fen, a.period, a.version, p.status"
    " FROM assistance_applications a JOIN patients p ON p.id = a.patient_id WHERE a.id = $1",
    0,
};
static jf_stmt app_lock = {"assist_app_lock",
                           "SELECT 1 FROM assistance_applications WHERE id = $1 FOR UPDATE", 0};
/* An application (救治救助) as a table: what the body gives and how it is
 * stored. Its JSON (APP_JSON, assistance.h) stays written out: it carries
 * the payments and the names of patient and guardian. */
enum { AP_PATIENT, AP_KIND, AP_APPLIED_ON, AP_GUARDIAN, AP_NOTE, AP_CREATED_BY, AP_N };
static const jf_kfield ap_fields[] = {
    [AP_PATIENT] = {NULL, "patient_id", JF_K_SET, .flags = 0},
    [AP_KIND] = {"kind", "kind", JF_K_CODE, jf_assist_kinds, .flags = JF_KF_REQUIRED},
    [AP_APPLIED_ON] = {"applied_on", "applied_on", JF_K_DATE, .cast = "date",
                       .flags = JF_KF_REQUIRED},
    [AP_GUARDIAN] = {"guardian_id", "guardian_id", JF_K_INT, .min = 1, .max = INT64_MAX,
                     .cast = "bigint"},
    [AP_NOTE] = {"note", "note", JF_K_TEXT, .min = 1, .max = 500},
    [AP_CREATED_BY] = {NULL, "created_by", JF_K_SET, .flags = 0},
};
_Static_assert(sizeof(ap_fields) / sizeof(ap_fields[0]) == AP_N, "one row per AP_ field");
static const jf_kind ap_kind = {"assistance_applications", "a", ap_fields, AP_N};
static const char *const ap_allowed[] = {"kind", "applied_on", "guardian_id", "note", NULL};
static char app_insert_sql[1024];
static jf_stmt app_insert = {"assist_app_insert", app_insert_sql, 0};
static jf_stmt standard_of = {
    "assist_standard_of",
    "SELECT s.amount_fen, s.period FROM patients p"
    " CROSS JOIN LATERAL assistance_standard(p.org_path, $2) s WHERE p.id = $1",
    0,
};
static jf_stmt app_approve = {
    "assist_app_approve",
    "UPDATE assistance_applications SET state = 'approved', decided_on = $2::date,"
    " decided_by = $3, amount_fen = $4::bigint, period = $5, from_month = $6::date,"
    " to_month = $7::date, decision_reason = $8, version = version + 1, updated_at = now()"
    " WHERE id = $1 AND state = 'pending'",
    0,
};
static jf_stmt app_reject = {
    "assist_app_reject",
    "UPDATE assistance_applications SET state = 'rejected', decided_on = $2::date,"
    " decided_by = $3, decision_reason = $4, version = version + 1, updated_at = now()"
    " WHERE id = $1 AND state = 'pending'",
    0,
};
/* Ending stops the coverage at the month of the end (never before it starts). */
static jf_stmt app_end = {
    "assist_app_end",
    "UPDATE assistance_applications SET state = 'ended', ended_on = $2::date,"
    " to_month = greatest(from_month, least(coalesce(to_month, 'infinity'),"
    " date_trunc('month', $2::date)::date)), end_reason = $3,"
    " version = version + 1, updated_at = now() WHERE id = $1 AND state = 'approved'",
    0,
};
/* Applications of the area [$1, $2) after id $3, optionally of state $4 and
 * kind $5, $6 rows. */
static jf_stmt app_list = {
    "assist_app_list",
    "SELECT a.id, " APP_JSON "::text FROM assistance_applications a"
    " JOIN patients p ON p.id = a.patient_id WHERE p.org_path >= $1 AND p.org_path < $2"
    " AND a.id > $3::bigint AND ($4::text IS NULL OR a.state = $4)"
    " AND ($5::text IS NULL OR a.kind = $5) ORDER BY a.id LIMIT $6",
    0,
};

/* ---- patients' assistance ---------------------------------------------------- */

/* GET /patients/{id}/assistance */
static int patient_list(jf_req *req)
{
    jf_patient_row row;
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0 ||
        (rc = jf_aid_audit(req, conn, "patient.assistance_read", "patient", row.id, row.org_unit_id,
                           NULL)) != 0)
        return rc;
    const char *p[] = {row.id};
    return jf_res_send_row(req, conn, &patient_apps, 1, p, 200);
}

/* POST /patients/{id}/assistance {kind, applied_on, guardian_id?, note?} */
static int apply(jf_req *req)
{
    jf_errors e = {0};
    jf_patient_row row;
    const char *v[AP_N] = {NULL}, *p[AP_N], *id = NULL;
    long long gid;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, ap_allowed);
    jf_kind_read(req, &e, &ap_kind, v);
    gid = v[AP_GUARDIAN] != NULL ? strtoll(v[AP_GUARDIAN], NULL, 10) : 0;
    if (v[AP_KIND] != NULL && strcmp(v[AP_KIND], "guardian_reward") == 0 &&
        !jf_body_has(req, "guardian_id"))
        jf_errors_add(&e, "guardian_id", "is required for guardian_reward (the guardian rewarded)");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (row.status == JF_PS_DECEASED || row.status == JF_PS_DEREGISTERED ||
        row.status == JF_PS_RULED_OUT || row.status == JF_PS_SUSPECTED)
        return jf_resp_problem(req, 409, "record-closed", "Not on the register",
                               "only a patient on the register can be supported", NULL, NULL);
    if (gid > 0 && (rc = jf_aid_check_guardian(req, conn, &e, "guardian_id", gid, row.id)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    rc = jf_db_begin(conn);
    v[AP_PATIENT] = row.id;
    v[AP_CREATED_BY] = jf_res_id(req, req->claims.user_id);
    if (rc == 0)
        rc = jf_db_exec(conn, &app_insert, jf_kind_params(&ap_kind, v, p), p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Already open",
                             "the patient already has a pending or approved application of this "
                             "kind",
                             "kind", "an application of this kind is open");
        goto out;
    }
    if (rc != 0)
        goto out;
    id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    rc = jf_aid_audit(
        req, conn, "assistance.apply", "assistance_application", id, row.org_unit_id,
        jf_arena_printf(&req->arena, "{\"patient_id\":%s,\"kind\":\"%s\"}", row.id, v[AP_KIND]));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_aid_send_doc(req, conn, &app_doc, id, 201, "/api/v1/assistance/applications");
out:
    PQclear(res);
    return rc;
}

/* GET /patients/{id}/assistance/guardian-reward?month=YYYY-MM */
static int explain(jf_req *req)
{
    jf_errors e = {0};
    jf_patient_row row;
    jf_reward_result r;
    const char *month = jf_aid_query_month(req, &e, "month", jf_assist_month_of(jf_date_today()));
    jf_db_conn *conn;
    PGresult *res = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    int rc;

    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    rc = jf_aid_audit(req, conn, "patient.assistance_read", "patient", row.id, row.org_unit_id,
                      "{\"what\":\"guardian_reward_eligibility\"}");
    const char *p[] = {month, row.id};
    if (rc == 0)
        rc = jf_db_exec(conn, &patient_facts, 2, p, &res);
    if (rc != 0 || PQntuples(res) != 1) {
        rc = rc ? rc : JF_ERR_DB;
        goto out;
    }
    jf_aid_decide(req, res, 0, &r);
    long long fen = jf_aid_monthly_fen(res, 0);
    doc = json_pack(
        "{s:I,s:s#,s:o,s:b,s:o,s:o,s:{s:I,s:o,s:b},s:{s:o,s:s,s:o}}", "patient_id",
        (json_int_t)strtoll(row.id, NULL, 10), "month", month, (int)7, "application_id",
        PQgetisnull(res, 0, F_APP) ? json_null() : json_integer(jf_aid_col_ll(res, 0, F_APP, 0)),
        "eligible", r.eligible, "guardian_id",
        PQgetisnull(res, 0, F_GUARDIAN) ? json_null()
                                        : json_integer(jf_aid_col_ll(res, 0, F_GUARDIAN, 0)),
        "conditions", jf_aid_conditions_json(&r), "rule", "min_risk",
        (json_int_t)jf_aid_col_ll(res, 0, F_MIN_RISK, 3), "extra_flags",
        json_string(PQgetvalue(res, 0, F_EXTRA_FLAGS)), "police_key_person",
        jf_aid_col_true(res, 0, F_RULE_POLICE), "standard", "amount_fen",
        PQgetisnull(res, 0, F_AMOUNT) ? json_null()
                                      : json_integer(jf_aid_col_ll(res, 0, F_AMOUNT, 0)),
        "period", PQgetvalue(res, 0, F_PERIOD), "monthly_fen",
        fen < 0 ? json_null() : json_integer(fen));
    if (doc == NULL) {
        rc = jf_resp_internal(req);
        goto out;
    }
    /* extra_flags as a list rather than the database's comma-joined text. */
    {
        json_t *list = json_array(), *rule = json_object_get(doc, "rule");
        const char *csv = PQgetvalue(res, 0, F_EXTRA_FLAGS);
        for (int i = 0; i < JF_FLAG_COUNT; i++)
            if ((jf_aid_flag_bits(req, csv) & (1u << i)) != 0)
                json_array_append_new(list, json_string(jf_flag_name((jf_flag)i)));
        json_object_set_new(rule, "extra_flags", list);
    }
    text = json_dumps(doc, JSON_COMPACT);
    rc = text ? jf_resp_json_text(req, 200, text, strlen(text)) : jf_resp_internal(req);
out:
    free(text);
    json_decref(doc);
    PQclear(res);
    return rc;
}

/* ---- applications ------------------------------------------------------------ */

/* GET /assistance/applications/{id} */
static int app_get(jf_req *req)
{
    return jf_aid_read_one(req, &app_head, A_PATH, A_UNIT, "assistance_application", &app_doc);
}

/* GET /assistance/applications?org_unit_id&state&kind&limit&cursor */
static int app_list_get(jf_req *req)
{
    static const char *const states[] = {"pending", "approved", "rejected", "ended", NULL};
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id"), after = 0;
    const char *state = jf_req_query(req, "state"), *kind = jf_req_query(req, "kind");
    const char *path = NULL;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (state != NULL && !jf_in_set(state, states))
        jf_errors_add(&e, "state", "must be pending, approved, rejected or ended");
    if (kind != NULL && !jf_in_set(kind, jf_assist_kinds))
        jf_errors_add(&e, "kind", "is not an assistance kind");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_aid_area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {path, jf_res_path_upper(req, path), jf_res_id(req, after), state,
                       kind, jf_res_id(req, limit + 1)};
    rc = jf_db_exec(conn, &app_list, 6, p, &res);
    if (rc == 0)
        rc = jf_aid_audit(req, conn, "assistance.list", "org_unit", jf_res_id(req, unit), unit,
                          NULL);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* The decision fields of a transition, read from the body. */
typedef struct decision {
    const char *action, *on, *reason, *from_month, *to_month, *period, *amount_txt;
    long long amount;
    bool has_amount;
} decision;

static int read_decision(jf_req *req, jf_errors *e, decision *d)
{
    static const char *const approve_f[] = {"decided_on", "amount_fen", "period", "from_month",
                                            "to_month",   "note",       NULL};
    static const char *const reject_f[] = {"decided_on", "reason", NULL};
    static const char *const end_f[] = {"ended_on", "reason", NULL};

    if (strcmp(d->action, "approve") == 0) {
        jf_body_only(req, e, approve_f);
        d->on = jf_body_date(req, e, "decided_on", false);
        d->has_amount = jf_body_int(req, e, "amount_fen", false, 0, MAX_FEN, &d->amount) == 1;
        d->period = jf_body_code(req, e, "period", false, jf_assist_periods);
        d->from_month = jf_aid_body_month(req, e, "from_month", false, true);
        d->to_month = jf_aid_body_month(req, e, "to_month", false, true);
        d->reason = jf_body_str(req, e, "note", false, 1, 500);
        if (d->from_month && d->to_month && strcmp(d->to_month, d->from_month) < 0)
            jf_errors_add(e, "to_month", "must not be before from_month");
    } else if (strcmp(d->action, "reject") == 0) {
        jf_body_only(req, e, reject_f);
        d->on = jf_body_date(req, e, "decided_on", false);
        d->reason = jf_body_str(req, e, "reason", true, 1, 500);
    } else {
        jf_body_only(req, e, end_f);
        d->on = jf_body_date(req, e, "ended_on", false);
        d->reason = jf_body_str(req, e, "reason", true, 1, 500);
    }
    if (d->on == NULL)
        d->on = jf_aid_today_text(req);
    return 0;
}

/* Approve: amount and period from the body or the standard in force. */
static int approve_apply(jf_req *req, jf_db_conn *conn, const PGresult *head, decision *d,
                         jf_errors *e)
{
    const char *kind = PQgetvalue(head, 0, A_KIND), *amount = NULL;
    PGresult *res = NULL;
    int rc;
    const char *sp[] = {PQgetvalue(head, 0, A_PATIENT), kind};

    rc = jf_db_exec(conn, &standard_of, 2, sp, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (strcmp(kind, "guardian_reward") == 0) {
        /* 以奖代补 is paid by the monthly batches at the standard in force. */
        if (d->has_amount)
            jf_errors_add(e, "amount_fen", "guardian_reward is paid at the configured standard");
        if (d->period != NULL)
            jf_errors_add(e, "period", "guardian_reward is paid monthly");
    }
    if (!d->has_amount) {
        if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
            jf_errors_add(e, "amount_fen", "is required: this kind has no standard amount here");
        else
            amount = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    } else {
        amount = jf_res_id(req, d->amount);
    }
    if (d->period == NULL && PQntuples(res) > 0)
        d->period = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 1));
    PQclear(res);
    res = NULL;
    if (d->from_month == NULL) {
        char m[11];
        jf_date t;
        jf_date_parse(d->on, &t);
        jf_date_format(jf_assist_month_of(t), m);
        d->from_month = jf_arena_strdup(&req->arena, m);
    }
    if (d->to_month != NULL && strcmp(d->to_month, d->from_month) < 0)
        jf_errors_add(e, "to_month", "must not be before from_month");
    if (jf_errors_any(e))
        return 0;
    const char *p[] = {jf_req_param(req, 0),
                       d->on,
                       jf_res_id(req, req->claims.user_id),
                       amount,
                       d->period,
                       d->from_month,
                       d->to_month,
                       d->reason};
    rc = jf_db_exec(conn, &app_approve, 8, p, &res);
    d->amount_txt = amount;
    PQclear(res);
    return rc;
}

/* POST /assistance/applications/{id}/{approve|reject|end} */
static int transition(jf_req *req, const char *action)
{
    decision d = {.action = action};
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    const char *id = jf_req_param(req, 0), *next, *amount = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    read_decision(req, &e, &d);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0 ||
        (rc = jf_aid_load_head(req, conn, &app_head, &app_lock, A_PATH, JF_ACCESS_WRITE, &head)) !=
            0)
        return rc;
    next = jf_assist_next_state(PQgetvalue(head, 0, A_STATE), d.action);
    if (next == NULL) {
        rc = jf_aid_refused(req, "Transition refused",
                            jf_arena_printf(&req->arena, "an application that is %s cannot be %s",
                                            PQgetvalue(head, 0, A_STATE),
                                            strcmp(d.action, "approve") == 0  ? "approved"
                                            : strcmp(d.action, "reject") == 0 ? "rejected"
                                                                              : "ended"),
                            "state");
        goto out;
    }
    if (strcmp(d.on, PQgetvalue(head, 0, A_APPLIED)) < 0) {
        jf_errors_add(&e, strcmp(d.action, "end") == 0 ? "ended_on" : "decided_on",
                      "must not be before the application (%s)", PQgetvalue(head, 0, A_APPLIED));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if (strcmp(d.action, "approve") == 0) {
        rc = approve_apply(req, conn, head, &d, &e);
        if (rc == 0 && jf_errors_any(&e)) {
            rc = jf_errors_respond(req, &e);
            goto out;
        }
        amount = d.amount_txt;
    } else if (strcmp(d.action, "reject") == 0) {
        const char *p[] = {id, d.on, jf_res_id(req, req->claims.user_id), d.reason};
        rc = jf_db_exec(conn, &app_reject, 4, p, &res);
    } else {
        const char *p[] = {id, d.on, d.reason};
        rc = jf_db_exec(conn, &app_end, 3, p, &res);
    }
    if (rc != 0)
        goto out;
    rc = jf_aid_audit(
        req, conn, jf_arena_printf(&req->arena, "assistance.%s", d.action),
        "assistance_application", id, jf_aid_col_ll(head, 0, A_UNIT, 0),
        jf_arena_printf(&req->arena,
                        "{\"from\":\"%s\",\"to\":\"%s\",\"kind\":\"%s\",\"amount_fen\":%s}",
                        PQgetvalue(head, 0, A_STATE), next, PQgetvalue(head, 0, A_KIND),
                        amount ? amount : "null"));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_aid_send_doc(req, conn, &app_doc, id, 200, NULL);
out:
    PQclear(head);
    PQclear(res);
    return rc;
}

/* POST /assistance/applications/{id}/payments {period_month, paid_on,
 * amount_fen?, receipt_no?}: a payment made (not 以奖代补: batches). */
static int pay(jf_req *req)
{
    static const char *const allowed[] = {"period_month", "paid_on", "amount_fen", "receipt_no",
                                          NULL};
    jf_errors e = {0};
    const char *month, *paid_on, *receipt, *id = jf_req_param(req, 0), *pid = NULL;
    long long amount = 0;
    int has_amount;
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    month = jf_aid_body_month(req, &e, "period_month", true, false);
    paid_on = jf_body_date(req, &e, "paid_on", true);
    has_amount = jf_body_int(req, &e, "amount_fen", false, 0, MAX_FEN, &amount);
    receipt = jf_body_str(req, &e, "receipt_no", false, 1, 32);
    if (receipt != NULL && !jf_aid_receipt_ok(receipt))
        jf_errors_add(&e, "receipt_no", "must be 1-32 letters, digits or '-'");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0 ||
        (rc = jf_aid_load_head(req, conn, &app_head, &app_lock, A_PATH, JF_ACCESS_WRITE, &head)) !=
            0)
        return rc;
    if (strcmp(PQgetvalue(head, 0, A_KIND), "guardian_reward") == 0) {
        rc = jf_aid_refused(
            req, "Paid by batches",
            "guardian_reward is paid by the monthly batches and collected in person", "kind");
        goto out;
    }
    if (strcmp(PQgetvalue(head, 0, A_STATE), "approved") != 0) {
        rc = jf_aid_refused(req, "Not approved",
                            jf_arena_printf(&req->arena, "an application that is %s cannot be paid",
                                            PQgetvalue(head, 0, A_STATE)),
                            "state");
        goto out;
    }
    /* The month must lie in the approved months (dates compare as text). */
    if (strcmp(month, PQgetvalue(head, 0, A_FROM)) < 0 ||
        (!PQgetisnull(head, 0, A_TO) && strcmp(month, PQgetvalue(head, 0, A_TO)) > 0))
        jf_errors_add(&e, "period_month", "is outside the approved months");
    if (strcmp(paid_on, PQgetvalue(head, 0, A_APPLIED)) < 0)
        jf_errors_add(&e, "paid_on", "must not be before the application");
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *amount_txt =
        has_amount == 1 ? jf_res_id(req, amount) : PQgetvalue(head, 0, A_AMOUNT);
    const char *p[] = {id,     NULL,    month,   amount_txt,
                       "paid", paid_on, receipt, jf_res_id(req, req->claims.user_id)};
    rc = jf_db_exec(conn, &jf_aid_pay_insert, 8, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_aid_refused(req, "Already paid", "this application was already paid for this month",
                            "period_month");
        goto out;
    }
    if (rc != 0)
        goto out;
    pid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    rc = jf_aid_audit(
        req, conn, "assistance.pay", "assistance_payment", pid, jf_aid_col_ll(head, 0, A_UNIT, 0),
        jf_arena_printf(&req->arena, "{\"application_id\":%s,\"month\":\"%.7s\",\"amount_fen\":%s}",
                        id, month, amount_txt));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_aid_send_doc(req, conn, &jf_aid_pay_doc, pid, 201, "/api/v1/assistance/payments");
out:
    PQclear(head);
    PQclear(res);
    return rc;
}

static int approve(jf_req *req)
{
    return transition(req, "approve");
}

static int reject(jf_req *req)
{
    return transition(req, "reject");
}

static int end_app(jf_req *req)
{
    return transition(req, "end");
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients/{id}/assistance", patient_list, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"POST", "/api/v1/patients/{id}/assistance", apply, JF_ROUTE_AUTH, JF_CAP_ASSIST_WRITE},
    {"GET", "/api/v1/patients/{id}/assistance/guardian-reward", explain, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_READ},
    {"GET", "/api/v1/assistance/applications", app_list_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_AREA},
    {"GET", "/api/v1/assistance/applications/{id}", app_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"POST", "/api/v1/assistance/applications/{id}/approve", approve, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/applications/{id}/reject", reject, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/applications/{id}/end", end_app, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/applications/{id}/payments", pay, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
};

int jf_aid_apply_init(void)
{
    jf_stmt *const s[] = {&patient_facts, &patient_apps, &app_doc,     &app_head,
                          &app_lock,      &app_insert,   &standard_of, &app_approve,
                          &app_reject,    &app_end,      &app_list};

    if (jf_kind_insert_sql(&ap_kind, NULL, app_insert_sql, sizeof(app_insert_sql)) != 0 ||
        jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
