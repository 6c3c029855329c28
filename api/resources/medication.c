/* Medication: prescriptions (oral doses morning/noon/evening, or a
 * long-acting injection 长效针剂 every N weeks), their end, pick-ups with the
 * days supplied, and the worklist of pick-ups overdue (取药超期): a patient
 * on an active prescription whose last supply ran out longer ago than the
 * configured tolerance. */
#include "common.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_JSON                                                                                    \
    "json_build_object('id', r.id, 'patient_id', r.patient_id, 'drug', r.drug,"                    \
    " 'long_acting', r.long_acting, 'dose_morning', r.dose_morning, 'dose_noon', r.dose_noon,"     \
    " 'dose_evening', r.dose_evening, 'unit', r.unit, 'every_weeks', r.every_weeks,"               \
    " 'dose_mg', r.dose_mg, 'started_on', r.started_on, 'ended_on', r.ended_on,"                   \
    " 'active', r.ended_on IS NULL, 'user_id', r.user_id, 'created_at', r.created_at)"
#define PICKUP_JSON                                                                                \
    "json_build_object('id', m.id, 'patient_id', m.patient_id,"                                    \
    " 'prescription_id', m.prescription_id, 'picked_on', m.picked_on,"                             \
    " 'days_supplied', m.days_supplied, 'supply_ends', m.picked_on + m.days_supplied,"             \
    " 'picked_by', m.picked_by, 'user_id', m.user_id, 'created_at', m.created_at)"

static jf_stmt rx_insert = {
    "prescription_insert",
    "INSERT INTO prescriptions AS r (patient_id, drug, long_acting, dose_morning, dose_noon,"
    " dose_evening, unit, every_weeks, dose_mg, started_on, user_id) VALUES ($1, $2, $3::bool,"
    " $4::numeric, $5::numeric, $6::numeric, $7, $8::int, $9::numeric, $10::date, $11)"
    " RETURNING r.id, " RX_JSON "::text",
    0,
};
static jf_stmt rx_lock = {
    "prescription_lock",
    "SELECT started_on, ended_on FROM prescriptions WHERE id = $2 AND patient_id = $1"
    " FOR UPDATE",
    0,
};
static jf_stmt rx_end = {
    "prescription_end",
    "UPDATE prescriptions r SET ended_on = $3::date WHERE r.id = $2 AND r.patient_id = $1"
    " RETURNING r.id, " RX_JSON "::text",
    0,
};
static jf_stmt rx_of_patient = {"prescription_of_patient",
                                "SELECT 1 FROM prescriptions WHERE id = $2 AND patient_id = $1", 0};
static jf_stmt pk_insert = {
    "pickup_insert",
    "INSERT INTO medication_pickups AS m (patient_id, prescription_id, picked_on,"
    " days_supplied, picked_by, user_id) VALUES ($1, $2::bigint, $3::date, $4::int, $5, $6)"
    " RETURNING m.id, " PICKUP_JSON "::text",
    0,
};
static jf_stmt medication = {
    "medication_of_patient",
    "SELECT json_build_object('prescriptions', coalesce((SELECT json_agg(" RX_JSON
    " ORDER BY r.ended_on IS NULL DESC, r.started_on DESC, r.id DESC) FROM prescriptions r"
    " WHERE r.patient_id = $1), '[]'), 'pickups', coalesce((SELECT json_agg(" PICKUP_JSON
    " ORDER BY m.picked_on DESC, m.id DESC) FROM medication_pickups m"
    " WHERE m.patient_id = $1), '[]'))::text",
    0,
};
/* The tolerance of the area at $1: its unit's own setting, or the
 * nearest ancestor's (the list applies each patient's unit's). */
static jf_stmt tolerance = {"pickup_tolerance", "SELECT pickup_tolerance_at($1)", 0};
/* $1 scope low, $2 scope high, $3 today, $4..$5 cursor (days late, id), $6
 * limit, $7 risk visible, $8 phone visible, $9 the responsible doctor
 * (NULL: any). Who is overdue, by their unit's tolerance, is
 * pickups_overdue (db/definitions/medication.sql) [R-MED-1]. */
