/* The patient's life cycle: suspected persons reported by grid workers,
 * diagnosed or ruled out by doctors; dated status changes (death with its
 * cause, deregistration with its reason); the timeline; the audit trail. */
#include "common.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/mask.h"
#include "../domain/pii.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/notify.h"
#include "../record/patient.h"
#include "../record/recompute.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static jf_stmt suspected_insert = {
    "suspected_insert",
    "INSERT INTO patients (status, org_unit_id, name, gender, birth_date, phone, phone_masked,"
    " address, report_note, reported_by, id_cipher, id_index, id_masked)"
    " VALUES ('suspected', $1, $2, $3, $4::date, $5, $6, $7, $8, $9, $10::bytea, $11::bytea, $12)"
    " RETURNING id",
    0,
};
/* The alert on an unknown person ($1) seen in the caller's area [$4, $5)
 * becomes the reported person's ($2). */
static jf_stmt alert_link = {
    "suspected_alert_link",
    "UPDATE alerts SET patient_id = $2::bigint, linked_at = now(), linked_by = $3::bigint"
    " WHERE id = $1::bigint AND patient_id IS NULL AND org_path >= $4 AND org_path < $5"
    " RETURNING id",
    0,
};
static jf_stmt diagnose = {
    "patient_diagnose",
    "UPDATE patients SET status = 'registered', diagnosis = $2, diagnosing_hospital = $3,"
    " diagnosis_date = $4::date, onset_date = coalesce($5::date, onset_date),"
    " id_cipher = coalesce($6::bytea, id_cipher), id_index = coalesce($7::bytea, id_index),"
    " id_masked = coalesce($8, id_masked), gender = coalesce($9, gender),"
    " birth_date = coalesce($10::date, birth_date), registered_on = $11::date,"
    " version = version + 1, updated_at = now()"
    " WHERE id = $1 AND status = 'suspected' RETURNING id",
    0,
};
static jf_stmt events_list = {
    "patient_events_list",
    "SELECT coalesce(json_agg(json_build_object('id', e.id, 'kind', e.kind,"
    " 'event_date', e.event_date, 'from_status', e.from_status, 'to_status', e.to_status,"
    " 'reason', e.reason, 'death_cause', e.death_cause,"
    " 'detail', CASE WHEN $2 THEN e.detail END, 'user_id', e.user_id,"
    " 'user_name', u.display_name, 'created_at', e.created_at) ORDER BY e.id), '[]')"
    " FROM patient_events e LEFT JOIN users u ON u.id = e.user_id WHERE e.patient_id = $1",
    0,
};
static jf_stmt audit_list = {
    "patient_audit_list",
    "WITH page AS (SELECT * FROM audit_log WHERE target_type = 'patient' AND (target_id = $1"
    "  OR (action = 'patient.list' AND detail->'ids' @> to_jsonb($1::bigint)))"
    "  AND ($2::bigint = 0 OR (at, id) < (SELECT at, id FROM audit_log WHERE id = $2))"
    "  ORDER BY at DESC, id DESC LIMIT $3::int + 1),"
    " shown AS (SELECT * FROM page ORDER BY at DESC, id DESC LIMIT $3::int)"
    " SELECT coalesce((SELECT json_agg(json_build_object('id', id, 'at', at, 'user_id', user_id,"
    "  'username', username, 'role', role, 'action', action, 'client_addr', client_addr,"
    "  'request_id', request_id) ORDER BY at DESC, id DESC) FROM shown), '[]'),"
    " (SELECT count(*) FROM page) > $3::int, (SELECT id FROM shown ORDER BY at, id LIMIT 1)",
    0,
};

static const char *const death_causes[] = {"illness", "suicide", "accident", "homicide",
                                           "other",   "unknown", NULL};
static const char *const diagnoses[] = {"schizophrenia",      "schizoaffective",
                                        "paranoid_psychosis", "bipolar",
                                        "epilepsy_psychosis", "intellectual_disability_psychosis",
                                        "other_harm",         NULL};

/* Commit, then answer with the patient's current document. */
static int commit_and_send(jf_req *req, jf_db_conn *conn, const char *id, int status,
                           const jf_idem *idem)
{
    char version[16];
    jf_buf out;
    const char *location = jf_arena_printf(&req->arena, "/api/v1/patients/%s", id);
    int rc;

    jf_buf_init(&out, 1u << 20);
    rc = jf_record_doc(req, conn, id, &out, version);
    if (rc == 0 && idem != NULL)
        rc = jf_idem_finish(req, conn, idem, status, location, out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0) {
        if (status == 201)
            jf_resp_header(req, "Location", location);
        jf_res_etag(req, version);
        rc = jf_resp_json_text(req, status, out.data, out.len);
    }
    jf_buf_free(&out);
    return rc;
}

