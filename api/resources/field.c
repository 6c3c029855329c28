/* The field work around the national form (DOMAIN.md "Visit mode",
 * "Inter-agency notifications", "Ledgers"): the 走访 (home check) that grid
 * workers and village cadres record, temporary absences (外出) reported
 * alone or at a visit, medicine delivered to the home (送药上门) and why a
 * patient does not take medication (不服药原因, seed 001). */
#include "field.h"
#include "common.h"
#include "episodes.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../domain/ledger.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/notify.h"
#include "../record/patient.h"

#include <string.h>

#define CHECK_JSON                                                                                 \
    "json_build_object('id', h.id, 'patient_id', h.patient_id, 'checked_on', h.checked_on,"        \
    " 'seen', h.seen, 'whereabouts', h.whereabouts, 'guardian_present', h.guardian_present,"       \
    " 'abnormal', h.abnormal, 'abnormal_signs', h.abnormal_signs, 'hazards_checked',"              \
    " h.hazards_checked, 'hazards_found', h.hazards_found, 'risk_level', h.risk_level,"            \
    " 'note', h.note, 'user_id', h.user_id, 'created_at', h.created_at)"
#define ABSENCE_JSON                                                                               \
    "json_build_object('id', a.id, 'patient_id', a.patient_id, 'kind', a.kind, 'destination',"     \
    " a.destination, 'left_on', a.left_on, 'expected_return', a.expected_return,"                  \
    " 'returned_on', a.returned_on, 'reported_via', a.reported_via, 'source_id', a.source_id,"     \
    " 'notified', a.notified, 'note', a.note, 'user_id', a.user_id, 'created_at', a.created_at)"

static jf_stmt check_insert = {
    "home_check_insert",
    "INSERT INTO home_checks AS h (patient_id, checked_on, seen, whereabouts, guardian_present,"
    " abnormal, abnormal_signs, hazards_checked, hazards_found, risk_level, note, user_id)"
    " VALUES ($1, $2::date, $3::bool, $4, $5::bool, $6::bool, coalesce($7::text[], '{}'),"
    " $8::bool, $9, $10::smallint, $11, $12) RETURNING h.id, " CHECK_JSON "::text",
    0,
};
static jf_stmt check_list = {
    "home_check_list",
    "SELECT coalesce(json_agg(" CHECK_JSON " ORDER BY h.checked_on DESC, h.id DESC), '[]')::text"
    " FROM home_checks h WHERE h.patient_id = $1",
    0,
};
/* Police and the mental-health centre are told when the patient is in
 * danger (risk ≥ 3) or unstable: decided on the row, with the insert. */
static jf_stmt absence_insert = {
    "absence_insert",
    "INSERT INTO absences AS a (patient_id, kind, destination, left_on, expected_return,"
    " reported_via, source_id, notified, note, user_id)"
    " SELECT $1, $2, $3, $4::date, $5::date, $6, $7, coalesce(p.risk_level >= 3, false)"
    " OR p.last_class IS NOT DISTINCT FROM 'unstable', $8, $9 FROM patients p WHERE p.id = $1"
    " RETURNING a.id, " ABSENCE_JSON "::text, a.notified",
    0,
};
static jf_stmt absence_list = {
    "absence_list",
    "SELECT coalesce(json_agg(" ABSENCE_JSON " ORDER BY a.left_on DESC, a.id DESC), '[]')::text"
    " FROM absences a WHERE a.patient_id = $1",
    0,
};
/* $3 the return: refused (no row) when already back or before leaving. */
static jf_stmt absence_return = {
    "absence_return",
    "WITH a0 AS (SELECT id, left_on, returned_on FROM absences WHERE patient_id = $1 AND id = $2"
    "  FOR UPDATE),"
    " upd AS (UPDATE absences a SET returned_on = $3::date FROM a0 WHERE a.id = a0.id"
    "  AND a0.returned_on IS NULL AND a0.left_on <= $3::date RETURNING a.*)"
    " SELECT (SELECT " ABSENCE_JSON "::text FROM upd a), a0.left_on, a0.returned_on FROM a0",
    0,
};

