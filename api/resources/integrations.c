/* Incoming calls of external systems with a client-credentials token: a
 * hospital's (diagnosis confirmed, admission, discharge) and a police
 * station's (incident, key-person list status). The account's agency kind
 * decides which system it is (service_system() in SQL); the patient is
 * found by ID number through the blind index, within the account's region.
 * Every write has the effects of the matching patient route, is idempotent
 * with Idempotency-Key, and is audited with the service user as actor.
 * Police key-person reports and hospital admissions also come in NDJSON
 * batches: each line runs through the single call's handler, as its own
 * transaction with its own key, and gets its own answer. */
#include "integrations.h"
#include "common.h"
#include "episodes.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../domain/mask.h"
#include "../domain/pii.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"
#include "../record/recompute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYS_HOSPITAL "hospital"
#define SYS_POLICE "police"

static jf_stmt caller = {
    "integration_caller",
    "SELECT u.active, service_system(a.kind), c.active FROM users u"
    " LEFT JOIN agencies a ON a.id = u.agency_id"
    " LEFT JOIN service_clients c ON c.user_id = u.id WHERE u.id = $1",
    0,
};
static jf_stmt patient_by_index = {
    "integration_patient",
    "SELECT id, status, version, org_unit_id, org_path FROM patients WHERE id_index = $1::bytea",
    0,
};
static jf_stmt diagnose = {
    "integration_diagnose",
    "UPDATE patients SET status = 'registered', diagnosis = $2, diagnosing_hospital = $3,"
    " diagnosis_date = $4::date, onset_date = coalesce($5::date, onset_date),"
    " registered_on = $6::date, version = version + 1, updated_at = now()"
    " WHERE id = $1 AND status = 'suspected'"
    " RETURNING json_build_object('patient_id', id, 'status', status, 'diagnosis', diagnosis,"
    " 'diagnosing_hospital', diagnosing_hospital, 'diagnosis_date', diagnosis_date,"
    " 'onset_date', onset_date, 'registered_on', registered_on)::text",
    0,
};
static jf_stmt key_person_lock = {
    "integration_key_person_lock",
    "SELECT police_key_person_on FROM patients WHERE id = $1 FOR UPDATE", 0};
static jf_stmt key_person_set = {
    "integration_key_person_set",
    "UPDATE patients SET police_key_person = $2::bool, police_key_person_on = $3::date,"
    " version = version + 1, updated_at = now() WHERE id = $1"
    " RETURNING json_build_object('patient_id', id, 'police_key_person', police_key_person,"
    " 'police_key_person_on', police_key_person_on)::text",
    0,
};

/* Only the service account of a system of kind `system` may call on: 0 with
 * *conn the request's connection and the JSON body read; otherwise
 * negative, with 403 for people and for the other kind of system, 401 for
 * a disabled client. */
static int open_call(jf_req *req, const char *system, jf_db_conn **conn)
{
    PGresult *res = NULL;
    const char *have;
    int rc;

    *conn = NULL;
    if (jf_role_parse(req->claims.role) != JF_ROLE_SERVICE) {
        jf_resp_forbidden(req, "only the service accounts of external systems call integrations");
        return JF_ERR_AUTH;
    }
    if ((rc = jf_req_db(req, conn)) != 0)
        return rc;
    const char *p[] = {jf_res_id(req, req->claims.user_id)};
    if ((rc = jf_db_exec(*conn, &caller, 1, p, &res)) != 0)
        goto out;
    rc = JF_ERR_AUTH;
    have = PQntuples(res) == 1 && !PQgetisnull(res, 0, 1) ? PQgetvalue(res, 0, 1) : NULL;
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        jf_resp_problem(req, 401, "unauthorized", "Unauthorized", "account disabled", NULL, NULL);
    else if (PQgetisnull(res, 0, 2))
        jf_resp_forbidden(req, "integrations take a client-credentials token "
                               "(POST /api/v1/auth/token)");
    else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
        jf_resp_problem(req, 401, "unauthorized", "Unauthorized", "the client is not active", NULL,
                        NULL);
    else if (have == NULL || strcmp(have, system) != 0)
        jf_resp_forbidden(
            req, have ? jf_arena_printf(&req->arena, "this endpoint is for %s systems, not %s",
                                        system, have)
                      : jf_arena_printf(&req->arena,
                                        "this endpoint is for %s systems; your agency has none",
                                        system));
    else if (req->body == NULL) /* a batch line comes with its body */
        rc = jf_req_read_json(req);
    else
        rc = 0;
out:
    PQclear(res);
    return rc;
}