/* POST /patients/{id}/status {status, date, reason, death_cause} */
static int change_status(jf_req *req)
{
    static const char *const allowed[] = {"status", "date", "reason", "death_cause", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    const char *status, *date, *reason, *cause, *why;
    jf_pstatus to;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    status = jf_body_str(req, &e, "status", true, 1, 32);
    date = jf_body_date(req, &e, "date", true);
    reason = jf_body_str(req, &e, "reason", false, 1, 500);
    cause = jf_body_str(req, &e, "death_cause", false, 1, 32);
    to = jf_pstatus_parse(status);
    if (status != NULL && to == JF_PS_NONE)
        jf_errors_add(&e, "status", "is not a status code");
    if (cause != NULL && !jf_in_set(cause, death_causes))
        jf_errors_add(&e, "death_cause", "is not one of the allowed codes");
    if (to == JF_PS_DECEASED && cause == NULL &&
        (!jf_body_has(req, "death_cause") || jf_body_null(req, "death_cause")))
        jf_errors_add(&e, "death_cause", "is required when the patient died");
    if (to != JF_PS_DECEASED && to != JF_PS_NONE && jf_body_has(req, "death_cause"))
        jf_errors_add(&e, "death_cause", "only applies when the patient died");
    if (to == JF_PS_DEREGISTERED && reason == NULL &&
        (!jf_body_has(req, "reason") || jf_body_null(req, "reason")))
        jf_errors_add(&e, "reason", "is required to deregister (销案)");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    /* The key before the record's state: the retry of a change that went
     * through must replay its answer, not meet the state it made. */
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    why = jf_pstatus_refusal(row.status, to);
    /* Hospital stays are admissions with dates and a hospital: the status
     * follows them, never the other way round. */
    if (why == NULL && to == JF_PS_HOSPITALISED)
        why = "record an admission (POST …/admissions) to put a patient in hospital";
    if (why == NULL && row.status == JF_PS_HOSPITALISED && to == JF_PS_IN_CARE)
        why = "record the discharge (POST …/admissions/{id}/discharge)";
    /* Found again only when seen in person or found by the police. */
    if (why == NULL && row.status == JF_PS_LOST && to == JF_PS_IN_CARE)
        why = "a lost patient is found again by a face-to-face follow-up (面访) or by the police "
              "confirming the whereabouts (POST …/whereabouts-confirmed)";
    if (why != NULL)
        return jf_resp_problem(req, 409, "transition-refused", "Status change refused", why,
                               "status", why);
    if (rc == 0)
        rc = jf_record_move(
            req, conn, &row, to,
            (jf_patient_event){.date = date, .reason = reason, .death_cause = cause});
    if (rc == 0 && row.status == JF_PS_MOVED_OUT) {
        /* Leaving moved_out otherwise than by a decision ends the transfer. */
        PGresult *c = NULL;
        const char *cp[] = {row.id, date, jf_res_id(req, req->claims.user_id), jf_pstatus_name(to)};
        rc = jf_db_exec_sql(conn,
                            "UPDATE transfers SET state = 'cancelled', decided_on = $2::date,"
                            " decided_by = $3, decision_note = 'status changed to ' || $4"
                            " WHERE patient_id = $1 AND state = 'pending'",
                            4, cp, &c);
        PQclear(c);
    }
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    if (rc == 0) {
        char detail[96];
        snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":\"%s\"}",
                 jf_pstatus_name(row.status), jf_pstatus_name(to));
        rc = jf_record_audit(req, conn, &row, "patient.status", detail);
    }
    if (rc == 0)
        rc = commit_and_send(req, conn, row.id, 200, &idem);
    return rc;
}

/* POST /suspected-reports: a grid worker (or doctor, or police) reports a
 * person who may be ill, with what is known. */
