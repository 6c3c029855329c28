/* Early warning and emergency response (预警核处, "1、3、5"分钟快反;
 * DOMAIN.md "Incidents, hospitalisation, emergencies", seed 000). Anyone of
 * the care team raises an abnormal-behaviour alert on a patient or on an
 * unknown person; it reaches the police station, the clinic and 综治中心 of
 * the place in the same transaction (alert_raise, migration 0032), and the
 * webhook wakes the worker at the commit. Each receiving agency stamps its
 * steps (received, arrived, handled) with the server's clock against the
 * targets of the grade; the handling is written up as an emergency record
 * (应急处置记录单). Drills are the same, marked, and kept out of the
 * statistics. */
#include "common.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static jf_stmt patient_place = {
    "alert_patient_place",
    "SELECT org_unit_id, org_path FROM patients WHERE id = $1::bigint",
    0,
};
static jf_stmt raise = {
    "alert_raise",
    "SELECT alert_raise($1::bigint, $2, $3::bigint, $4, $5, $6, $7, $8::bool, $9::bigint,"
    " $10::bigint)",
    0,
};
/* The alert's head (path, unit, patient) and, for the caller's agency $2,
 * its response row; locked for a step or a link. */
static jf_stmt head = {
    "alert_head",
    "SELECT a.org_path, a.org_unit_id, a.patient_id, r.id, r.received_at IS NOT NULL,"
    " r.arrived_at IS NOT NULL, r.handled_at IS NOT NULL,"
    " to_char(coalesce(r.handled_at, r.arrived_at, r.received_at) AT TIME ZONE 'Asia/Shanghai',"
    " 'YYYY-MM-DD HH24:MI:SS')"
    " FROM alerts a LEFT JOIN alert_responses r ON r.alert_id = a.id AND r.agency_id = $2::bigint"
    " WHERE a.id = $1::bigint FOR UPDATE OF a",
    0,
};
static jf_stmt doc = {
    "alert_doc",
    "SELECT alert_doc(a)::text FROM alerts a WHERE a.id = $1::bigint",
    0,
};
/* $3 the step: its time and user are stamped now; the note is kept when
 * none is given. */
static jf_stmt step = {
    "alert_step",
    "UPDATE alert_responses SET"
    " received_at = CASE WHEN $3 = 'received' THEN now() ELSE received_at END,"
    " received_by = CASE WHEN $3 = 'received' THEN $4::bigint ELSE received_by END,"
    " arrived_at = CASE WHEN $3 = 'arrived' THEN now() ELSE arrived_at END,"
    " arrived_by = CASE WHEN $3 = 'arrived' THEN $4::bigint ELSE arrived_by END,"
    " handled_at = CASE WHEN $3 = 'handled' THEN now() ELSE handled_at END,"
    " handled_by = CASE WHEN $3 = 'handled' THEN $4::bigint ELSE handled_by END,"
    " note = coalesce($5, note) WHERE id = $1::bigint AND alert_id = $2::bigint",
    0,
};
static jf_stmt link = {
    "alert_link",
    "UPDATE alerts SET patient_id = $2::bigint, linked_at = now(), linked_by = $3::bigint"
    " WHERE id = $1::bigint AND patient_id IS NULL",
    0,
};
/* Newest first, in the subtree [$1, $2), after the cursor $3 (0: none). */
static jf_stmt list = {
    "alert_list",
    "SELECT a.id, alert_doc(a)::text FROM alerts a"
    " WHERE a.org_path >= $1 AND a.org_path < $2 AND ($3::bigint = 0 OR a.id < $3::bigint)"
    " AND ($4::text IS NULL OR a.grade = $4)"
    " AND ($5::bool IS NULL OR a.drill = $5::bool)"
    " AND ($6::bigint IS NULL OR a.patient_id = $6::bigint)"
    " AND ($7::text IS NULL OR ($7 = 'open') = (NOT EXISTS (SELECT 1 FROM alert_responses r"
    "  WHERE r.alert_id = a.id) OR EXISTS (SELECT 1 FROM alert_responses r"
    "  WHERE r.alert_id = a.id AND r.handled_at IS NULL)))"
    " AND ($8::bigint IS NULL OR EXISTS (SELECT 1 FROM alert_responses r"
    "  WHERE r.alert_id = a.id AND r.agency_id = $8::bigint))"
    " ORDER BY a.id DESC LIMIT $9::int",
    0,
};
static jf_stmt admission_of = {
    "alert_admission_of",
    "SELECT 1 FROM hospitalisations WHERE id = $1::bigint AND patient_id = $2::bigint",
    0,
};
static jf_stmt emergency_insert = {
    "emergency_insert",
    "INSERT INTO emergency_records AS e (alert_id, patient_id, situation, occurred_at, place,"
    " responders, responder_names, sent_to_hospital, hospital, admission_id, restraint,"
    " restraint_minutes, outcome, note, user_id, agency_id)"
    " SELECT a.id, a.patient_id, $2, coalesce($3::timestamptz, a.created_at), $4, $5::text[], $6,"
    " $7::bool, $8, $9::bigint, $10::bool, $11::int, $12, $13, $14::bigint, $15::bigint"
    " FROM alerts a WHERE a.id = $1::bigint RETURNING e.id, emergency_doc(e)::text",
    0,
};