/* Read the required id_number field into *id; false when absent or bad
 * (an error was added). */
static bool read_id(jf_req *req, jf_errors *e, jf_idcard *id)
{
    return jf_record_read_id_number(req, e, true, NULL, id) == 1;
}

/* Find the patient with ID number id in the caller's region (404 naming
 * id_number otherwise, and the probe audited), then open the transaction
 * and reserve the Idempotency-Key. 0: go on with the write. Otherwise
 * nonzero, a replay of the first answer among them. */
static int begin_write(jf_req *req, jf_db_conn *conn, const jf_idcard *id, const char *endpoint,
                       jf_patient_row *row, jf_idem *idem)
{
    char index[2 + 2 * 32 + 1], masked[24];
    PGresult *res = NULL;
    int rc;

    jf_pii_index(&req->app->cfg, id->number, index);
    const char *p[] = {index};
    if ((rc = jf_db_exec(conn, &patient_by_index, 1, p, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0 || !jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 4))) {
        jf_audit_entry a = {.action = "integration.patient_not_found",
                            .target_type = "patient",
                            .detail_json = NULL};
        jf_mask_idcard(id->number, masked, sizeof(masked));
        a.detail_json = jf_arena_printf(
            &req->arena, "{\"endpoint\":\"%s\",\"id_number_masked\":\"%s\"}", endpoint, masked);
        if ((rc = jf_audit_record(conn, req, &a)) != 0)
            goto out;
        jf_resp_problem(req, 404, "not-found", "Not found",
                        "no patient with this ID number in your area", "id_number",
                        "no such patient in your area");
        rc = JF_ERR_NOT_FOUND;
        goto out;
    }
    row->id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    row->status = jf_pstatus_parse(PQgetvalue(res, 0, 1));
    row->version = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    row->org_unit_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    row->org_path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 4));
    row->has_id_number = true;
    rc = jf_idem_begin(req, conn, idem);
out:
    PQclear(res);
    return rc;
}

/* Every handler ends here. A replay is a success. */
static int close_call(jf_buf *out, int rc)
{
    jf_buf_free(out);
    return rc < 0 ? rc : 0;
}

/* Confirm a suspected person's diagnosis, as POST /patients/{id}/diagnosis
 * does; the patient is registered. 0 with the receipt in out, or 409. */
static int confirm(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                   const char *const *fields, jf_buf *out)
{
    PGresult *res = NULL;
    char today[11];
    int rc;

    if (row->status == JF_PS_RULED_OUT) {
        jf_resp_problem(req, 409, "transition-refused", "Not a suspected person",
                        "the person was ruled out; nothing was recorded: report them again first",
                        "id_number", "was ruled out");
        return JF_ERR_CONFLICT;
    }
    if (row->status != JF_PS_SUSPECTED) {
        jf_resp_problem(req, 409, "already-registered", "Already registered",
                        "the patient is already on the register; nothing was recorded", "id_number",
                        "is already registered");
        return JF_ERR_CONFLICT;
    }
    jf_date_format(jf_date_today(), today);
    const char *p[] = {row->id, fields[0], fields[1], fields[2], fields[3], today};
    rc = jf_db_exec(conn, &diagnose, 6, p, &res);
    if (rc == 0 && PQntuples(res) == 0) {
        jf_resp_problem(req, 409, "conflict", "Changed meanwhile",
                        "the record changed while this was sent; retry", NULL, NULL);
        rc = JF_ERR_CONFLICT;
        goto out;
    }
    if (rc == 0)
        rc = jf_buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (rc == 0) {
        jf_buf d;
        jf_buf_init(&d, 256);
        rc = jf_buf_puts(&d, "{\"diagnosis\":");
        if (rc == 0)
            rc = jf_buf_json_str(&d, fields[0]);
        if (rc == 0)
            rc = jf_buf_puts(&d, ",\"source\":\"hospital_system\"}");
        if (rc == 0)
            rc = jf_record_event(JF_ACTOR(req), conn,
                                 &(jf_patient_event){.patient_id = row->id,
                                                     .kind = "diagnosed",
                                                     .date = fields[2],
                                                     .from_status = "suspected",
                                                     .to_status = "registered",
                                                     .detail_json = d.data});
        jf_buf_free(&d);
    }
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row->id);
    if (rc == 0)
        rc = jf_record_audit(req, conn, row, "patient.diagnose", "{\"via\":\"integration\"}");