static int report_suspected(jf_req *req)
{
    static const char *const allowed[] = {"name",     "gender",  "birth_date",  "id_number",
                                          "phone",    "address", "org_unit_id", "report_note",
                                          "alert_id", NULL};
    jf_errors e = {0};
    const char *name, *gender, *birth, *phone, *address, *note, *path = NULL, *pid;
    char phone_masked[24], iso[11];
    long long unit = 0, alert = 0;
    int has_id;
    jf_idcard id;
    jf_pii_id pii;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    name = jf_body_str(req, &e, "name", true, 1, 32);
    gender = jf_body_str(req, &e, "gender", false, 1, 8);
    birth = jf_body_date(req, &e, "birth_date", false);
    phone = jf_body_str(req, &e, "phone", false, 5, 20);
    address = jf_body_str(req, &e, "address", true, 1, 128);
    note = jf_body_str(req, &e, "report_note", true, 1, 500);
    jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &unit);
    jf_body_int(req, &e, "alert_id", false, 1, INT64_MAX, &alert);
    if (gender != NULL && strcmp(gender, "male") != 0 && strcmp(gender, "female") != 0)
        jf_errors_add(&e, "gender", "must be male or female");
    if (phone != NULL && strspn(phone, "0123456789+-") != strlen(phone))
        jf_errors_add(&e, "phone", "must be 5-20 digits, '+' or '-'");
    has_id = jf_record_read_id_number(req, &e, false, NULL, &id);
    if (has_id == 1) {
        jf_idcard_birth_iso(&id, iso);
        if (gender != NULL && strcmp(gender, id.male ? "male" : "female") != 0)
            jf_errors_add(&e, "gender", "does not agree with the ID number");
        if (birth != NULL && strcmp(birth, iso) != 0)
            jf_errors_add(&e, "birth_date", "does not agree with the ID number");
        gender = id.male ? "male" : "female";
        birth = iso;
        if (jf_pii_protect(&req->app->cfg, id.number, &pii) != 0)
            return JF_ERR_CRYPTO;
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_mask_phone(phone, phone_masked, sizeof(phone_masked));

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_residence_unit(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    {
        const char *p[] = {jf_res_id(req, unit),
                           name,
                           gender,
                           birth,
                           phone,
                           phone ? phone_masked : NULL,
                           address,
                           note,
                           jf_res_id(req, req->claims.user_id),
                           has_id == 1 ? pii.cipher : NULL,
                           has_id == 1 ? pii.index : NULL,
                           has_id == 1 ? pii.masked : NULL};
        rc = jf_db_exec(conn, &suspected_insert, 12, p, &res);
    }
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        jf_db_rollback(conn);
        rc = jf_record_duplicate(req, conn, pii.index);
        goto out;
    }
    if (rc != 0)
        goto out;
    pid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    /* The note stays on the record (clinical view only), not in the
     * timeline, which every role with access may read. */
    rc = jf_record_event(
        JF_ACTOR(req), conn,
        &(jf_patient_event){.patient_id = pid, .kind = "reported", .to_status = "suspected"});
    /* The alert that brought the person to notice is now theirs. */
    if (rc == 0 && alert > 0) {
        const char *p[] = {jf_res_id(req, alert), pid, jf_res_id(req, req->claims.user_id),
                           req->claims.org_path, jf_res_path_upper(req, req->claims.org_path)};
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &alert_link, 5, p, &res);
        if (rc == 0 && PQntuples(res) == 0) {
            jf_errors_add(&e, "alert_id", "is not an alert on an unknown person in your area");
            rc = jf_errors_respond(req, &e);
            goto out;
        }
    }
    /* The clinic and the mental-health centre must arrange a diagnosis. */
    if (rc == 0)
        rc = jf_record_notify(JF_ACTOR(req), conn, "suspected_reported", pid, NULL, NULL);
    if (rc == 0) {
        jf_audit_entry a = {.action = "patient.report",
                            .target_type = "patient",
                            .target_id = pid,
                            .org_unit_id = unit};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0)
        rc = commit_and_send(req, conn, pid, 201, &idem);
out:
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/diagnosis: a doctor confirms a suspected person's
 * diagnosis (one of the six, or harm to others); the record is registered. */