static const char *const grades[] = {"watch", "warning", "urgent", NULL};
static const char *const situations[] = {"self_harm", "harm_others", "relapse", "adverse_reaction",
                                         NULL};
static const char *const outcomes[] = {
    "stabilised",     "hospitalised", "outpatient", "guardian_care",
    "police_custody", "died",         "other",      NULL};
/* Who came (出警/出诊): the agencies and the people of the care team. */
static const char *const responder_codes[] = {"police_station",
                                              "clinic",
                                              "stability_office",
                                              "village_committee",
                                              "mental_health_centre",
                                              "grid_worker",
                                              "guardian",
                                              "family",
                                              "other",
                                              NULL};

static int audit(jf_req *req, jf_db_conn *conn, const char *action, const char *alert_id,
                 long long unit, bool deferred)
{
    jf_audit_entry a = {
        .action = action, .target_type = "alert", .target_id = alert_id, .org_unit_id = unit};

    return deferred ? jf_audit_defer(conn, req, &a) : jf_audit_record(conn, req, &a);
}

/* Is patient pid in the caller's area? Adds an error naming patient_id
 * when not; *unit (when not NULL) gets the patient's unit. 0 or the
 * jf_db_exec error. */
static int patient_in_area(jf_req *req, jf_db_conn *conn, jf_errors *e, long long pid,
                           long long *unit)
{
    const char *p[] = {jf_res_id(req, pid)};
    PGresult *res = NULL;
    int rc = jf_db_exec(conn, &patient_place, 1, p, &res);

    if (rc == 0 && (PQntuples(res) == 0 || jf_scope_check(&req->claims, PQgetvalue(res, 0, 1),
                                                          JF_ACCESS_READ) != JF_SCOPE_OK))
        jf_errors_add(e, "patient_id", "no such patient in your area");
    else if (rc == 0 && unit != NULL)
        *unit = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/* POST /alerts {patient_id | person, grade, place, observed, reporter,
 * org_unit_id, drill} */
static int create(jf_req *req)
{
    static const char *const allowed[] = {"patient_id", "person",      "grade", "place", "observed",
                                          "reporter",   "org_unit_id", "drill", NULL};
    jf_errors e = {0};
    long long pid = 0, unit = 0;
    bool drill = false;
    const char *path = NULL;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "patient_id", false, 1, INT64_MAX, &pid);
    const char *person = jf_body_str(req, &e, "person", false, 1, 200);
    const char *grade = jf_body_code(req, &e, "grade", true, grades);
    const char *place = jf_body_str(req, &e, "place", true, 1, 200);
    const char *observed = jf_body_str(req, &e, "observed", true, 1, 1000);
    const char *reporter = jf_body_str(req, &e, "reporter", false, 1, 64);
    jf_body_int(req, &e, "org_unit_id", false, 1, INT64_MAX, &unit);
    jf_body_bool(req, &e, "drill", false, &drill);
    if (pid == 0 && person == NULL && !jf_body_has(req, "patient_id"))
        jf_errors_add(&e, "person", "is required when the person is not a known patient_id");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    /* The place: the unit given, else the patient's, else the caller's. */
    if (pid > 0 && (rc = patient_in_area(req, conn, &e, pid, unit == 0 ? &unit : NULL)) != 0)
        return rc;
    if (!jf_errors_any(&e) && (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (unit <= 0)
        unit = req->claims.org_unit_id;
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    const char *p[] = {pid > 0 ? jf_res_id(req, pid) : NULL,
                       person,
                       jf_res_id(req, unit),
                       grade,
                       place,
                       observed,
                       reporter,
                       jf_res_tf(drill),
                       jf_res_id(req, req->claims.user_id),
                       req->claims.agency_id > 0 ? jf_res_id(req, req->claims.agency_id) : NULL};
    if ((rc = jf_db_exec(conn, &raise, 10, p, &res)) != 0) {
        PQclear(res);
        return rc;
    }
    const char *id[] = {jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0))};
    PQclear(res);
    if ((rc = audit(req, conn, drill ? "alert.drill" : "alert.create", id[0], unit, false)) != 0)
        return rc;
    return jf_idem_commit_row(req, conn, &idem, 201, &doc, 1, id);
}