out:
    PQclear(res);
    return rc;
}

/* POST /integrations/hospital/diagnoses {id_number, diagnosis,
 * diagnosing_hospital, diagnosis_date, onset_date?} */
static int hospital_diagnosis(jf_req *req)
{
    static const char *const allowed[] = {"id_number",      "diagnosis",  "diagnosing_hospital",
                                          "diagnosis_date", "onset_date", NULL};
    const jf_pfield *dx = &jf_pfields[jf_pf_index("diagnosis")];
    jf_errors e = {0};
    jf_idcard id;
    jf_idem idem;
    jf_patient_row row;
    jf_db_conn *conn = NULL;
    jf_date dd, od;
    jf_buf out;
    int rc;

    jf_buf_init(&out, 1u << 16);
    if ((rc = open_call(req, SYS_HOSPITAL, &conn)) != 0)
        goto out;
    jf_body_only(req, &e, allowed);
    read_id(req, &e, &id);
    const char *f[] = {jf_body_code(req, &e, "diagnosis", true, dx->codes),
                       jf_body_str(req, &e, "diagnosing_hospital", true, 1, 64),
                       jf_body_date(req, &e, "diagnosis_date", true),
                       jf_body_date(req, &e, "onset_date", false)};
    if (f[2] && f[3] && jf_date_parse(f[2], &dd) == 0 && jf_date_parse(f[3], &od) == 0 && od > dd)
        jf_errors_add(&e, "onset_date", "must not be after diagnosis_date");
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = begin_write(req, conn, &id, "hospital/diagnoses", &row, &idem)) != 0)
        goto out;
    if ((rc = confirm(req, conn, &row, f, &out)) != 0)
        goto out;
    rc = jf_idem_commit(req, conn, &idem, 200, out.data, out.len);
out:
    return close_call(&out, rc);
}

/* POST /integrations/hospital/admissions {id_number, admitted_on, hospital,
 * involuntary, reason?} */
static int hospital_admission(jf_req *req)
{
    static const char *const allowed[] = {"id_number", "admitted_on", "hospital",     "involuntary",
                                          "reason",    "escorted_by", "escort_names", NULL};
    jf_errors e = {0};
    jf_admission a = {0};
    jf_idcard id;
    jf_idem idem;
    jf_patient_row row;
    jf_db_conn *conn = NULL;
    jf_buf out;
    int rc;

    jf_buf_init(&out, 1u << 16);
    if ((rc = open_call(req, SYS_HOSPITAL, &conn)) != 0)
        goto out;
    jf_body_only(req, &e, allowed);
    read_id(req, &e, &id);
    jf_episode_read_admission(req, &e, &a);
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = begin_write(req, conn, &id, "hospital/admissions", &row, &idem)) != 0)
        goto out;
    if ((rc = jf_episode_admit(req, conn, &row, &a, &out)) != 0)
        goto out;
    rc = jf_idem_commit(req, conn, &idem, 201, out.data, out.len);
out:
    return close_call(&out, rc);
}

/* POST /integrations/hospital/discharges {id_number, discharged_on,
 * discharge_note?, and the discharge summary (出院信息单): diagnosis?,
 * medications?, risk_level?, advice?, community_doctor_id?}: ends the
 * patient's open admission. */