static jf_stmt overdue = {
    "pickup_overdue",
    "WITH w AS (SELECT p.*, o.pickup_id, o.picked_on, o.days_supplied, o.picked_by,"
    "  o.prescription_id, o.expected_by, o.days_late"
    "  FROM pickups_overdue($1, $2, $3::date) o JOIN patients p ON p.id = o.patient_id"
    "  WHERE ($9::bigint IS NULL OR p.doctor_id = $9))"
    " SELECT w.id, w.days_late, json_build_object('patient_id', w.id, 'name', w.name,"
    "  'status', w.status, 'org_unit_id', w.org_unit_id,"
    "  'org_unit_name', (SELECT name FROM org_units WHERE id = w.org_unit_id),"
    "  'colour', CASE WHEN $7 THEN w.colour END,"
    "  'risk_level', CASE WHEN $7 THEN w.risk_level END,"
    "  'phone', CASE WHEN $8 THEN w.phone ELSE w.phone_masked END, 'doctor_id', w.doctor_id,"
    "  'drugs', (SELECT json_agg(r.drug ORDER BY r.id) FROM prescriptions r"
    "   WHERE r.patient_id = w.id AND r.started_on <= $3::date"
    "   AND (r.ended_on IS NULL OR r.ended_on > $3::date)),"
    "  'last_pickup', json_build_object('id', w.pickup_id, 'picked_on', w.picked_on,"
    "   'days_supplied', w.days_supplied, 'picked_by', w.picked_by,"
    "   'prescription_id', w.prescription_id),"
    "  'expected_by', w.expected_by, 'days_late', w.days_late)::text FROM w"
    " WHERE w.days_late < $4::int OR (w.days_late = $4::int AND w.id > $5::bigint)"
    " ORDER BY w.days_late DESC, w.id LIMIT $6",
    0,
};

static const char *const units[] = {"mg", "ml", "tablet", NULL};

/* A dose: a number in [min, 99999.99] as text with two decimals (arena),
 * or NULL when absent or bad (an error added). */
static const char *dose_field(jf_req *req, jf_errors *e, const char *f, bool positive)
{
    json_t *v = json_object_get(req->body, f);
    double d;

    if (v == NULL || json_is_null(v))
        return NULL;
    d = json_is_number(v) ? json_number_value(v) : -1;
    if (!json_is_number(v) || d < 0 || (positive && d <= 0) || d > 99999.99) {
        jf_errors_add(e, f, "must be a number %s 0 up to 99999.99", positive ? "above" : "from");
        return NULL;
    }
    return jf_arena_printf(&req->arena, "%.2f", d);
}

/* Insert one record (stmt returns its id and JSON), audit {"<key>": id} as
 * action, commit and answer 201 with the record; with the request's
 * Idempotency-Key, if any. */