/* Load alert {id} for the caller (path parameter 0), locked, with the
 * caller's agency's response row; 404 outside the caller's area. */
static int load(jf_req *req, jf_db_conn *conn, PGresult **res)
{
    const char *p[] = {jf_req_param(req, 0),
                       jf_res_id(req, req->claims.agency_id > 0 ? req->claims.agency_id : 0)};
    int rc = jf_db_exec(conn, &head, 2, p, res);

    if (rc != 0)
        return rc;
    if (PQntuples(*res) == 0 ||
        jf_scope_check(&req->claims, PQgetvalue(*res, 0, 0), JF_ACCESS_READ) != JF_SCOPE_OK) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    return 0;
}

static long long unit_of(const PGresult *head_row)
{
    return strtoll(PQgetvalue(head_row, 0, 1), NULL, 10);
}

/* POST /alerts/{id}/received|arrived|handled {note}: the caller's agency
 * stamps a step with the server's clock. Receipt comes first; arrival is
 * optional (an alert may be handled without going out). */
static int record_step(jf_req *req, const char *what, int done_col)
{
    static const char *const allowed[] = {"note", NULL};
    jf_errors e = {0};
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *h = NULL, *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *note = jf_body_str(req, &e, "note", false, 1, 500);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    if ((rc = load(req, conn, &h)) != 0)
        goto out;
    if (PQgetisnull(h, 0, 3)) {
        rc = jf_resp_forbidden(req, "only an agency the alert was sent to records its response");
        goto out;
    }
    if (strcmp(PQgetvalue(h, 0, done_col), "t") == 0) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Already recorded",
                             jf_arena_printf(&req->arena, "%s was recorded before", what), what,
                             "already recorded");
        goto out;
    }
    if (strcmp(what, "received") != 0 && strcmp(PQgetvalue(h, 0, 4), "t") != 0) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Not received yet",
                             "record that the alert was received first", "received",
                             "must be recorded first");
        goto out;
    }
    if (strcmp(what, "arrived") == 0 && strcmp(PQgetvalue(h, 0, 6), "t") == 0) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Already handled",
                             "the alert was handled before arrival was recorded", "handled",
                             "already recorded");
        goto out;
    }
    const char *p[] = {PQgetvalue(h, 0, 3), jf_req_param(req, 0), what,
                       jf_res_id(req, req->claims.user_id), note};
    rc = jf_db_exec(conn, &step, 5, p, &res);
    PQclear(res);
    if (rc == 0)
        rc = audit(req, conn, jf_arena_printf(&req->arena, "alert.%s", what), jf_req_param(req, 0),
                   unit_of(h), false);
    if (rc == 0)
        rc = jf_idem_commit_row(req, conn, &idem, 200, &doc, 1, p + 1);
out:
    PQclear(h);
    return rc;
}

static int received(jf_req *req)
{
    return record_step(req, "received", 4);
}

static int arrived(jf_req *req)
{
    return record_step(req, "arrived", 5);
}

static int handled(jf_req *req)
{
    return record_step(req, "handled", 6);
}

/* GET /alerts/{id} */
static int get(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *h = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if ((rc = load(req, conn, &h)) == 0)
        rc = audit(req, conn, "alert.read", jf_req_param(req, 0), unit_of(h), true);
    PQclear(h);
    if (rc != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0)};
    return jf_res_send_row(req, conn, &doc, 1, p, 200);
}

