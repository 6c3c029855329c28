/* Referrals (转诊): a doctor refers a patient from a follow-up or an
 * emergency record to a hospital, with a reason and an urgency that sets
 * the last day (api/domain/referral.c, the unit's settings); the hospital's
 * system accepts it, admits the patient (through the admission core of
 * episodes.c) or sends it back. Read on the patient, and as a list scoped
 * to the caller's area — or, for a hospital's system, to the referrals
 * addressed to its hospital. Every read and write is audited; the reasons
 * are clinical and cut from the views without clinical fields. */
#include "referrals.h"
#include "common.h"
#include "episodes.h"
#include "idempotency.h"
#include "integrations.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/referral.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A referral without the keys of the text[] HIDE, overdue as of TODAY. */
#define REFERRAL_JSON(HIDE, TODAY)                                                                 \
    "(jsonb_build_object('id', r.id, 'patient_id', r.patient_id, 'patient_name', p.name,"          \
    " 'org_unit_id', p.org_unit_id, 'from_kind', r.from_kind, 'follow_up_id', r.follow_up_id,"     \
    " 'emergency_record_id', r.emergency_record_id, 'hospital_id', r.hospital_id,"                 \
    " 'hospital_name', (SELECT a.name FROM agencies a WHERE a.id = r.hospital_id),"                \
    " 'reason', r.reason, 'urgency', r.urgency, 'referred_on', r.referred_on,"                     \
    " 'due_on', r.due_on, 'status', r.status, 'overdue', r.status IN ('open', 'accepted')"         \
    " AND r.due_on < " TODAY ", 'accepted_at', r.accepted_at, 'admission_id', r.admission_id,"     \
    " 'return_reason', r.return_reason, 'closed_on', r.closed_on, 'created_by', r.created_by,"     \
    " 'created_by_name', (SELECT u.display_name FROM users u WHERE u.id = r.created_by),"          \
    " 'created_at', r.created_at) - " HIDE ")"
/* What a reader without the clinical view may not see. */
#define HIDE_CLINICAL "{reason,return_reason}"

static jf_stmt hospital = {
    "referral_hospital",
    "SELECT 1 FROM agencies WHERE id = $1::bigint AND service_system(kind) = 'hospital'", 0};
/* The follow-up or emergency record $2 (of kind $3) of patient $1. */
static jf_stmt source = {
    "referral_source",
    "SELECT 1 WHERE CASE $3 WHEN 'follow_up' THEN EXISTS (SELECT FROM follow_ups"
    " WHERE id = $2::bigint AND patient_id = $1) ELSE EXISTS (SELECT FROM emergency_records"
    " WHERE id = $2::bigint AND patient_id = $1) END",
    0,
};
/* The days the patient's unit allows (setting $2), NULL when it has none. */
static jf_stmt days = {
    "referral_days",
    "SELECT (c.settings->>$2)::int FROM patients p, clinical_config_at(p.org_path) c"
    " WHERE p.id = $1",
    0,
};
static jf_stmt insert = {
    "referral_insert",
    "INSERT INTO referrals (patient_id, from_kind, follow_up_id, emergency_record_id,"
    " hospital_id, reason, urgency, referred_on, due_on, created_by) VALUES ($1, $2,"
    " CASE WHEN $2 = 'follow_up' THEN $3::bigint END, CASE WHEN $2 = 'emergency' THEN $3::bigint"
    " END, $4::bigint, $5, $6, $7::date, $8::date, $9) RETURNING id",
    0,
};
/* The hospital's system hears of it at once (its webhook endpoints). */
static jf_stmt push = {"referral_push", "SELECT referral_push($1::bigint)", 0};
/* The referral document with $2 the keys hidden and $3 today, and with $9
 * and $6 (the list's). */