static int record_insert(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                         const jf_stmt *stmt, int n, const char *const *p, const char *action,
                         const char *key)
{
    PGresult *res = NULL;
    jf_idem idem;
    jf_buf out;
    int rc = jf_idem_begin(req, conn, &idem);

    if (rc != JF_IDEM_NEW)
        return rc;
    jf_buf_init(&out, 1u << 16);
    rc = jf_db_exec(conn, stmt, n, p, &res);
    if (rc == 0)
        rc = jf_buf_append(&out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    if (rc == 0)
        rc = jf_record_audit(
            req, conn, row, action,
            jf_arena_printf(&req->arena, "{\"%s\":%s}", key, PQgetvalue(res, 0, 0)));
    if (rc == 0)
        rc = jf_idem_finish(req, conn, &idem, 201, NULL, out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 201, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

static int not_registered(jf_req *req)
{
    return jf_resp_problem(req, 409, "transition-refused", "Not on the register",
                           "only a patient on the register (在册) has medication recorded",
                           "status", "does not allow medication records");
}

/* POST /patients/{id}/prescriptions {drug, long_acting?, dose_morning?,
 * dose_noon?, dose_evening?, unit?, every_weeks?, dose_mg?, started_on} */
static int create_prescription(jf_req *req)
{
    static const char *const allowed[] = {
        "drug", "long_acting", "dose_morning", "dose_noon",  "dose_evening",
        "unit", "every_weeks", "dose_mg",      "started_on", NULL};
    static const char *const oral[] = {"dose_morning", "dose_noon", "dose_evening", "unit", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_db_conn *conn;
    bool long_acting = false;
    long long weeks = 0;
    int has_weeks, rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *drug = jf_body_str(req, &e, "drug", true, 1, 100);
    jf_body_bool(req, &e, "long_acting", false, &long_acting);
    const char *morning = dose_field(req, &e, "dose_morning", false);
    const char *noon = dose_field(req, &e, "dose_noon", false);
    const char *evening = dose_field(req, &e, "dose_evening", false);
    const char *unit = jf_body_code(req, &e, "unit", false, units);
    has_weeks = jf_body_int(req, &e, "every_weeks", false, 1, 12, &weeks);
    const char *dose_mg = dose_field(req, &e, "dose_mg", true);
    const char *started = jf_body_date(req, &e, "started_on", true);
    if (long_acting) {
        /* A long-acting injection: every N weeks, a dose in mg, no daily doses. */
        if (has_weeks == 0)
            jf_errors_add(&e, "every_weeks", "is required for a long-acting injection");
        if (!jf_body_has(req, "dose_mg") || jf_body_null(req, "dose_mg"))
            jf_errors_add(&e, "dose_mg", "is required for a long-acting injection");
        for (int i = 0; oral[i]; i++)
            if (jf_body_has(req, oral[i]) && !jf_body_null(req, oral[i]))
                jf_errors_add(&e, oral[i], "does not apply to a long-acting injection");
    } else {
        if (has_weeks != 0)
            jf_errors_add(&e, "every_weeks", "only applies to a long-acting injection");
        if (jf_body_has(req, "dose_mg") && !jf_body_null(req, "dose_mg"))
            jf_errors_add(&e, "dose_mg", "only applies to a long-acting injection");
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (!jf_pstatus_registered(row.status))
        return not_registered(req);
    const char *p[] = {row.id,
                       drug,
                       jf_res_tf(long_acting),
                       morning,
                       noon,
                       evening,
                       unit,
                       has_weeks == 1 ? jf_res_id(req, weeks) : NULL,
                       dose_mg,
                       started,
                       jf_res_id(req, req->claims.user_id)};
    return record_insert(req, conn, &row, &rx_insert, 11, p, "prescription.create",
                         "prescription_id");
}

/* POST /patients/{id}/prescriptions/{prescription_id}/end {ended_on} */
static int end_prescription(jf_req *req)
{
    static const char *const allowed[] = {"ended_on", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int rc;

    if (jf_req_param_id(req, 1) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "ended_on", true);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    jf_buf_init(&out, 1u << 16);
    rc = jf_db_begin(conn);
    const char *p[] = {row.id, jf_req_param(req, 1), on};
    if (rc == 0)
        rc = jf_db_exec(conn, &rx_lock, 2, p, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0 || !PQgetisnull(res, 0, 1)) {
        rc = jf_resp_problem(req, 409, "transition-refused", "No such active prescription",
                             PQntuples(res) == 0
                                 ? "this patient has no such prescription"
                                 : jf_arena_printf(&req->arena, "this prescription ended on %s",
                                                   PQgetvalue(res, 0, 1)),
                             "prescription_id", "is not an active prescription of this patient");
        goto out;
    }
    if (strcmp(on, PQgetvalue(res, 0, 0)) < 0) {
        jf_errors_add(&e, "ended_on", "must not be before started_on (%s)", PQgetvalue(res, 0, 0));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    PQclear(res);
    rc = jf_db_exec(conn, &rx_end, 3, p, &res);
    if (rc == 0)
        rc = jf_buf_append(&out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    if (rc == 0)
        rc = jf_record_audit(req, conn, &row, "prescription.end",
                             jf_arena_printf(&req->arena, "{\"prescription_id\":%s}", p[1]));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/pickups {picked_on, days_supplied, prescription_id?, picked_by?} */
static int create_pickup(jf_req *req)
{
    static const char *const allowed[] = {"picked_on", "days_supplied", "prescription_id",
                                          "picked_by", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_db_conn *conn;
    PGresult *res = NULL;
    long long days = 0, rx = 0;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "picked_on", true);
    const char *by = jf_body_str(req, &e, "picked_by", false, 1, 32);
    jf_body_int(req, &e, "days_supplied", true, 1, 180, &days);
    jf_body_int(req, &e, "prescription_id", false, 1, 999999999999999999LL, &rx);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (!jf_pstatus_registered(row.status))
        return not_registered(req);
    if (rx > 0) {
        const char *p[] = {row.id, jf_res_id(req, rx)};
        rc = jf_db_exec(conn, &rx_of_patient, 2, p, &res);
        if (rc == 0 && PQntuples(res) == 0) {
            jf_errors_add(&e, "prescription_id", "is not a prescription of this patient");
            rc = jf_errors_respond(req, &e);
        }
        PQclear(res);
        if (rc != 0)
            return rc;
    }
    const char *p[] = {row.id, rx > 0 ? jf_res_id(req, rx) : NULL, on, jf_res_id(req, days),
                       by,     jf_res_id(req, req->claims.user_id)};
    return record_insert(req, conn, &row, &pk_insert, 6, p, "pickup.create", "pickup_id");
}

/* GET /patients/{id}/medication → {prescriptions: [...], pickups: [...]} */
static int get_medication(jf_req *req)
{
    jf_patient_row row;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    const char *p[] = {row.id};
    rc = jf_db_exec(conn, &medication, 1, p, &res);
    if (rc == 0)
        rc = jf_record_audit(req, conn, &row, "patient.clinical_read", "{\"list\":\"medication\"}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

/* The worklist cursor: "o1:<days late>|<patient id>", base64url. */
static const char *encode_cursor(jf_req *req, const char *days, const char *id)
{
    char plain[64], *out = jf_arena_alloc(&req->arena, 96);
    int n = snprintf(plain, sizeof(plain), "o1:%s|%s", days, id);

    if (out == NULL || n <= 0 || (size_t)n >= sizeof(plain) ||
        jf_crypto_b64url_encode((unsigned char *)plain, (size_t)n, out, 96) < 0)
        return NULL;
    return out;
}

static void decode_cursor(jf_req *req, jf_errors *e, const char **days, const char **id)
{
    const char *s = jf_req_query(req, "cursor");
    unsigned char plain[64];
    long long d, i;
    char tail;
    int n;

    *days = "2147483647";
    *id = "0";
    if (s == NULL)
        return;
    n = jf_crypto_b64url_decode(s, strlen(s), plain, sizeof(plain) - 1);
    if (n > 3) {
        plain[n] = '\0';
        if (sscanf((char *)plain, "o1:%lld|%lld%c", &d, &i, &tail) == 2 && d > 0 &&
            d < 2147483647LL && i > 0) {
            *days = jf_res_id(req, d);
            *id = jf_res_id(req, i);
            return;
        }
    }
    jf_errors_add(e, "cursor", "is not a cursor this server issued");
}

/* GET /worklists/pickups-overdue?org_unit_id=&doctor_id=&limit=&cursor= */
static int pickups_overdue(jf_req *req)
{
    jf_patient_view v = jf_record_view(req);
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id");
    long long doctor = jf_query_id(req, &e, "doctor_id");
    const char *days, *cid, *scope, *tol = "7";
    char today[11];
    int limit, rc;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;

    jf_query_limit(req, &e, &limit);
    decode_cursor(req, &e, &days, &cid);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_date_format(jf_date_today(), today);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &scope)) != 0)
        return rc;
    if (scope == NULL)
        return jf_errors_respond(req, &e);
    jf_buf_init(&out, 16u << 20);
    rc = jf_db_exec(conn, &tolerance, 1, (const char *const[]){scope}, &res);
    if (rc == 0)
        tol = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    const char *p[] = {scope,
                       jf_res_path_upper(req, scope),
                       today,
                       days,
                       cid,
                       jf_res_id(req, limit + 1),
                       jf_res_tf(v.risk),
                       jf_res_tf(v.phone_full),
                       doctor > 0 ? jf_res_id(req, doctor) : NULL};
    if (rc == 0)
        rc = jf_db_exec(conn, &overdue, 9, p, &res);
    if (rc != 0)
        goto out;
    rc = jf_buf_printf(&out, "{\"as_of\":\"%s\",\"tolerance_days\":%s,\"items\":[", today, tol);
    for (int i = 0; rc == 0 && i < PQntuples(res) && i < limit; i++)
        rc = (i ? jf_buf_puts(&out, ",") : 0) || jf_buf_puts(&out, PQgetvalue(res, i, 2));
    rc = rc ? rc : jf_buf_puts(&out, "],\"next_cursor\":");
    if (rc == 0)
        rc = jf_buf_json_str(&out, PQntuples(res) > limit
                                       ? encode_cursor(req, PQgetvalue(res, limit - 1, 1),
                                                       PQgetvalue(res, limit - 1, 0))
                                       : NULL);
    rc = rc ? rc : jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients/{id}/medication", get_medication, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"POST", "/api/v1/patients/{id}/prescriptions", create_prescription, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_WRITE},
    {"POST", "/api/v1/patients/{id}/prescriptions/{prescription_id}/end", end_prescription,
     JF_ROUTE_AUTH, JF_CAP_CLINICAL_WRITE},
    {"POST", "/api/v1/patients/{id}/pickups", create_pickup, JF_ROUTE_AUTH, JF_CAP_CLINICAL_WRITE},
    {"GET", "/api/v1/worklists/pickups-overdue", pickups_overdue, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
};

int jf_res_medication_init(void)
{
    jf_stmt *const s[] = {&rx_insert, &rx_lock,    &rx_end,    &rx_of_patient,
                          &pk_insert, &medication, &tolerance, &overdue};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