/* GET /alerts?org_unit_id&grade&drill&patient_id&state&mine&limit&cursor */
static int list_get(jf_req *req)
{
    static const char *const states[] = {"open", "handled", NULL};
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id"), pid = jf_query_id(req, &e, "patient_id");
    long long after = 0;
    const char *grade = jf_req_query(req, "grade"), *state = jf_req_query(req, "state");
    const char *drill = jf_req_query(req, "drill"), *path = NULL;
    bool mine = jf_query_bool(req, &e, "mine");
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (grade != NULL && !jf_in_set(grade, grades))
        jf_errors_add(&e, "grade", "must be watch, warning or urgent");
    if (state != NULL && !jf_in_set(state, states))
        jf_errors_add(&e, "state", "must be open or handled");
    if (drill != NULL && jf_query_bool(req, &e, "drill"))
        drill = "true";
    else if (drill != NULL)
        drill = "false";
    if (mine && req->claims.agency_id <= 0)
        jf_errors_add(&e, "mine", "the caller belongs to no agency");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {path,
                       jf_res_path_upper(req, path),
                       jf_res_id(req, after),
                       grade,
                       drill,
                       pid > 0 ? jf_res_id(req, pid) : NULL,
                       state,
                       mine ? jf_res_id(req, req->claims.agency_id) : NULL,
                       jf_res_id(req, limit + 1)};
    rc = jf_db_exec(conn, &list, 9, p, &res);
    if (rc == 0)
        rc = audit(req, conn, "alert.list", NULL, unit > 0 ? unit : req->claims.org_unit_id, true);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* POST /alerts/{id}/link {patient_id}: the unknown person turned out to be
 * a patient (or was reported as a suspected person). */
static int link_patient(jf_req *req)
{
    static const char *const allowed[] = {"patient_id", NULL};
    jf_errors e = {0};
    long long pid = 0;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *h = NULL, *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "patient_id", true, 1, INT64_MAX, &pid);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    if ((rc = load(req, conn, &h)) != 0)
        goto out;
    if (!PQgetisnull(h, 0, 2)) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Already a patient's",
                             "the alert is already on a patient", "patient_id",
                             "the alert already names a patient");
        goto out;
    }
    if ((rc = patient_in_area(req, conn, &e, pid, NULL)) != 0)
        goto out;
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *p[] = {jf_req_param(req, 0), jf_res_id(req, pid),
                       jf_res_id(req, req->claims.user_id)};
    rc = jf_db_exec(conn, &link, 3, p, &res);
    PQclear(res);
    if (rc == 0)
        rc = audit(req, conn, "alert.link", jf_req_param(req, 0), unit_of(h), false);
    if (rc == 0)
        rc = jf_idem_commit_row(req, conn, &idem, 200, &doc, 1, p);
out:
    PQclear(h);
    return rc;
}

/* "YYYY-MM-DDTHH:MM" (China time), not after today: as a timestamptz text
 * in the arena, or NULL (absent: the alert's time; bad: an error). */
static const char *read_local_time(jf_req *req, jf_errors *e, const char *field)
{
    const char *s = jf_body_str(req, e, field, false, 16, 16);
    char day[11];
    jf_date d;

    if (s == NULL)
        return NULL;
    memcpy(day, s, 10);
    day[10] = '\0';
    if (jf_date_parse(day, &d) != 0 || s[10] != 'T' || s[13] != ':' ||
        strspn(s + 11, "0123456789") != 2 || strspn(s + 14, "0123456789") != 2 ||
        (s[11] - '0') * 10 + (s[12] - '0') > 23 || (s[14] - '0') * 10 + (s[15] - '0') > 59) {
        jf_errors_add(e, field, "must be a local time YYYY-MM-DDTHH:MM");
        return NULL;
    }
    if (d > jf_date_today()) {
        jf_errors_add(e, field, "must not be in the future");
        return NULL;
    }
    return jf_arena_printf(&req->arena, "%s %s:00+08", day, s + 11);
}