#define REFERRAL_JSON_23 REFERRAL_JSON("$2::text[]", "$3::date")
#define REFERRAL_JSON_96 REFERRAL_JSON("$9::text[]", "$6::date")
/* $1 patient. */
static jf_stmt of_patient = {
    "referral_of_patient",
    "SELECT coalesce(jsonb_agg(" REFERRAL_JSON_23 " ORDER BY r.id DESC), '[]')::text"
    " FROM referrals r JOIN patients p ON p.id = r.patient_id WHERE r.patient_id = $1",
    0,
};
/* Newest first: $1..$2 the area's path range, or $3 the hospital; $4
 * status, $5 overdue, $7 the last id of the previous page (0: none), $8
 * limit. */
static jf_stmt list = {
    "referral_list",
    "SELECT r.id, " REFERRAL_JSON_96 "::text FROM referrals r"
    " JOIN patients p ON p.id = r.patient_id WHERE CASE WHEN $3::bigint IS NULL"
    " THEN p.org_path >= $1 AND p.org_path < $2 ELSE r.hospital_id = $3::bigint END"
    " AND ($7::bigint = 0 OR r.id < $7::bigint) AND ($4::text IS NULL OR r.status = $4)"
    " AND ($5::bool IS NULL OR (r.status IN ('open', 'accepted') AND r.due_on < $6::date) = $5)"
    " ORDER BY r.id DESC LIMIT $8",
    0,
};
/* Referral $1. */
static jf_stmt one = {
    "referral_one",
    "SELECT " REFERRAL_JSON_23 "::text FROM referrals r JOIN patients p ON p.id = r.patient_id"
    " WHERE r.id = $1",
    0,
};
/* Referral $1 addressed to hospital $2, locked, with its patient. */
static jf_stmt lock = {
    "referral_lock",
    "SELECT r.status, p.id, p.status, p.version, p.org_unit_id, p.org_path FROM referrals r"
    " JOIN patients p ON p.id = r.patient_id WHERE r.id = $1 AND r.hospital_id = $2::bigint"
    " FOR UPDATE OF r",
    0,
};
static jf_stmt move = {
    "referral_move",
    "UPDATE referrals SET status = $2, accepted_at = CASE WHEN $2 = 'accepted' THEN now()"
    " ELSE accepted_at END, admission_id = $3::bigint, return_reason = $4, closed_on = $5::date,"
    " updated_by = $6, updated_at = now() WHERE id = $1",
    0,
};

static const char *const from_kinds[] = {"follow_up", "emergency", NULL};

/* The keys the caller may not see; to_caller: the referrals read are
 * addressed to the caller's hospital, whose system reads their reasons. */
static const char *hidden(const jf_req *req, bool to_caller)
{
    return jf_record_view(req).clinical || to_caller ? "{}" : HIDE_CLINICAL;
}

static const char *today(jf_req *req)
{
    char *s = jf_arena_alloc(&req->arena, 11);

    if (s != NULL)
        jf_date_format(jf_date_today(), s);
    return s;
}

/* 400 naming field with message; returns the negative jf_err. */
static int bad(jf_req *req, const char *field, const char *message)
{
    jf_errors e = {0};

    jf_errors_add(&e, field, "%s", message);
    return jf_errors_respond(req, &e);
}