#define DELIVERY_JSON                                                                              \
    "json_build_object('id', d.id, 'patient_id', d.patient_id, 'delivered_on', d.delivered_on,"    \
    " 'drug', d.drug, 'days_supplied', d.days_supplied, 'received_by', d.received_by, 'note',"     \
    " d.note, 'user_id', d.user_id, 'created_at', d.created_at)"
#define REASON_JSON                                                                                \
    "json_build_object('id', r.id, 'patient_id', r.patient_id, 'reason', r.reason, 'since',"       \
    " r.since, 'note', r.note, 'user_id', r.user_id, 'created_at', r.created_at)"

static jf_stmt delivery_insert = {
    "delivery_insert",
    "INSERT INTO medication_deliveries AS d (patient_id, delivered_on, drug, days_supplied,"
    " received_by, note, user_id) VALUES ($1, $2::date, $3, $4::int, $5, $6, $7)"
    " RETURNING d.id, " DELIVERY_JSON "::text",
    0,
};
static jf_stmt delivery_list = {
    "delivery_list",
    "SELECT coalesce(json_agg(" DELIVERY_JSON " ORDER BY d.delivered_on DESC, d.id DESC), '[]')"
    "::text FROM medication_deliveries d WHERE d.patient_id = $1",
    0,
};
static jf_stmt reason_insert = {
    "non_adherence_insert",
    "INSERT INTO non_adherence_reasons AS r (patient_id, reason, since, note, user_id)"
    " VALUES ($1, $2, $3::date, $4, $5) RETURNING r.id, " REASON_JSON "::text",
    0,
};
static jf_stmt reason_list = {
    "non_adherence_list",
    "SELECT coalesce(json_agg(" REASON_JSON " ORDER BY r.id DESC), '[]')::text"
    " FROM non_adherence_reasons r WHERE r.patient_id = $1",
    0,
};

static const char *const whereabouts_codes[] = {
    "at_home", "out_for_work", "visiting", "in_hospital", "moved", "unknown", "other", NULL};
static const char *const sign_codes[] = {
    "threats",        "violence",      "self_harm", "wandering",
    "not_medicating", "odd_behaviour", "other",     NULL};
static const char *const absence_kinds[] = {"work", "visiting", "treatment", "other", NULL};

void jf_absence_read(jf_req *req, jf_errors *e, json_t *o, const char *prefix, jf_absence *a)
{
    static const char *const keys[] = {"kind", "destination", "left_on", "expected_return",
                                       "note", NULL};
    json_t *saved = req->body;
    char f[40];

    memset(a, 0, sizeof(*a));
    if (o == NULL || json_is_null(o))
        return;
    if (!json_is_object(o)) {
        jf_errors_add(e, prefix[0] ? prefix : "body", "must be an object");
        return;
    }
    a->present = true;
    /* The body readers name fields of req->body: point it at the object
     * for a moment, and name errors with the prefix. */
    req->body = o;
    {
        jf_errors inner = {0};
        jf_body_only(req, &inner, keys);
        a->kind = jf_body_code(req, &inner, "kind", true, absence_kinds);
        a->destination = jf_body_str(req, &inner, "destination", true, 1, 200);
        a->left_on = jf_body_date(req, &inner, "left_on", prefix[0] == '\0');
        /* The expected return lies ahead: not a body date, which is never
         * in the future. */
        a->expected_return = jf_body_str(req, &inner, "expected_return", false, 10, 10);
        jf_date ret;
        if (a->expected_return != NULL && jf_date_parse(a->expected_return, &ret) != 0) {
            jf_errors_add(&inner, "expected_return", "must be a real date YYYY-MM-DD");
            a->expected_return = NULL;
        }
        a->note = jf_body_str(req, &inner, "note", false, 1, 500);
        if (a->left_on && a->expected_return && strcmp(a->expected_return, a->left_on) < 0)
            jf_errors_add(&inner, "expected_return", "must not be before left_on");
        json_t *it;
        size_t i;
        json_array_foreach(inner.list, i, it)
        {
            snprintf(f, sizeof(f), "%s%s%s", prefix, prefix[0] ? "." : "",
                     json_string_value(json_object_get(it, "field")));
            jf_errors_add(e, f, "%s", json_string_value(json_object_get(it, "message")));
        }
        jf_errors_free(&inner);
    }
    req->body = saved;
}