static int hospital_discharge(jf_req *req)
{
    static const char *const allowed[] = {"id_number", "discharged_on",       "discharge_note",
                                          "diagnosis", "medications",         "risk_level",
                                          "advice",    "community_doctor_id", NULL};
    jf_errors e = {0};
    jf_discharge d = {0};
    jf_idcard id;
    jf_idem idem;
    jf_patient_row row;
    jf_db_conn *conn = NULL;
    jf_buf out;
    int rc;

    jf_buf_init(&out, 1u << 16);
    if ((rc = open_call(req, SYS_HOSPITAL, &conn)) != 0)
        goto out;
    jf_body_only(req, &e, allowed);
    read_id(req, &e, &id);
    jf_episode_read_discharge(req, &e, &d);
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = begin_write(req, conn, &id, "hospital/discharges", &row, &idem)) != 0)
        goto out;
    if ((rc = jf_episode_discharge(req, conn, &row, NULL, &d, &out)) != 0)
        goto out;
    rc = jf_idem_commit(req, conn, &idem, 200, out.data, out.len);
out:
    return close_call(&out, rc);
}

/* POST /integrations/police/incidents {id_number, occurred_on, place, kind,
 * injured, dead, police_case_no, description?} */
static int police_incident(jf_req *req)
{
    static const char *const allowed[] = {"id_number",      "occurred_on", "place",
                                          "kind",           "injured",     "dead",
                                          "police_case_no", "description", NULL};
    jf_errors e = {0};
    jf_incident in = {0};
    jf_idcard id;
    jf_idem idem;
    jf_patient_row row;
    jf_db_conn *conn = NULL;
    jf_buf out;
    int rc;

    jf_buf_init(&out, 1u << 16);
    if ((rc = open_call(req, SYS_POLICE, &conn)) != 0)
        goto out;
    jf_body_only(req, &e, allowed);
    read_id(req, &e, &id);
    /* A police system always has its case number. */
    jf_episode_read_incident(req, &e, &in, true);
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = begin_write(req, conn, &id, "police/incidents", &row, &idem)) != 0)
        goto out;
    if ((rc = jf_episode_incident(req, conn, &row, &in, &out)) != 0)
        goto out;
    rc = jf_idem_commit(req, conn, &idem, 201, out.data, out.len);
out:
    return close_call(&out, rc);
}

/* Record the police key-person list status on the patient, with a dated
 * event. A report older than the one on record is refused. 0 with the
 * receipt in out, or 400. */
static int key_person(jf_req *req, jf_db_conn *conn, const jf_patient_row *row, bool listed,
                      const char *on, const char *note, jf_buf *out)
{
    jf_errors e = {0};
    PGresult *res = NULL;
    jf_buf d;
    int rc;

    jf_buf_init(&d, 2048);
    const char *lp[] = {row->id};
    rc = jf_db_exec(conn, &key_person_lock, 1, lp, &res);
    if (rc != 0)
        goto out;
    if (!PQgetisnull(res, 0, 0) && strcmp(PQgetvalue(res, 0, 0), on) > 0) {
        jf_errors_add(&e, "list_date", "must not be before the last reported list date (%s)",
                      PQgetvalue(res, 0, 0));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    PQclear(res);
    const char *p[] = {row->id, jf_res_tf(listed), on};
    rc = jf_db_exec(conn, &key_person_set, 3, p, &res);
    if (rc == 0)
        rc = jf_buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (rc == 0)
        rc = jf_buf_printf(&d,
                           "{\"fields\":[\"police_key_person\",\"police_key_person_on\"],"
                           "\"police_key_person\":%s,\"note\":",
                           jf_res_tf(listed));
    if (rc == 0)
        rc = jf_buf_json_str(&d, note);
    if (rc == 0)
        rc = jf_buf_puts(&d, "}");
    if (rc == 0)
        rc = jf_record_event(
            JF_ACTOR(req), conn,
            &(jf_patient_event){.patient_id = row->id,
                                .kind = "updated",
                                .date = on,
                                .reason = listed ? "listed as a key person by the police "
                                                   "(公安重点人员)"
                                                 : "taken off the police key-person list",
                                .detail_json = d.data});
    if (rc == 0)
        rc = jf_record_audit(req, conn, row, "patient.police_key_person",
                             jf_arena_printf(&req->arena, "{\"listed\":%s,\"list_date\":\"%s\"}",
                                             jf_res_tf(listed), on));
out:
    jf_buf_free(&d);
    PQclear(res);
    return rc;
}

/* POST /integrations/police/key-persons {id_number, listed, list_date, note?} */
static int police_key_person(jf_req *req)
{
    static const char *const allowed[] = {"id_number", "listed", "list_date", "note", NULL};
    jf_errors e = {0};
    jf_idcard id;
    jf_idem idem;
    jf_patient_row row;
    jf_db_conn *conn = NULL;
    bool listed = false;
    jf_buf out;
    int rc;

    jf_buf_init(&out, 1u << 16);
    if ((rc = open_call(req, SYS_POLICE, &conn)) != 0)
        goto out;
    jf_body_only(req, &e, allowed);
    read_id(req, &e, &id);
    jf_body_bool(req, &e, "listed", true, &listed);
    const char *on = jf_body_date(req, &e, "list_date", true);
    const char *note = jf_body_str(req, &e, "note", false, 1, 500);
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = begin_write(req, conn, &id, "police/key-persons", &row, &idem)) != 0)
        goto out;
    if ((rc = key_person(req, conn, &row, listed, on, note, &out)) != 0)
        goto out;
    rc = jf_idem_commit(req, conn, &idem, 200, out.data, out.len);