/* POST /alerts/{id}/emergency-records: the 应急处置记录单 of the handling. */
static int create_emergency(jf_req *req)
{
    static const char *const allowed[] = {"situation",
                                          "occurred_at",
                                          "place",
                                          "responders",
                                          "responder_names",
                                          "sent_to_hospital",
                                          "hospital",
                                          "admission_id",
                                          "restraint",
                                          "restraint_minutes",
                                          "outcome",
                                          "note",
                                          NULL};
    jf_errors e = {0};
    bool hospital_sent = false, restraint = false;
    long long admission = 0, minutes = 0;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *h = NULL, *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *situation = jf_body_code(req, &e, "situation", true, situations);
    const char *at = read_local_time(req, &e, "occurred_at");
    const char *place = jf_body_str(req, &e, "place", true, 1, 200);
    json_t *who = json_object_get(req->body, "responders");
    const char *responders = jf_body_codes(req, &e, "responders", responder_codes, 8);
    if (json_is_array(who) ? json_array_size(who) == 0 : who == NULL || json_is_null(who))
        jf_errors_add(&e, "responders", "is required: 1 to 8 codes (who came)");
    const char *names = jf_body_str(req, &e, "responder_names", false, 1, 200);
    jf_body_bool(req, &e, "sent_to_hospital", true, &hospital_sent);
    const char *hospital = jf_body_str(req, &e, "hospital", false, 1, 64);
    jf_body_int(req, &e, "admission_id", false, 1, INT64_MAX, &admission);
    jf_body_bool(req, &e, "restraint", true, &restraint);
    jf_body_int(req, &e, "restraint_minutes", false, 1, 10080, &minutes);
    const char *outcome = jf_body_code(req, &e, "outcome", true, outcomes);
    const char *note = jf_body_str(req, &e, "note", false, 1, 1000);
    if (!hospital_sent && (hospital != NULL || admission > 0))
        jf_errors_add(&e, hospital ? "hospital" : "admission_id",
                      "only applies when sent_to_hospital is true");
    if (hospital_sent && hospital == NULL && admission == 0)
        jf_errors_add(&e, "hospital", "is required when sent_to_hospital is true");
    if (!restraint && minutes > 0)
        jf_errors_add(&e, "restraint_minutes", "only applies when restraint is true");
    if (restraint && minutes == 0)
        jf_errors_add(&e, "restraint_minutes", "is required when restraint is true");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    if ((rc = load(req, conn, &h)) != 0)
        goto out;
    if (admission > 0) {
        const char *p[] = {jf_res_id(req, admission), PQgetvalue(h, 0, 2)};
        if (PQgetisnull(h, 0, 2))
            p[1] = "0";
        if ((rc = jf_db_exec(conn, &admission_of, 2, p, &res)) != 0)
            goto out;
        if (PQntuples(res) == 0) {
            jf_errors_add(&e, "admission_id", "is not an admission of the alert's patient");
            rc = jf_errors_respond(req, &e);
            goto out;
        }
        PQclear(res);
        res = NULL;
    }
    const char *p[] = {jf_req_param(req, 0),
                       situation,
                       at,
                       place,
                       responders,
                       names,
                       jf_res_tf(hospital_sent),
                       hospital,
                       admission > 0 ? jf_res_id(req, admission) : NULL,
                       jf_res_tf(restraint),
                       minutes > 0 ? jf_res_id(req, minutes) : NULL,
                       outcome,
                       note,
                       jf_res_id(req, req->claims.user_id),
                       req->claims.agency_id > 0 ? jf_res_id(req, req->claims.agency_id) : NULL};
    rc = jf_db_exec(conn, &emergency_insert, 15, p, &res);
    if (rc == 0)
        rc = audit(req, conn, "alert.emergency_record", jf_req_param(req, 0), unit_of(h), false);
    if (rc == 0)
        rc = jf_idem_commit(req, conn, &idem, 201, PQgetvalue(res, 0, 1),
                            strlen(PQgetvalue(res, 0, 1)));
out:
    PQclear(h);
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/alerts", list_get, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/alerts", create, JF_ROUTE_AUTH, JF_CAP_HOME_CHECK},
    {"GET", "/api/v1/alerts/{id}", get, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/alerts/{id}/received", received, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/alerts/{id}/arrived", arrived, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/alerts/{id}/handled", handled, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/alerts/{id}/link", link_patient, JF_ROUTE_AUTH, JF_CAP_HOME_CHECK},
    {"POST", "/api/v1/alerts/{id}/emergency-records", create_emergency, JF_ROUTE_AUTH,
     JF_CAP_INCIDENT_WRITE},
};

int jf_res_alerts_init(void)
{
    jf_stmt *const s[] = {&patient_place, &raise,           &head, &doc, &step, &link, &list,
                          &admission_of,  &emergency_insert};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