int jf_absence_write(jf_req *req, jf_db_conn *conn, const jf_patient_row *row, const jf_absence *a,
                     const char *via, const char *source_id, jf_buf *out)
{
    PGresult *res = NULL;
    const char *p[] = {row->id,
                       a->kind,
                       a->destination,
                       a->left_on,
                       a->expected_return,
                       via,
                       source_id,
                       a->note,
                       jf_res_id(req, req->claims.user_id)};
    int rc = jf_db_exec(conn, &absence_insert, 9, p, &res);
    bool notified = rc == 0 && strcmp(PQgetvalue(res, 0, 2), "t") == 0;

    if (rc == 0 && out != NULL)
        rc = jf_buf_append(out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    if (rc == 0 && notified)
        rc = jf_record_notify(JF_ACTOR(req), conn, "temporary_absence", row->id,
                              PQgetvalue(res, 0, 1), NULL);
    if (rc == 0) {
        jf_audit_entry e = {.action = "absence.create",
                            .target_type = "patient",
                            .target_id = row->id,
                            .org_unit_id = row->org_unit_id,
                            .detail_json = jf_arena_printf(&req->arena, "{\"absence_id\":%s}",
                                                           PQgetvalue(res, 0, 0))};
        rc = jf_audit_record(conn, req, &e);
    }
    PQclear(res);
    return rc;
}

/* Load the patient for a record that only a patient on the register takes.
 * The route's capability is the right to write it: a village cadre is an
 * official, who otherwise only reads. The patient must live in the
 * caller's area: the other areas that read a record (a pending transfer's
 * receiving side, the 户籍地) do not write to it. */
static int load_registered(jf_req *req, jf_db_conn *conn, jf_patient_row *row)
{
    int rc = jf_record_load(req, conn, JF_ACCESS_READ, row);

    if (rc == 0 && !jf_scope_contains(req->claims.org_path, row->org_path)) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    if (rc == 0 && !jf_pstatus_registered(row->status)) {
        jf_resp_problem(req, 409, "transition-refused", "Not on the register",
                        "only a patient on the register (在册) is visited", "status",
                        "does not allow this record");
        rc = JF_ERR_CONFLICT;
    }
    return rc;
}

/* POST /patients/{id}/home-checks: a 走访. A risk level observed there
 * raises the patient's at once and never lowers it; an absence learnt
 * there is recorded (and told) like one reported alone. */
static int create_check(jf_req *req)
{
    static const char *const allowed[] = {
        "checked_on", "seen",           "whereabouts",     "guardian_present",
        "abnormal",   "abnormal_signs", "hazards_checked", "hazards_found",
        "risk_level", "note",           "absence",         NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_absence abs;
    jf_idem idem;
    jf_db_conn *conn;
    bool seen = false, guardian = false, abnormal = false, hazards = false;
    long long risk = -1;
    jf_buf out;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "checked_on", true);
    jf_body_bool(req, &e, "seen", true, &seen);
    const char *where = jf_body_code(req, &e, "whereabouts", true, whereabouts_codes);
    jf_body_bool(req, &e, "guardian_present", true, &guardian);
    jf_body_bool(req, &e, "abnormal", true, &abnormal);
    const char *signs = jf_body_codes(req, &e, "abnormal_signs", sign_codes, 8);
    jf_body_bool(req, &e, "hazards_checked", true, &hazards);
    const char *found_h = jf_body_str(req, &e, "hazards_found", false, 1, 200);
    jf_body_int(req, &e, "risk_level", false, 0, 5, &risk);
    const char *note = jf_body_str(req, &e, "note", false, 1, 1000);
    jf_absence_read(req, &e, json_object_get(req->body, "absence"), "absence", &abs);
    if (seen && where != NULL && strcmp(where, "at_home") != 0 && strcmp(where, "other") != 0)
        jf_errors_add(&e, "whereabouts", "a patient seen at the check is at home (or other)");
    if (!abnormal && signs != NULL && strcmp(signs, "{}") != 0)
        jf_errors_add(&e, "abnormal_signs", "only applies when abnormal is true");
    if (abs.present && seen)
        jf_errors_add(&e, "absence", "a patient seen at home is not away");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (abs.present && abs.left_on == NULL)
        abs.left_on = on;

    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_registered(req, conn, &row)) != 0 ||
        (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    jf_buf_init(&out, 1u << 16);
    const char *p[] = {row.id,
                       on,
                       jf_res_tf(seen),
                       where,
                       jf_res_tf(guardian),
                       jf_res_tf(abnormal),
                       signs,
                       jf_res_tf(hazards),
                       found_h,
                       risk >= 0 ? jf_res_id(req, risk) : NULL,
                       note,
                       jf_res_id(req, req->claims.user_id)};
    rc = jf_episode_record_write(req, conn, &row, &check_insert, 12, p, "home_check.create",
                                 "home_check_id", NULL, &out);
    if (rc == 0 && abs.present) {
        json_t *doc = json_loads(out.data, 0, NULL);
        const char *cid = jf_res_id(req, json_integer_value(json_object_get(doc, "id")));
        json_decref(doc);
        rc = jf_absence_write(req, conn, &row, &abs, "home_check", cid, NULL);
    }
    if (rc == 0)
        rc = jf_idem_commit(req, conn, &idem, 201, out.data, out.len);
    jf_buf_free(&out);
    return rc;
}

static int list_checks(jf_req *req)
{
    return jf_episode_list(req, &check_list, "home_checks");
}

/* POST /patients/{id}/absences: a temporary absence reported on its own. */
static int create_absence(jf_req *req)
{
    jf_errors e = {0};
    jf_patient_row row;
    jf_absence abs;
    jf_idem idem;
    jf_db_conn *conn;
    jf_buf out;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_absence_read(req, &e, req->body, "", &abs);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_registered(req, conn, &row)) != 0 ||
        (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    jf_buf_init(&out, 1u << 16);
    rc = jf_absence_write(req, conn, &row, &abs, "report", NULL, &out);
    if (rc == 0)
        rc = jf_idem_commit(req, conn, &idem, 201, out.data, out.len);
    jf_buf_free(&out);
    return rc;
}

static int list_absences(jf_req *req)
{
    return jf_episode_list(req, &absence_list, "absences");
}

/* POST /patients/{id}/absences/{absence_id}/return {returned_on}: back home. */
static int absence_back(jf_req *req)
{
    static const char *const allowed[] = {"returned_on", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 1) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "returned_on", true);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_registered(req, conn, &row)) != 0 ||
        (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    const char *p[] = {row.id, jf_req_param(req, 1), on};
    rc = jf_db_exec(conn, &absence_return, 3, p, &res);
    if (rc == 0 && PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if (rc == 0 && !PQgetisnull(res, 0, 2)) {
        rc = jf_resp_problem(
            req, 409, "transition-refused", "Already back",
            jf_arena_printf(&req->arena, "the patient came back on %s", PQgetvalue(res, 0, 2)),
            "returned_on", "the absence has ended");
        goto out;
    }
    if (rc == 0 && PQgetisnull(res, 0, 0)) {
        jf_errors_add(&e, "returned_on", "must not be before left_on (%s)", PQgetvalue(res, 0, 1));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if (rc == 0) {
        rc = jf_record_audit(
            req, conn, &row, "absence.return",
            jf_arena_printf(&req->arena, "{\"absence_id\":%s}", jf_req_param(req, 1)));
    }
    if (rc == 0)
        rc = jf_idem_finish(req, conn, &idem, 200, NULL, PQgetvalue(res, 0, 0));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    return rc;
}

/* A record of the loaded, registered patient from fields already read,
 * keyed and audited as action, answered 201 (stmt: $1 the patient). */
static int keyed_record(jf_req *req, const jf_stmt *stmt, int n, const char **p, const char *action,
                        const char *key)
{
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    jf_buf out;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_registered(req, conn, &row)) != 0 ||
        (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    jf_buf_init(&out, 1u << 16);
    p[0] = row.id;
    rc = jf_episode_record_write(req, conn, &row, stmt, n, p, action, key, NULL, &out);
    if (rc == 0)
        rc = jf_idem_commit(req, conn, &idem, 201, out.data, out.len);
    jf_buf_free(&out);
    return rc;
}

/* POST /patients/{id}/medication-deliveries: medicine taken to the
 * patient's home (送药上门, seed 001), for the 不服药 ledger. */
static int create_delivery(jf_req *req)
{
    static const char *const allowed[] = {"delivered_on", "drug", "days_supplied",
                                          "received_by",  "note", NULL};
    static const char *const receivers[] = {"patient", "guardian", "other", NULL};
    jf_errors e = {0};
    long long days = -1;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "delivered_on", true);
    const char *drug = jf_body_str(req, &e, "drug", true, 1, 100);
    jf_body_int(req, &e, "days_supplied", false, 1, 366, &days);
    const char *by = jf_body_code(req, &e, "received_by", true, receivers);
    const char *note = jf_body_str(req, &e, "note", false, 1, 500);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {NULL,
                       on,
                       drug,
                       days > 0 ? jf_res_id(req, days) : NULL,
                       by,
                       note,
                       jf_res_id(req, req->claims.user_id)};
    return keyed_record(req, &delivery_insert, 7, p, "medication_delivery.create", "delivery_id");
}

static int list_deliveries(jf_req *req)
{
    return jf_episode_list(req, &delivery_list, "medication_deliveries");
}

/* POST /patients/{id}/non-adherence {reason, since, note?}: why the patient
 * does not take medication (不服药原因) and since when; the latest stands. */
static int create_reason(jf_req *req)
{
    static const char *const allowed[] = {"reason", "since", "note", NULL};
    jf_errors e = {0};
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *reason = jf_body_code(req, &e, "reason", true, jf_non_adherence_reasons);
    const char *since = jf_body_date(req, &e, "since", true);
    const char *note = jf_body_str(req, &e, "note", false, 1, 500);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {NULL, reason, since, note, jf_res_id(req, req->claims.user_id)};
    return keyed_record(req, &reason_insert, 5, p, "non_adherence.create", "non_adherence_id");
}

static int list_reasons(jf_req *req)
{
    return jf_episode_list(req, &reason_list, "non_adherence");
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients/{id}/home-checks", list_checks, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/patients/{id}/home-checks", create_check, JF_ROUTE_AUTH, JF_CAP_HOME_CHECK},
    {"GET", "/api/v1/patients/{id}/absences", list_absences, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/patients/{id}/absences", create_absence, JF_ROUTE_AUTH, JF_CAP_HOME_CHECK},
    {"POST", "/api/v1/patients/{id}/absences/{absence_id}/return", absence_back, JF_ROUTE_AUTH,
     JF_CAP_HOME_CHECK},
    {"GET", "/api/v1/patients/{id}/medication-deliveries", list_deliveries, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"POST", "/api/v1/patients/{id}/medication-deliveries", create_delivery, JF_ROUTE_AUTH,
     JF_CAP_HOME_CHECK},
    {"GET", "/api/v1/patients/{id}/non-adherence", list_reasons, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"POST", "/api/v1/patients/{id}/non-adherence", create_reason, JF_ROUTE_AUTH,
     JF_CAP_HOME_CHECK},
};

int jf_res_field_init(void)
{
    jf_stmt *const s[] = {&check_insert,  &check_list,     &absence_insert,
                          &absence_list,  &absence_return, &delivery_insert,
                          &delivery_list, &reason_insert,  &reason_list};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