out:
    return close_call(&out, rc);
}

/* A line's key: what Idempotency-Key is to a single call. */
#define LINE_KEY_MAX 128

/* The next line of [*p, end) into *line, *len (without its newline), *p
 * moved past it; false at the end. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
    const char *nl;

    if (*p >= end)
        return false;
    nl = memchr(*p, '\n', (size_t)(end - *p));
    *line = *p;
    *len = (size_t)((nl ? nl : end) - *p);
    *p = nl ? nl + 1 : end;
    return true;
}

static bool blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

/* Answer line n of a batch with a problem of its own (field at fault). */
static int line_problem(jf_buf *out, long n, const char *field, const char *message)
{
    return jf_buf_printf(out,
                         "{\"line\":%ld,\"status\":400,\"problem\":{\"type\":"
                         "\"https://jingfang.example/problems/validation\",\"title\":"
                         "\"Validation failed\",\"status\":400,\"errors\":[{\"field\":\"%s\","
                         "\"message\":\"%s\"}]}}",
                         n, field, message);
}

/* Run line n (text, len bytes) through handler as the single call at path
 * runs, with the line less its key as the body and the key as its
 * Idempotency-Key; append {"line", "status", "result" | "problem"} to
 * out, counted in *ok (2xx) or *failed. */
static int run_line(jf_req *req, int (*handler)(jf_req *), const char *path, long n,
                    const char *text, size_t len, jf_buf *out, long *ok, long *failed)
{
    json_t *body = jf_req_parse_object(text, len), *saved = req->body;
    const char *key = json_string_value(json_object_get(body, "key"));
    jf_buf answer;
    int rc, status;

    if (body == NULL || key == NULL || *key == '\0' || strlen(key) > LINE_KEY_MAX) {
        (*failed)++;
        rc = body == NULL ? line_problem(out, n, "body", "is not one JSON object on one line")
                          : line_problem(out, n, "key", "must be a string of 1 to 128 characters");
        json_decref(body);
        return rc;
    }
    req->idem_key = jf_arena_strdup(&req->arena, key);
    json_object_del(body, "key");
    jf_buf_init(&answer, 1u << 16);
    req->body = body;
    req->path = path;
    req->capture = &answer;
    req->status = 0;
    jf_req_db_settle(req, handler(req));
    /* Each line gives its connection back, as a single call does (one the
     * server lost is opened anew for the next). */
    jf_req_db_release(req);
    /* A line's headers (Location, Idempotent-Replayed) are not the batch's. */
    jf_buf_reset(&req->resp_headers);
    status = req->status;
    rc = jf_buf_printf(out, "{\"line\":%ld,\"status\":%d,\"%s\":%s}", n, status,
                       status < 300 ? "result" : "problem", answer.len ? answer.data : "null");
    if (status < 300)
        (*ok)++;
    else
        (*failed)++;
    req->body = saved;
    req->idem_key = NULL;
    req->capture = NULL;
    req->status = 0;
    jf_buf_free(&answer);
    json_decref(body);
    return rc;
}