int jf_referral_create(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                       const jf_referral_in *in, const char **id)
{
    int u = in->urgency ? jf_referral_urgency_parse(in->urgency) : JF_REF_ROUTINE, rc, n = -1;
    const char *setting =
        jf_arena_printf(&req->arena, "referral_%s_days", jf_referral_urgencies[u]);
    PGresult *res = NULL;
    jf_date on = jf_date_today();
    char due[11];

    if (!jf_pstatus_registered(row->status) || row->status == JF_PS_HOSPITALISED ||
        row->status == JF_PS_MOVED_OUT) {
        jf_resp_problem(req, 409, "transition-refused", "No referral for this record",
                        row->status == JF_PS_HOSPITALISED
                            ? "the patient is in hospital"
                            : "only a patient on the register, in the area, is referred",
                        "status", "does not allow a referral");
        return JF_ERR_CONFLICT;
    }
    const char *hp[] = {jf_res_id(req, in->hospital_id)};
    if ((rc = jf_db_exec(conn, &hospital, 1, hp, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = bad(req, in->hospital_field, "is not a hospital (an agency with a hospital system)");
        goto out;
    }
    PQclear(res);
    res = NULL;
    const char *sp[] = {row->id, in->from_id, in->from_kind};
    if ((rc = jf_db_exec(conn, &source, 3, sp, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = bad(req, in->from_field, "is not a record of this patient");
        goto out;
    }
    PQclear(res);
    res = NULL;
    const char *dp[] = {row->id, setting};
    if ((rc = jf_db_exec(conn, &days, 2, dp, &res)) != 0)
        goto out;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        n = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    res = NULL;
    if (in->referred_on != NULL)
        jf_date_parse(in->referred_on, &on);
    jf_date_format(jf_referral_due(on, (jf_ref_urgency)u, n), due);
    const char *ip[] = {row->id,
                        in->from_kind,
                        in->from_id,
                        jf_res_id(req, in->hospital_id),
                        in->reason,
                        jf_referral_urgencies[u],
                        in->referred_on ? in->referred_on : today(req),
                        due,
                        jf_res_id(req, req->claims.user_id)};
    rc = jf_db_exec(conn, &insert, 9, ip, &res);
    if (rc != 0 && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        jf_resp_problem(req, 409, "conflict", "Already referred",
                        "this follow-up has a referral already", in->from_field,
                        "has a referral already");
        rc = JF_ERR_CONFLICT;
        goto out;
    }
    if (rc == 0) {
        *id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
        rc = jf_record_audit(req, conn, row, "referral.create",
                             jf_arena_printf(&req->arena, "{\"referral_id\":%s,\"urgency\":\"%s\"}",
                                             *id, jf_referral_urgencies[u]));
    }
    if (rc == 0) {
        const char *pp[] = {*id};
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &push, 1, pp, &res);
    }
out:
    PQclear(res);
    return rc;
}

/* Send referral id as the write's answer, kept for the Idempotency-Key. */
static int answer(jf_req *req, jf_db_conn *conn, const jf_idem *idem, const char *id, int status)
{
    const char *p[] = {id, "{}", today(req)};

    return jf_idem_commit_row(req, conn, idem, status, &one, 3, p);
}

/* POST /patients/{id}/referrals {from_kind, follow_up_id | emergency_record_id,
 * hospital_id, reason, urgency, referred_on?} */
static int create(jf_req *req)
{
    static const char *const allowed[] = {
        "from_kind", "follow_up_id", "emergency_record_id", "hospital_id",
        "reason",    "urgency",      "referred_on",         NULL};
    jf_errors e = {0};
    jf_referral_in in = {.hospital_field = "hospital_id"};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    long long from = 0;
    const char *id = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    in.from_kind = jf_body_code(req, &e, "from_kind", true, from_kinds);
    in.reason = jf_body_str(req, &e, "reason", true, 1, 500);
    in.urgency = jf_body_code(req, &e, "urgency", true, jf_referral_urgencies);
    in.referred_on = jf_body_date(req, &e, "referred_on", false);
    jf_body_int(req, &e, "hospital_id", true, 1, INT64_MAX, &in.hospital_id);
    if (in.from_kind != NULL) {
        bool fu = strcmp(in.from_kind, "follow_up") == 0;
        in.from_field = fu ? "follow_up_id" : "emergency_record_id";
        if (jf_body_has(req, fu ? "emergency_record_id" : "follow_up_id"))
            jf_errors_add(&e, fu ? "emergency_record_id" : "follow_up_id",
                          "does not go with from_kind %s", in.from_kind);
        if (jf_body_int(req, &e, in.from_field, true, 1, INT64_MAX, &from) == 1)
            in.from_id = jf_res_id(req, from);
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0 ||
        (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW ||
        (rc = jf_referral_create(req, conn, &row, &in, &id)) != 0)
        return rc < 0 ? rc : 0;
    return answer(req, conn, &idem, id, 201);
}

/* GET /patients/{id}/referrals, newest first, cut to the caller's view. */
static int of_patient_read(jf_req *req)
{
    return jf_episode_read(req, &of_patient, "{\"list\":\"referrals\"}", hidden(req, false),
                           today(req), false);
}

/* GET /referrals?status&overdue&org_unit_id&limit&cursor: the referrals of
 * the patients of the caller's area (or a unit of it); for a hospital's
 * system, those addressed to its hospital. */
static int list_referrals(jf_req *req)
{
    static const char *const states[] = {"open", "accepted", "admitted", "returned", NULL};
    bool service = jf_role_parse(req->claims.role) == JF_ROLE_SERVICE;
    jf_errors e = {0};
    const char *status = jf_req_query(req, "status"), *overdue = NULL, *path = NULL;
    long long unit, after = 0;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    unit = jf_query_id(req, &e, "org_unit_id");
    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (jf_req_query(req, "overdue") != NULL)
        overdue = jf_res_tf(jf_query_bool(req, &e, "overdue"));
    if (status != NULL && !jf_in_set(status, states))
        jf_errors_add(&e, "status", "must be open, accepted, admitted or returned");
    if (service && unit > 0)
        jf_errors_add(&e, "org_unit_id", "a hospital's system reads the referrals to it");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (service && req->claims.agency_id <= 0) {
        jf_resp_forbidden(req, "only a hospital's system reads referrals");
        return JF_ERR_AUTH;
    }
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if (service) {
        PGresult *h = NULL;
        const char *hp[] = {jf_res_id(req, req->claims.agency_id)};
        rc = jf_db_exec(conn, &hospital, 1, hp, &h);
        if (rc == 0 && PQntuples(h) == 0) {
            jf_resp_forbidden(req, "only a hospital's system reads referrals");
            rc = JF_ERR_AUTH;
        }
        PQclear(h);
        if (rc != 0)
            return rc;
    } else {
        if ((rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
            return rc;
        if (path == NULL)
            return jf_errors_respond(req, &e);
    }
    const char *p[] = {path,
                       jf_res_path_upper(req, path),
                       service ? jf_res_id(req, req->claims.agency_id) : NULL,
                       status,
                       overdue,
                       today(req),
                       jf_res_id(req, after),
                       jf_res_id(req, limit + 1),
                       hidden(req, service)};
    rc = jf_db_exec(conn, &list, 9, p, &res);
    if (rc == 0) {
        jf_audit_entry a = {.action = "referral.list",
                            .target_type = service ? "agency" : "org_unit",
                            .target_id =
                                service ? jf_res_id(req, req->claims.agency_id)
                                        : jf_res_id(req, unit > 0 ? unit : req->claims.org_unit_id),
                            .org_unit_id = unit > 0 ? unit : req->claims.org_unit_id,
                            .detail_json = NULL};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* POST /integrations/hospital/referrals/{id}/{accept|admit|return}: the
 * hospital the referral is addressed to takes it up (404 for any other).
 * admit takes the body of an admission and records it through the
 * admission core; return takes {reason}. A move the referral's state does
 * not allow is 409 naming the state. */
static int hospital_move(jf_req *req, jf_ref_action action)
{
    static const char *const none[] = {NULL};
    static const char *const admit_fields[] = {
        "admitted_on", "hospital", "involuntary", "reason", "escorted_by", "escort_names", NULL};
    static const char *const return_fields[] = {"reason", NULL};
    static const char *const actions[] = {"accept", "admit", "return"};
    jf_errors e = {0};
    jf_admission a = {0};
    jf_patient_row row = {0};
    jf_idem idem;
    jf_db_conn *conn = NULL;
    PGresult *res = NULL;
    const char *why = NULL, *aid = NULL, *id = jf_req_param(req, 0);
    jf_ref_state from, to;
    jf_buf adm;
    int rc;

    jf_buf_init(&adm, 1u << 16);
    if ((rc = jf_integration_open(req, "hospital", &conn)) != 0)
        goto out;
    if (jf_req_param_id(req, 0) == 0) {
        jf_resp_not_found(req);
        rc = JF_ERR_NOT_FOUND;
        goto out;
    }
    jf_body_only(req, &e,
                 action == JF_REF_ADMIT    ? admit_fields
                 : action == JF_REF_RETURN ? return_fields
                                           : none);
    if (action == JF_REF_ADMIT)
        jf_episode_read_admission(req, &e, &a);
    if (action == JF_REF_RETURN)
        why = jf_body_str(req, &e, "reason", true, 1, 500);
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        goto out;
    const char *lp[] = {id, jf_res_id(req, req->claims.agency_id)};
    if ((rc = jf_db_exec(conn, &lock, 2, lp, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0) {
        jf_resp_problem(req, 404, "not-found", "Not found",
                        "no referral with this id to your hospital", NULL, NULL);
        rc = JF_ERR_NOT_FOUND;
        goto out;
    }
    from = jf_referral_state_parse(PQgetvalue(res, 0, 0));
    to = jf_referral_next(from, action);
    if (to == JF_REF_NONE) {
        const char *state = jf_referral_state_name(from);
        rc = JF_ERR_CONFLICT;
        jf_resp_problem(req, 409, "transition-refused", "Referral refused",
                        jf_arena_printf(&req->arena, "the referral is %s: it cannot be %s", state,
                                        action == JF_REF_ACCEPT  ? "accepted"
                                        : action == JF_REF_ADMIT ? "admitted"
                                                                 : "sent back"),
                        "status", jf_arena_printf(&req->arena, "is %s", state));
        goto out;
    }
    row.id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 1));
    row.status = jf_pstatus_parse(PQgetvalue(res, 0, 2));
    row.version = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    row.org_unit_id = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    row.org_path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 5));
    PQclear(res);
    res = NULL;
    if (action == JF_REF_ADMIT) {
        if ((rc = jf_episode_admit(req, conn, &row, &a, &adm)) != 0)
            goto out;
        json_t *j = json_loads(adm.data, 0, NULL);
        aid = jf_res_id(req, (long long)json_integer_value(json_object_get(j, "id")));
        json_decref(j);
    }
    const char *mp[] = {id,
                        jf_referral_state_name(to),
                        aid,
                        why,
                        to == JF_REF_ACCEPTED ? NULL : today(req),
                        jf_res_id(req, req->claims.user_id)};
    if ((rc = jf_db_exec(conn, &move, 6, mp, &res)) != 0)
        goto out;
    rc = jf_record_audit(req, conn, &row,
                         jf_arena_printf(&req->arena, "referral.%s", actions[action]),
                         jf_arena_printf(&req->arena, "{\"referral_id\":%s}", id));
    if (rc == 0)
        rc = answer(req, conn, &idem, id, 200);
out:
    PQclear(res);
    jf_buf_free(&adm);
    return rc < 0 ? rc : 0;
}

static int hospital_accept(jf_req *req)
{
    return hospital_move(req, JF_REF_ACCEPT);
}

static int hospital_admit(jf_req *req)
{
    return hospital_move(req, JF_REF_ADMIT);
}

static int hospital_return(jf_req *req)
{
    return hospital_move(req, JF_REF_RETURN);
}

static const jf_route routes[] = {
    {"POST", "/api/v1/patients/{id}/referrals", create, JF_ROUTE_AUTH, JF_CAP_CLINICAL_WRITE},
    {"GET", "/api/v1/patients/{id}/referrals", of_patient_read, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/referrals", list_referrals, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    /* jf_integration_open admits hospital systems only. */
    {"POST", "/api/v1/integrations/hospital/referrals/{id}/accept", hospital_accept, JF_ROUTE_AUTH,
     0},
    {"POST", "/api/v1/integrations/hospital/referrals/{id}/admit", hospital_admit, JF_ROUTE_AUTH,
     0},
    {"POST", "/api/v1/integrations/hospital/referrals/{id}/return", hospital_return, JF_ROUTE_AUTH,
     0},
};

int jf_res_referrals_init(void)
{
    jf_stmt *const s[] = {&hospital, &source, &days, &insert, &of_patient,
                          &list,     &one,    &lock, &move,   &push};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