static int confirm_diagnosis(jf_req *req)
{
    static const char *const allowed[] = {"diagnosis",  "diagnosing_hospital", "diagnosis_date",
                                          "onset_date", "id_number",           NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    const char *diagnosis, *hospital, *ddate, *onset;
    char iso[11], today[11];
    int has_id;
    jf_idcard id;
    jf_pii_id pii;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_date dd, od;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    diagnosis = jf_body_str(req, &e, "diagnosis", true, 1, 64);
    hospital = jf_body_str(req, &e, "diagnosing_hospital", true, 1, 64);
    ddate = jf_body_date(req, &e, "diagnosis_date", true);
    onset = jf_body_date(req, &e, "onset_date", false);
    if (diagnosis != NULL && !jf_in_set(diagnosis, diagnoses))
        jf_errors_add(&e, "diagnosis", "is not one of the diagnoses in scope");
    if (ddate && onset && jf_date_parse(ddate, &dd) == 0 && jf_date_parse(onset, &od) == 0 &&
        od > dd)
        jf_errors_add(&e, "onset_date", "must not be after diagnosis_date");
    has_id = jf_record_read_id_number(req, &e, false, NULL, &id);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (has_id == 1) {
        jf_idcard_birth_iso(&id, iso);
        if (jf_pii_protect(&req->app->cfg, id.number, &pii) != 0)
            return JF_ERR_CRYPTO;
    }

    jf_date_format(jf_date_today(), today);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    /* The key before the record's state: the retry of a change that went
     * through must replay its answer, not meet the state it made. */
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    if (row.status != JF_PS_SUSPECTED)
        return jf_resp_problem(req, 409, "transition-refused", "Not a suspected person",
                               "only a suspected person's diagnosis is confirmed here", "status",
                               "must be suspected");
    if (!row.has_id_number && has_id != 1) {
        jf_errors_add(&e, "id_number", "is required to register the patient");
        return jf_errors_respond(req, &e);
    }
    const char *p[] = {row.id,
                       diagnosis,
                       hospital,
                       ddate,
                       onset,
                       has_id == 1 ? pii.cipher : NULL,
                       has_id == 1 ? pii.index : NULL,
                       has_id == 1 ? pii.masked : NULL,
                       has_id == 1 ? (id.male ? "male" : "female") : NULL,
                       has_id == 1 ? iso : NULL,
                       today};
    if (rc == 0)
        rc = jf_db_exec(conn, &diagnose, 11, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        jf_db_rollback(conn);
        rc = jf_record_duplicate(req, conn, pii.index);
        goto out;
    }
    if (rc == 0 && PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Changed meanwhile",
                             "the record changed while you were editing; reload", NULL, NULL);
        goto out;
    }
    if (rc == 0) {
        char detail[128];
        snprintf(detail, sizeof(detail), "{\"diagnosis\":\"%s\"}", diagnosis);
        rc = jf_record_event(JF_ACTOR(req), conn,
                             &(jf_patient_event){.patient_id = row.id,
                                                 .kind = "diagnosed",
                                                 .date = ddate,
                                                 .from_status = "suspected",
                                                 .to_status = "registered",
                                                 .detail_json = detail});
    }
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "patient.diagnose", NULL);
    }
    if (rc == 0)
        rc = commit_and_send(req, conn, row.id, 200, &idem);
out:
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/rule-out {reason, date}: not a patient after all. */
static int rule_out(jf_req *req)
{
    static const char *const allowed[] = {"reason", "date", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    const char *reason, *date;
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    reason = jf_body_str(req, &e, "reason", true, 1, 500);
    date = jf_body_date(req, &e, "date", false);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    /* The key before the record's state: the retry of a change that went
     * through must replay its answer, not meet the state it made. */
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    if (row.status != JF_PS_SUSPECTED)
        return jf_resp_problem(req, 409, "transition-refused", "Not a suspected person",
                               "only a suspected person can be ruled out", "status",
                               "must be suspected");
    if (rc == 0)
        rc =
            jf_record_move(req, conn, &row, JF_PS_RULED_OUT,
                           (jf_patient_event){.kind = "ruled_out", .date = date, .reason = reason});
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "patient.rule_out", NULL);
    }
    if (rc == 0)
        rc = commit_and_send(req, conn, row.id, 200, &idem);
    return rc;
}

static int events(jf_req *req)
{
    jf_patient_row row;
    jf_db_conn *conn;
    jf_buf out;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    const char *p[] = {row.id, jf_record_view(req).clinical ? "true" : "false"};
    rc = jf_db_exec(conn, &events_list, 2, p, &res);
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "patient.events", NULL);
    }
    if (rc == 0) {
        jf_buf_init(&out, 8u << 20);
        rc = jf_buf_printf(&out, "{\"items\":%s}", PQgetvalue(res, 0, 0));
        if (rc == 0)
            rc = jf_resp_json_text(req, 200, out.data, out.len);
        jf_buf_free(&out);
    }
    PQclear(res);
    return rc;
}