/* POST …/batch with an application/x-ndjson body: one JSON object a line
 * (blank lines skipped, numbered all the same), each with its key; at most
 * JF_BATCH_MAX_LINES lines and JF_BATCH_MAX_BYTES bytes (413 past either).
 * Only the service account of `system`, as the single call. 200 with
 * {"items": [{"line", "status", "result" | "problem"}] in line order,
 * "lines", "succeeded", "failed"}: the lines are independent. */
static int batch(jf_req *req, const char *system, int (*handler)(jf_req *), const char *path)
{
    const char *route_path = req->path, *p, *end, *line;
    jf_db_conn *conn = NULL;
    long lines = 0, ok = 0, failed = 0, n = 0;
    jf_buf body, out;
    size_t len;
    int rc;

    jf_buf_init(&out, 64u << 20);
    rc = jf_req_read_raw(req, "application/x-ndjson", req->app->cfg.batch_max_bytes, &body);
    if (rc != 0)
        goto out;
    end = body.data ? body.data + body.len : NULL;
    for (p = body.data; next_line(&p, end, &line, &len);)
        lines += !blank(line, len);
    if (lines == 0) {
        rc = jf_resp_problem(req, 400, "validation", "Validation failed", "the batch is empty",
                             "body", "has no lines");
        goto out;
    }
    if (lines > req->app->cfg.batch_max_lines) {
        rc = jf_resp_problem(req, 413, "payload-too-large", "Payload too large",
                             jf_arena_printf(&req->arena, "a batch has at most %ld lines",
                                             req->app->cfg.batch_max_lines),
                             "body", "has too many lines");
        goto out;
    }
    /* The caller is checked once for the whole batch (a person, or the
     * other kind of system, is refused); the empty object stands for a
     * body already read. */
    req->body = json_object();
    if (req->body == NULL || (rc = open_call(req, system, &conn)) != 0)
        goto out;
    jf_req_db_release(req); /* each line takes its own */
    rc = jf_buf_puts(&out, "{\"items\":[");
    for (p = body.data; rc == 0 && next_line(&p, end, &line, &len);) {
        n++;
        if (blank(line, len))
            continue;
        rc = ok + failed > 0 ? jf_buf_puts(&out, ",") : 0;
        rc = rc ? rc : run_line(req, handler, path, n, line, len, &out, &ok, &failed);
    }
    req->path = route_path;
    rc = rc ? rc
            : jf_buf_printf(&out, "],\"lines\":%ld,\"succeeded\":%ld,\"failed\":%ld}", lines, ok,
                            failed);
    rc = rc ? jf_resp_internal(req) : jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&body);
    return close_call(&out, rc);
}

/* POST /integrations/police/key-persons/batch: lines as the single call's body. */
static int police_key_person_batch(jf_req *req)
{
    return batch(req, SYS_POLICE, police_key_person, "/api/v1/integrations/police/key-persons");
}

/* POST /integrations/hospital/admissions/batch: lines as the single call's body. */
static int hospital_admission_batch(jf_req *req)
{
    return batch(req, SYS_HOSPITAL, hospital_admission, "/api/v1/integrations/hospital/admissions");
}

/* No capability on the routes: open_call admits service accounts only,
 * and of the right kind of system. */
static const jf_route routes[] = {
    {"POST", "/api/v1/integrations/hospital/diagnoses", hospital_diagnosis, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/integrations/hospital/admissions", hospital_admission, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/integrations/hospital/discharges", hospital_discharge, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/integrations/police/incidents", police_incident, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/integrations/police/key-persons", police_key_person, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/integrations/hospital/admissions/batch", hospital_admission_batch,
     JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/integrations/police/key-persons/batch", police_key_person_batch,
     JF_ROUTE_AUTH, 0},
};

int jf_res_integrations_init(void)
{
    jf_stmt *const s[] = {&caller, &patient_by_index, &diagnose, &key_person_lock, &key_person_set};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}

int jf_integration_open(jf_req *req, const char *system, jf_db_conn **conn)
{
    return open_call(req, system, conn);
}