/* GET /patients/{id}/audit: who read or changed this record (admins), newest
 * first by the time of the act: batched read records are written after the
 * fact, so ids alone do not give the order. The cursor is the last row's id. */
static int audit(jf_req *req)
{
    jf_errors e = {0};
    jf_patient_row row;
    jf_db_conn *conn;
    jf_buf out;
    PGresult *res = NULL;
    long long before;
    int limit, rc;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &before);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    const char *p[] = {row.id, jf_res_id(req, before), jf_res_id(req, limit)};
    rc = jf_db_exec(conn, &audit_list, 3, p, &res);
    if (rc != 0)
        goto out;
    jf_buf_init(&out, 8u << 20);
    rc = jf_buf_printf(&out, "{\"items\":%s,\"next_cursor\":", PQgetvalue(res, 0, 0));
    if (rc == 0)
        rc = jf_buf_json_str(
            &out, strcmp(PQgetvalue(res, 0, 1), "t") == 0
                      ? jf_res_cursor_encode(req, strtoll(PQgetvalue(res, 0, 2), NULL, 10))
                      : NULL);
    if (rc == 0)
        rc = jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
out:
    PQclear(res);
    return rc;
}

/* PUT /patients/{id}/doctor {doctor_id | null}: the responsible 精防医生,
 * who must be an active doctor serving the patient's area. */
static int assign_doctor(jf_req *req)
{
    static const char *const allowed[] = {"doctor_id", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    long long doctor = 0;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    if (!jf_body_has(req, "doctor_id"))
        jf_errors_add(&e, "doctor_id", "is required (null to clear)");
    else if (!jf_body_null(req, "doctor_id"))
        jf_body_int(req, &e, "doctor_id", true, 1, INT64_MAX, &doctor);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (doctor > 0) {
        const char *dp[] = {jf_res_id(req, doctor)};
        rc = jf_db_exec_sql(conn,
                            "SELECT o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id"
                            " WHERE u.id = $1 AND u.role = 'doctor' AND u.active",
                            1, dp, &res);
        if (rc != 0)
            goto out;
        if (PQntuples(res) == 0 || !jf_scope_contains(PQgetvalue(res, 0, 0), row.org_path))
            jf_errors_add(&e, "doctor_id", "must be an active doctor serving the patient's area");
        PQclear(res);
        res = NULL;
        if (jf_errors_any(&e))
            return jf_errors_respond(req, &e);
    }
    rc = jf_db_begin(conn);
    {
        const char *p[] = {row.id, doctor > 0 ? jf_res_id(req, doctor) : NULL};
        if (rc == 0)
            rc = jf_db_exec_sql(conn,
                                "UPDATE patients SET doctor_id = $2::bigint,"
                                " version = version + 1, updated_at = now() WHERE id = $1",
                                2, p, &res);
    }
    if (rc == 0)
        rc = jf_record_event(JF_ACTOR(req), conn,
                             &(jf_patient_event){.patient_id = row.id,
                                                 .kind = "updated",
                                                 .detail_json = "{\"fields\":[\"doctor_id\"]}"});
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "patient.doctor",
                             jf_arena_printf(&req->arena, "{\"doctor_id\":%lld}", doctor));
    }
    if (rc == 0)
        rc = commit_and_send(req, conn, row.id, 200, NULL);
out:
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"PUT", "/api/v1/patients/{id}/doctor", assign_doctor, JF_ROUTE_AUTH, JF_CAP_PATIENT_REGISTER},
    {"POST", "/api/v1/suspected-reports", report_suspected, JF_ROUTE_AUTH, JF_CAP_PATIENT_REPORT},
    {"POST", "/api/v1/patients/{id}/diagnosis", confirm_diagnosis, JF_ROUTE_AUTH,
     JF_CAP_PATIENT_REGISTER},
    {"POST", "/api/v1/patients/{id}/rule-out", rule_out, JF_ROUTE_AUTH, JF_CAP_PATIENT_REGISTER},
    {"POST", "/api/v1/patients/{id}/status", change_status, JF_ROUTE_AUTH, JF_CAP_PATIENT_REGISTER},
    {"GET", "/api/v1/patients/{id}/events", events, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/patients/{id}/audit", audit, JF_ROUTE_AUTH, JF_CAP_AUDIT_READ},
};

int jf_res_patient_flow_init(void)
{
    jf_stmt *const s[] = {&suspected_insert, &alert_link, &diagnose, &events_list, &audit_list};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
